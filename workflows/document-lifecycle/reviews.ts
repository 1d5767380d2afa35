import { getExternalWorkflowHandle, startChild } from '@temporalio/workflow';
import type { SignalDefinition } from '@temporalio/common';
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
import { oneTransactionPerChange, timersInBackground, timersInDocument, type Document } from './document';
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

/** Gives the round's tasks to the document's reviewers or approvers, and starts their reminders. */
export async function openRound(document: Document, kind: ReviewKind): Promise<OpenTask[]> {
  const { state } = document;
  const tasks = await document.openReviewRound({
    round: state.round,
    kind,
    dueAt: reviewDueAt(state),
  });
  state.openTasks = tasks;
  if (tasks.length === 0) return tasks;
  if (timersInDocument()) {
    document.watch(tasks);
    return tasks;
  }
  const workflowId = timersWorkflowId(state, kind);
  const inBackground = timersInBackground();
  const started = startChild(reviewTimers, {
    workflowId,
    args: [{ documentId: state.documentId, kind, tasks, settings: state.settings }],
  });
  if (!inBackground) {
    await started;
    return tasks;
  }
  // The tasks are in the database already; their reminders must not hold up the answer.
  document.timersStarted.set(
    workflowId,
    document.background(started, 'the review timers did not start; the tasks get no reminders', { workflowId }),
  );
  return tasks;
}

/**
 * Tells the timers of a round about one of its tasks, once they have started. In the background
 * (see BACKGROUND_TIMERS_PATCH): the task's change is in the database already, and timers that
 * ended or never started have nothing left to stop.
 */
export async function signalTimers<Args extends unknown[]>(
  document: Document,
  kind: ReviewKind,
  signal: SignalDefinition<Args>,
  ...args: Args
): Promise<void> {
  const workflowId = timersWorkflowId(document.state, kind);
  const signalled = () => getExternalWorkflowHandle(workflowId).signal(signal, ...args);
  if (!timersInBackground()) return signalled();
  const started = document.timersStarted.get(workflowId) ?? Promise.resolve();
  // After ONE_TRANSACTION_PATCH the task's change is written when the change ends: the timers hear
  // of it once it is committed, and not at all if it is refused.
  const sent = oneTransactionPerChange()
    ? Promise.all([started, document.committed()]).then(([, committed]) => (committed ? signalled() : undefined))
    : started.then(signalled);
  void document.background(sent, `the review timers did not get the signal ${signal.name}`, { workflowId });
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
    if (document.watches(task.taskId)) document.taskClosed(task.taskId);
    else await signalTimers(document, task.kind, taskClosedSignal, { taskId: task.taskId });
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
