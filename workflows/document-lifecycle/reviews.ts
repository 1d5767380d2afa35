import { getExternalWorkflowHandle, startChild } from '@temporalio/workflow';
import {
  DAY_MS,
  documentWorkflowId,
  FailureType,
  SYSTEM_SCHEDULER,
  taskClosedSignal,
  type ClosedReviewTaskStatus,
  type LifecycleState,
  type OpenTask,
  type ReviewKind,
} from '../../common';
import { reviewTimers } from '../review-timers';
import type { Document } from './document';
import { refuse } from './guarded-update';

/** The review timers of one round: `document-<id>-<kind>-<round>`. */
export const timersWorkflowId = (state: LifecycleState, kind: ReviewKind) =>
  `${documentWorkflowId(state.documentId)}-${kind}-${state.round}`;

/** The actor's open task of this kind; refused as NotAssigned when there is none. */
export function openTaskOf(state: LifecycleState, kind: ReviewKind, actor: string): OpenTask {
  const task = state.openTasks.find((t) => t.kind === kind && t.assignee === actor);
  if (!task)
    throw refuse(FailureType.NotAssigned, `${actor} has no open ${kind} task on document ${state.documentId}`, state);
  return task;
}

/** When a task given now is due (ISO instant): `reviewDueDays` later, for its first assignee or a new one. */
export const reviewDueAt = (state: LifecycleState) =>
  new Date(Date.now() + state.settings.reviewDueDays * DAY_MS).toISOString();

/** Gives the round's tasks to the document's reviewers or approvers, and starts their timers. */
export async function openRound(document: Document, kind: ReviewKind): Promise<OpenTask[]> {
  const { state } = document;
  const tasks = await document.openReviewRound({
    round: state.round,
    kind,
    dueAt: reviewDueAt(state),
  });
  state.openTasks = tasks;
  if (tasks.length > 0) {
    await startChild(reviewTimers, {
      workflowId: timersWorkflowId(state, kind),
      args: [{ documentId: state.documentId, kind, tasks, settings: state.settings }],
    });
  }
  return tasks;
}

/** Closes tasks in the database and stops their timers. */
export async function closeTasks(
  document: Document,
  tasks: OpenTask[],
  status: ClosedReviewTaskStatus,
  actor: string,
  comment?: string,
): Promise<void> {
  const { state } = document;
  for (const task of tasks) {
    await document.closeTask({ taskId: task.taskId, status, actor, comment });
    await getExternalWorkflowHandle(timersWorkflowId(state, task.kind)).signal(taskClosedSignal, {
      taskId: task.taskId,
    });
  }
  const closed = new Set(tasks.map((task) => task.taskId));
  state.openTasks = state.openTasks.filter((task) => !closed.has(task.taskId));
}

/** The last review decided: the document is REVIEWED and goes to its approvers. */
export async function startApproval(document: Document): Promise<void> {
  await document.transition({
    from: ['UNDER_REVIEW'],
    to: 'REVIEWED',
    actor: SYSTEM_SCHEDULER,
    auditAction: 'DOCUMENT_REVIEWED',
  });
  await openRound(document, 'approval');
  await document.transition({
    from: ['REVIEWED'],
    to: 'PENDING_APPROVAL',
    actor: SYSTEM_SCHEDULER,
    auditAction: 'DOCUMENT_APPROVAL_STARTED',
  });
}

/** A rejection sends the document back to its author; the next submission starts a new round. */
export async function returnToDraft(
  document: Document,
  kind: ReviewKind,
  actor: string,
  comment: string,
): Promise<void> {
  await closeTasks(document, document.state.openTasks, 'cancelled', actor, `round closed by ${actor}'s rejection`);
  await document.transition({
    from: [kind === 'review' ? 'UNDER_REVIEW' : 'PENDING_APPROVAL'],
    to: 'DRAFT',
    actor,
    comment,
    auditAction: kind === 'review' ? 'DOCUMENT_REVIEW_REJECTED' : 'DOCUMENT_APPROVAL_REJECTED',
  });
}
