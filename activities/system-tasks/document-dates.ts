import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { and, eq, lte, sql } from 'drizzle-orm';
import { documentWorkflowId, reloadSignal, type DocumentStatus, type DocumentTaskResult } from '../../common';
import { documentFacts, schema, type DocumentRow } from '../../db';
import { isWorkflowRunning } from '../../lib/temporal';
import type { SystemTaskDeps, TaskRequest } from './settings';

const { documents } = schema;

/** A workflow fires its timer to the second; a document later than this was missed. */
const GRACE = '1 minute';

export type Action = 'workflow_signalled' | 'workflow_started';

/**
 * Hands a document back to its workflow: a running one reloads it from the database, a missing one
 * is started from it. Also how a database restore reaches every document's workflow.
 */
export async function wakeDocumentWorkflow(
  { temporal, settings }: Pick<SystemTaskDeps, 'temporal' | 'settings'>,
  row: DocumentRow,
  dryRun: boolean,
): Promise<Action | `would_${string}`> {
  const handle = temporal.workflow.getHandle(documentWorkflowId(row.id));
  const running = await isWorkflowRunning(temporal, handle.workflowId);
  if (dryRun) return running ? 'would_signal_workflow' : 'would_start_workflow';
  if (running) {
    await handle.signal(reloadSignal);
    return 'workflow_signalled';
  }
  try {
    await temporal.workflow.start('documentLifecycle', {
      taskQueue: settings.documentsTaskQueue,
      workflowId: documentWorkflowId(row.id),
      args: [{ documentId: row.id, document: documentFacts(row), settings: settings.lifecycle }],
    });
    return 'workflow_started';
  } catch (error) {
    // Started meanwhile (by the API or a concurrent run): it reads the same database.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    await handle.signal(reloadSignal);
    return 'workflow_signalled';
  }
}

/**
 * The hourly safety nets that replaced the Celery sweeps. Document workflows make documents
 * EFFECTIVE and OBSOLETE themselves; these find the ones whose instant passed without it (a document
 * imported straight into the database, a workflow terminated by hand) and hand them back to their
 * workflow: a running one is told to reload from the database, a missing one is started.
 */
export function createDocumentDateTasks(deps: SystemTaskDeps) {
  const wakeWorkflow = (row: DocumentRow, dryRun: boolean) => wakeDocumentWorkflow(deps, row, dryRun);
  const { db } = deps.database;

  async function sweep(
    status: DocumentStatus,
    instant: typeof documents.effectiveAt | typeof documents.obsoleteAt,
    { dryRun }: TaskRequest,
  ): Promise<DocumentTaskResult> {
    const overdue = await db
      .select()
      .from(documents)
      .where(and(eq(documents.status, status), lte(instant, sql`now() - ${GRACE}::interval`)))
      .orderBy(instant);
    const result: DocumentTaskResult = {
      processed_count: overdue.length,
      success_count: 0,
      error_count: 0,
      processed_documents: [],
      errors: [],
      timestamp: new Date().toISOString(),
      dry_run: dryRun,
    };
    for (const row of overdue) {
      try {
        const action = await wakeWorkflow(row, dryRun);
        result.processed_documents.push({ id: row.id, document_number: row.documentNumber, action });
        result.success_count++;
      } catch (error) {
        result.errors.push({ id: row.id, document_number: row.documentNumber, error: (error as Error).message });
        result.error_count++;
      }
    }
    return result;
  }

  return {
    async processDocumentEffectiveDates(request: TaskRequest): Promise<DocumentTaskResult> {
      return sweep('APPROVED_PENDING_EFFECTIVE', documents.effectiveAt, request);
    },
    async processDocumentObsoletionDates(request: TaskRequest): Promise<DocumentTaskResult> {
      return sweep('SCHEDULED_FOR_OBSOLESCENCE', documents.obsoleteAt, request);
    },
  };
}
