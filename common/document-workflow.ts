import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DocumentStatus } from './document-status';
import type { ReviewKind } from './review-tasks';

/** Workflow id of a document's lifecycle workflow. */
export const documentWorkflowId = (documentId: string) => `document-${documentId}`;

/** The actor recorded when a timer, not a person, makes a change. */
export const SYSTEM_SCHEDULER = 'system_scheduler';

export interface LifecycleSettings {
  reviewDueDays: number;
  escalationDays: number;
  reminderIntervalDays: number;
}

export const DEFAULT_LIFECYCLE_SETTINGS: LifecycleSettings = {
  reviewDueDays: 5,
  escalationDays: 7,
  reminderIntervalDays: 1,
};

export interface OpenTask {
  taskId: string;
  kind: ReviewKind;
  assignee: string;
  dueAt: string;
}

/** What the workflow knows of its document; carried across continue-as-new. */
export interface LifecycleState {
  documentId: string;
  documentNumber: string;
  status: DocumentStatus;
  effectiveAt: string | null;
  obsoleteAt: string | null;
  supersedesId: string | null;
  /** Review and approval rounds so far (a rejection starts the next round on resubmission). */
  round: number;
  openTasks: OpenTask[];
  settings: LifecycleSettings;
}

/** What the database says of a document: enough to (re)start its workflow. */
export interface DocumentFacts {
  documentNumber: string;
  status: DocumentStatus;
  effectiveAt: string | null;
  obsoleteAt: string | null;
  supersedesId: string | null;
}

export interface DocumentLifecycleInput {
  documentId: string;
  /** Given by the starter, so that the workflow can answer updates from its very first moment. */
  document: DocumentFacts;
  settings?: Partial<LifecycleSettings>;
  /** Continue as new once history passes this many events (default 10,000; tests use less). */
  continueAsNewAfterEvents?: number;
  /** Present only when continued-as-new. */
  state?: LifecycleState;
}

export interface Actor {
  actor: string;
}

export interface ReviewDecision extends Actor {
  decision: 'approve' | 'reject';
  comment?: string;
}

export interface ApprovalDecision extends Actor {
  /** ISO instant; past or present means "effective now". */
  effectiveAt: string;
  comment?: string;
}

export interface Rejection extends Actor {
  comment: string;
}

export interface EffectiveDateChange extends Actor {
  effectiveAt: string;
}

export interface ObsolescenceRequest extends Actor {
  obsoleteAt: string;
  reason: string;
}

export interface Reassignment extends Actor {
  taskId: string;
  assignee: string;
}

export const submitUpdate = defineUpdate<LifecycleState, [Actor]>('submit');
export const reviewUpdate = defineUpdate<LifecycleState, [ReviewDecision]>('review');
export const approveUpdate = defineUpdate<LifecycleState, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<LifecycleState, [Rejection]>('reject');
export const setEffectiveDateUpdate = defineUpdate<LifecycleState, [EffectiveDateChange]>('setEffectiveDate');
export const scheduleObsolescenceUpdate = defineUpdate<LifecycleState, [ObsolescenceRequest]>('scheduleObsolescence');
export const cancelObsolescenceUpdate = defineUpdate<LifecycleState, [Actor]>('cancelObsolescence');
export const reassignTaskUpdate = defineUpdate<LifecycleState, [Reassignment]>('reassignTask');

/**
 * The database changed behind the workflow's back (an import, a repair): reload the document's
 * status and dates and re-arm the timers from them. Sent by the date safety-net tasks.
 */
export const reloadSignal = defineSignal('reloadFromDatabase');

/** Sent by a newer version when it becomes EFFECTIVE: this version becomes OBSOLETE. */
export const supersededSignal = defineSignal<[{ byDocumentId: string }]>('superseded');

export const stateQuery = defineQuery<LifecycleState>('state');

/** Review timers (child workflow): a task closed, or its assignee and due instant changed. */
export const taskClosedSignal = defineSignal<[{ taskId: string }]>('taskClosed');
export const taskReassignedSignal =
  defineSignal<[{ taskId: string; assignee: string; dueAt: string }]>('taskReassigned');

export interface ReviewTimersInput {
  documentId: string;
  kind: ReviewKind;
  tasks: OpenTask[];
  settings: LifecycleSettings;
}
