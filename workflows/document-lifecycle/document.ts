import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { TransitionRequest } from '../../activities/documents';
import {
  DEFAULT_LIFECYCLE_SETTINGS,
  DOCUMENT_SEARCH_ATTRIBUTE_KEYS as SA,
  type DocumentLifecycleInput,
  type LifecycleState,
} from '../../common';
import { DOCUMENT_ACTIVITY_OPTIONS } from '../activity-options';
import { RearmableDeadline } from '../deadline';

export const activities = proxyActivities<Activities>(DOCUMENT_ACTIVITY_OPTIONS);

/**
 * One controlled document as its workflow holds it: the state, and the ways it changes that every
 * update, signal and timer of the lifecycle shares.
 */
export class Document {
  /** The effective or obsolescence instant the workflow sleeps until; every published change re-arms it. */
  readonly deadline = new RearmableDeadline();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly state: LifecycleState) {}

  /** Changes run one at a time: two reviewers approving together must not both close the round. */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change);
    this.queue = run.catch(() => undefined);
    return run;
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
    const { status } = await activities.transitionDocument({ ...request, documentId: this.state.documentId });
    this.state.status = status;
    if (request.changes?.effectiveAt !== undefined) this.state.effectiveAt = request.changes.effectiveAt;
    if (request.changes?.obsoleteAt !== undefined) this.state.obsoleteAt = request.changes.obsoleteAt;
    this.publish();
  }

  /** The database changed behind the workflow's back: take its status and dates, and re-arm from them. */
  async reload(): Promise<void> {
    Object.assign(this.state, await activities.loadDocument(this.state.documentId));
    this.publish();
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
