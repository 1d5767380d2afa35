import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type {
  DocumentChangeResult,
  DocumentChangeStep,
  TaskDecision,
  TransitionRequest,
} from '../../activities/documents';
import {
  DEFAULT_LIFECYCLE_SETTINGS,
  DOCUMENT_SEARCH_ATTRIBUTE_KEYS as SA,
  NON_RETRYABLE_DOCUMENT_ERRORS,
  type DocumentLifecycleInput,
  type DocumentStatus,
  type LifecycleState,
  type OpenTask,
  type ReviewKind,
} from '../../common';
import { DOCUMENT_ACTIVITY_OPTIONS, DOCUMENT_LOCAL_ACTIVITY_OPTIONS } from '../activity-options';
import { BackgroundWork } from '../background-work';
import { RearmableDeadline } from '../deadline';
import {
  closeWatched,
  reassignWatched,
  watchedTask,
  watchTask,
  type OverdueNotice,
  type WatchedTask,
} from '../review-reminders';
import { PendingChanges } from './pending-changes';

/**
 * Changes made after this patch run the document's database transactions as local activities and
 * deliver the emails they write as activities of this workflow, instead of an activity task per
 * transaction and a `notificationDelivery` workflow per email: less than half of the server's work
 * per change, which is what bounds a burst of documents due at one instant on the dev server.
 * Histories recorded before it replay their activities and delivery workflows unchanged.
 */
export const LOCAL_ACTIVITIES_PATCH = 'document-local-activities';

/**
 * Changes made after this patch start a round's review timers and signal them without waiting for
 * the server to confirm: an update then answers after one workflow task instead of two or three
 * (about half of a submit's or a review's latency on the dev server). A signal waits only for the
 * start of the timers it is for. Histories recorded before it replay the waits unchanged.
 */
export const BACKGROUND_TIMERS_PATCH = 'review-timers-in-background';

/**
 * Changes made after this patch write all their database steps (task closings, transitions, a
 * round's opening) in one local activity and one transaction, instead of a local activity per step:
 * a review that completes its round takes two local activities instead of four, an approval one
 * instead of two. A step whose result the change needs (the tasks of a round) writes the steps held
 * so far; the rest are written when the change ends. Each write is whole or not at all, and a
 * refused one puts the state back as it was before it; a change that opened a round keeps the round
 * it wrote. Histories recorded before it replay a local activity per step.
 */
export const ONE_TRANSACTION_PATCH = 'document-one-transaction-per-change';

/**
 * Rounds opened after this patch have their tasks' reminders and escalations sent by this workflow
 * itself, by timers, instead of by a `reviewTimers` child workflow per round that the document
 * signals when a task closes or moves: per document through approval, two child workflows fewer,
 * with their starts, signals and completions (about 40 % of the server's tasks in the
 * create-to-approved flow). Rounds opened before it keep their child to the end.
 */
export const TIMERS_IN_DOCUMENT_PATCH = 'review-timers-in-document';

const activities = proxyActivities<Activities>(DOCUMENT_ACTIVITY_OPTIONS);
const localActivities = proxyLocalActivities<Activities>(DOCUMENT_LOCAL_ACTIVITY_OPTIONS);

/** Asked at every change, as `patched()` must be: a run recorded before the patch replays the old way. */
const local = () => patched(LOCAL_ACTIVITIES_PATCH);
/** Asked wherever review timers are started or signalled (see BACKGROUND_TIMERS_PATCH). */
export const timersInBackground = () => patched(BACKGROUND_TIMERS_PATCH);
/** Asked when a round opens (see TIMERS_IN_DOCUMENT_PATCH). */
export const timersInDocument = () => patched(TIMERS_IN_DOCUMENT_PATCH);
/** Asked at the start of every change and at each of its database steps (see ONE_TRANSACTION_PATCH). */
export const oneTransactionPerChange = () => local() && patched(ONE_TRANSACTION_PATCH);

/**
 * A document activity that failed for good: an activity's failure arrives wrapped in an
 * ActivityFailure, a local activity's as the activity's own ApplicationFailure (only the
 * non-retryable ones reach the workflow; the others are retried until they pass).
 */
export function isDocumentActivityFailure(error: unknown): boolean {
  if (error instanceof ActivityFailure) return true;
  return error instanceof ApplicationFailure && NON_RETRYABLE_DOCUMENT_ERRORS.some((type) => type === error.type);
}

/**
 * One controlled document as its workflow holds it: the state, and the ways it changes that every
 * update, signal and timer of the lifecycle shares.
 */
export class Document {
  /** The effective or obsolescence instant the workflow sleeps until; every published change re-arms it. */
  readonly deadline = new RearmableDeadline();
  /** Review timers started without waiting, by workflow id: settled once the server has started them (or refused). */
  readonly timersStarted = new Map<string, Promise<void>>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly work: BackgroundWork;
  private readonly pending: PendingChanges;
  /** Open tasks whose reminders are being sent from here (see TIMERS_IN_DOCUMENT_PATCH), by task id. */
  private readonly watched = new Map<string, WatchedTask>();
  /** Every task of a round opened after TIMERS_IN_DOCUMENT_PATCH: its round has no child workflow to signal. */
  private readonly ownTasks = new Set<string>();
  /** A change is running that writes its steps in one transaction when it ends. */
  private batching = false;

  constructor(readonly state: LifecycleState) {
    this.work = new BackgroundWork({ documentId: state.documentId });
    this.pending = new PendingChanges(state);
  }

  /** Changes run one at a time: two reviewers approving together must not both close the round. */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => (oneTransactionPerChange() ? this.inOneTransaction(change) : change()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Some database step of the running change is not written yet. */
  get hasPendingChanges(): boolean {
    return this.pending.any;
  }

  /**
   * Writes the steps of the running change held so far, in one local activity, and delivers the
   * emails they wrote; answers what each step did. A step the database refuses undoes them all and
   * puts the state back: the failure is thrown as a step's used to be (isDocumentActivityFailure).
   */
  async writePendingChanges(): Promise<DocumentChangeResult[]> {
    const documentId = this.state.documentId;
    let written;
    try {
      written = await this.pending.write((steps) => localActivities.recordChanges({ documentId, steps }));
    } catch (error) {
      this.publish();
      throw error;
    }
    if (!written) return [];
    this.deliver(written.notificationKeys);
    return written.results;
  }

  /**
   * Settles true once the steps held so far are committed, false if they are refused: what is told
   * to other workflows about them (a task's timers stopping) waits for it.
   */
  committed(): Promise<boolean> {
    return this.pending.committed();
  }

  private async inOneTransaction<T>(change: () => Promise<T>): Promise<T> {
    this.batching = true;
    try {
      const result = await change();
      await this.writePendingChanges();
      return result;
    } catch (error) {
      // Steps a failed change did not reach writing are dropped with what they did to the state.
      if (this.pending.drop()) this.publish();
      throw error;
    } finally {
      this.batching = false;
    }
  }

  /** Holds a step for the change's transaction, or writes it at once outside a change. */
  private async hold(step: DocumentChangeStep): Promise<void> {
    this.pending.add(step);
    if (!this.batching) await this.writePendingChanges();
  }

  /** Operators find documents by status and dates (`temporal workflow list --query`). */
  publish(): void {
    this.deadline.rearm();
    upsertSearchAttributes([
      { key: SA.DocumentStatus, value: this.state.status },
      { key: SA.DocumentNumber, value: this.state.documentNumber },
      { key: SA.EffectiveAt, value: this.state.effectiveAt ? new Date(this.state.effectiveAt) : null },
      { key: SA.ObsoleteAt, value: this.state.obsoleteAt ? new Date(this.state.obsoleteAt) : null },
    ]);
  }

  /**
   * Moves the document in the database (with its transition, audit and outbox rows), then here.
   * The activity refuses with DocumentStateConflict when the database is no longer in `from`.
   */
  async transition(request: Omit<TransitionRequest, 'documentId'>): Promise<void> {
    const documentId = this.state.documentId;
    let status: DocumentStatus;
    if (oneTransactionPerChange()) {
      // The state moves now; a refused write puts it back (PendingChanges).
      await this.hold({ step: 'transition', ...request });
      status = request.to;
    } else if (local()) {
      const result = await localActivities.recordTransition({ ...request, documentId });
      this.deliver(result.notificationKeys);
      status = result.status;
    } else {
      ({ status } = await activities.transitionDocument({ ...request, documentId }));
    }
    this.state.status = status;
    if (request.changes?.effectiveAt !== undefined) this.state.effectiveAt = request.changes.effectiveAt;
    if (request.changes?.obsoleteAt !== undefined) this.state.obsoleteAt = request.changes.obsoleteAt;
    this.publish();
  }

  /** The database changed behind the workflow's back: take its status and dates, and re-arm from them. */
  async reload(): Promise<void> {
    if (this.pending.any) await this.writePendingChanges();
    const load = local() ? localActivities.loadDocument : activities.loadDocument;
    Object.assign(this.state, await load(this.state.documentId));
    this.publish();
  }

  /** Gives a round's tasks to the document's reviewers or approvers, each told by email. */
  async openReviewRound(request: { round: number; kind: ReviewKind; dueAt: string }): Promise<OpenTask[]> {
    const documentId = this.state.documentId;
    if (oneTransactionPerChange()) {
      // The tasks come from the database: the steps held so far are written with the round's.
      this.pending.add({ step: 'openRound', ...request });
      const results = await this.writePendingChanges();
      const opened = results[results.length - 1];
      return opened && 'tasks' in opened ? opened.tasks : [];
    }
    if (!local()) return activities.openReviewRound({ ...request, documentId });
    const { tasks, notificationKeys } = await localActivities.recordReviewRound({ ...request, documentId });
    this.deliver(notificationKeys);
    return tasks;
  }

  /** Closes a pending task with its decision (a task already closed stays as it is). */
  async closeTask(decision: TaskDecision): Promise<void> {
    if (oneTransactionPerChange()) return this.hold({ step: 'closeTask', ...decision });
    await (local() ? localActivities.closeTask : activities.closeTask)(decision);
  }

  /** Hands a pending task to another user with a new due instant, and tells them by email. */
  async reassignTask(request: { taskId: string; assignee: string; dueAt: string; actor: string }): Promise<OpenTask> {
    if (this.pending.any) await this.writePendingChanges();
    if (!local()) return activities.reassignTask(request);
    const { task, notificationKeys } = await localActivities.recordTaskReassignment(request);
    this.deliver(notificationKeys);
    return task;
  }

  /**
   * Sends the reminders and the escalation of a round's tasks from here, until each is closed (or
   * found closed in the database). Tasks no longer open in the state (a round that replaced theirs)
   * stop being watched. Counted as background work: the run ends or continues as new only once
   * every watcher has stopped.
   */
  watch(tasks: readonly OpenTask[]): void {
    for (const [taskId, watched] of this.watched) {
      if (!this.state.openTasks.some((task) => task.taskId === taskId)) closeWatched(watched);
    }
    for (const task of tasks) {
      this.ownTasks.add(task.taskId);
      const watched = watchedTask(task);
      this.watched.set(task.taskId, watched);
      const reminders = watchTask(watched, this.state.settings, (notice) => this.notifyOverdue(notice));
      void this.background(
        reminders.finally(() => {
          if (this.watched.get(task.taskId) === watched) this.watched.delete(task.taskId);
        }),
        'the reminders of a task stopped before it closed',
        { taskId: task.taskId },
      );
    }
  }

  /** The task's round was opened after TIMERS_IN_DOCUMENT_PATCH: its reminders are sent from here. */
  watches(taskId: string): boolean {
    return this.ownTasks.has(taskId);
  }

  /** The task was closed: its reminders stop once the change is committed, and go on if it is refused. */
  taskClosed(taskId: string): void {
    const watched = this.watched.get(taskId);
    if (!watched) return;
    void this.committed().then((committed) => committed && closeWatched(watched));
  }

  /**
   * The task has a new assignee and due instant: its reminders start again from that instant (a
   * watcher that had stopped on a failure starts anew).
   */
  taskReassigned(task: OpenTask): void {
    const watched = this.watched.get(task.taskId);
    if (watched) reassignWatched(watched, { assignee: task.assignee, dueAt: task.dueAt });
    else this.watch([task]);
  }

  /** Nothing this run started in the background is still going: the run may end or continue as new. */
  settled(): boolean {
    return this.work.settled() && !this.batching && !this.pending.any;
  }

  /**
   * After ONE_TRANSACTION_PATCH a change moves the state before writing it: while one runs, the
   * state may be ahead of the database (or about to be put back). Settles once it has ended;
   * undefined when none runs (always before the patch).
   */
  changeInProgress(): Promise<void> | undefined {
    if (!this.batching && !this.pending.any) return undefined;
    return condition(() => !this.batching && !this.pending.any);
  }

  /** Lets `work` go on while the change that started it answers (see BackgroundWork). */
  background(work: Promise<unknown>, message: string, details: Record<string, unknown>): Promise<void> {
    return this.work.run(work, message, details);
  }

  /**
   * Writes a reminder or an escalation and delivers its emails without waiting for them; answers
   * true when the database has the task closed already (its watcher then stops).
   */
  private async notifyOverdue(notice: OverdueNotice): Promise<boolean> {
    const { notificationKeys, closed } = await localActivities.recordOverdueTask(notice);
    this.deliver(notificationKeys);
    return closed === true;
  }

  private deliver(notificationKeys: readonly string[]): void {
    this.work.deliver(notificationKeys);
  }
}

/** A new document's state: no round yet, settings from the starter over the defaults. */
export function initialState({ documentId, document, settings }: DocumentLifecycleInput): LifecycleState {
  return {
    documentId,
    ...document,
    round: 0,
    openTasks: [],
    settings: { ...DEFAULT_LIFECYCLE_SETTINGS, ...settings },
  };
}
