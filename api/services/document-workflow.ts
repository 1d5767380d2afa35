import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import {
  FailureType,
  documentWorkflowId,
  TASK_QUEUES,
  type DocumentFacts,
  type LifecycleSettings,
  type LifecycleState,
} from '../../common';
import type { Database } from '../../db';
import { ApiError, badRequest, conflict, forbidden } from '../errors';
import { getDocument, type DocumentView } from './document-views';

/** Starts the workflow of a document just inserted (inside the inserting transaction). */
export async function startDocumentWorkflow(
  client: Client,
  documentId: string,
  document: DocumentFacts,
  settings: LifecycleSettings,
): Promise<void> {
  await client.workflow.start('documentLifecycle', {
    taskQueue: TASK_QUEUES.documents,
    workflowId: documentWorkflowId(documentId),
    args: [{ documentId, document, settings }],
  });
}

/** The current status a refusal carries in its details (set by the workflow). */
function statusOf(failure: ApplicationFailure): unknown {
  const [details] = failure.details ?? [];
  return (details as { status?: unknown } | undefined)?.status;
}

/** Translates a refused or failed update into the HTTP answer it deserves. */
function toApiError(error: unknown): unknown {
  if (error instanceof WorkflowNotFoundError) {
    return new ApiError(409, 'workflow_not_running', `The document's workflow is not running: ${error.message}`);
  }
  if (!(error instanceof WorkflowUpdateFailedError)) return error;
  let cause = error.cause;
  if (cause instanceof ActivityFailure) cause = cause.cause;
  if (cause instanceof ApplicationFailure) {
    switch (cause.type) {
      case FailureType.InvalidTransition:
        return conflict('invalid_transition', cause.message, { current_status: statusOf(cause) });
      case FailureType.InvalidRequest:
        return badRequest('invalid_request', cause.message);
      case FailureType.NotAssigned:
        return forbidden(cause.message);
      case FailureType.DocumentStateConflict:
        return conflict('invalid_transition', cause.message);
      case FailureType.UnknownAssignee:
        return badRequest('unknown_user', cause.message);
    }
  }
  return error;
}

/** Sends an update to a document's workflow and waits for its result (the document's new state). */
export async function updateDocument<Input>(
  client: Client,
  documentId: string,
  update: UpdateDefinition<LifecycleState, [Input]>,
  input: Input,
): Promise<LifecycleState> {
  const handle = client.workflow.getHandle(documentWorkflowId(documentId));
  try {
    return await handle.executeUpdate(update, { args: [input] });
  } catch (error) {
    throw toApiError(error);
  }
}

/**
 * Who may ask for a lifecycle action: `author-or-admin`, the document's author or any admin (403
 * otherwise); `assigned`, whoever the workflow finds assigned to the open task (it refuses others).
 */
export type ActionRule = 'author-or-admin' | 'assigned';

/**
 * One lifecycle action on a document, answered with the document as it is afterwards. The document
 * must exist (404) and the rule must let `user` act before `input` is built, so a bad date in the
 * body is a 400 only for someone who may act at all.
 */
export async function actOnDocument<Input>(
  deps: { db: Database; temporal: Client },
  documentId: string,
  user: { username: string; role: string },
  rule: ActionRule,
  update: UpdateDefinition<LifecycleState, [Input]>,
  input: (actor: string) => Input,
): Promise<DocumentView> {
  const document = await getDocument(deps.db, documentId);
  if (rule === 'author-or-admin' && user.role !== 'admin' && document.author !== user.username) {
    throw forbidden(`Only the author (${document.author}) or an admin may do this`);
  }
  try {
    await updateDocument(deps.temporal, documentId, update, input(user.username));
  } catch (error) {
    throw await catchingUp(deps.db, documentId, error);
  }
  return getDocument(deps.db, documentId);
}

/**
 * A refusal from a workflow whose status is behind the database's: its last change committed, but
 * the workflow has not heard so yet (its worker died after the commit; a new one will retry the
 * activity and find it done). Refusing with the workflow's stale status would be a lie a client
 * cannot act on: it is a 503 to retry instead. Any other error is returned as it is.
 */
async function catchingUp(db: Database, documentId: string, error: unknown): Promise<unknown> {
  if (!(error instanceof ApiError) || error.code !== 'invalid_transition') return error;
  const workflowStatus = (error.details as { current_status?: unknown } | undefined)?.current_status;
  if (workflowStatus === undefined) return error;
  const { status } = await getDocument(db, documentId);
  if (status === workflowStatus) return error;
  return new ApiError(
    503,
    'document_catching_up',
    `The document is ${status} but its workflow has not caught up with that change yet; retry shortly`,
    { current_status: status, workflow_status: workflowStatus },
  );
}
