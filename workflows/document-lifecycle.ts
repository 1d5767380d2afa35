import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TransitionRequest } from '../activities/documents';
import { DOCUMENT_ACTIVITY_OPTIONS } from './activity-options';
import {
  FailureType,
  approveUpdate,
  cancelObsolescenceUpdate,
  DAY_MS,
  DEFAULT_LIFECYCLE_SETTINGS,
  DOCUMENT_SEARCH_ATTRIBUTE_KEYS as SA,
  documentWorkflowId,
  reassignTaskUpdate,
  rejectUpdate,
  reviewUpdate,
  scheduleObsolescenceUpdate,
  setEffectiveDateUpdate,
  stateQuery,
  submitUpdate,
  reloadSignal,
  supersededSignal,
  SYSTEM_SCHEDULER,
  taskClosedSignal,
  taskReassignedSignal,
  type DocumentLifecycleInput,
  type DocumentStatus,
  type LifecycleState,
  type OpenTask,
  type ReviewKind,
} from '../common';
import { reviewTimers } from './review-timers';

const activities = proxyActivities<Activities>(DOCUMENT_ACTIVITY_OPTIONS);

/** History is kept well under Temporal's limits by continuing as new between rounds. */
const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

const refuse = (type: string, message: string, state: LifecycleState) =>
  ApplicationFailure.create({ type, message, nonRetryable: true, details: [{ status: state.status }] });

function requireStatus(state: LifecycleState, allowed: DocumentStatus[], action: string): void {
  if (!allowed.includes(state.status)) {
    throw refuse(
      FailureType.InvalidTransition,
      `cannot ${action} document ${state.documentId}: it is ${state.status}`,
      state,
    );
  }
}

function requireInstant(value: string, field: string, state: LifecycleState): number {
  const instant = Date.parse(value);
  if (Number.isNaN(instant))
    throw refuse(FailureType.InvalidRequest, `${field} is not a valid instant: ${value}`, state);
  return instant;
}

function openTaskOf(state: LifecycleState, kind: ReviewKind, actor: string): OpenTask {
  const task = state.openTasks.find((t) => t.kind === kind && t.assignee === actor);
  if (!task)
    throw refuse(FailureType.NotAssigned, `${actor} has no open ${kind} task on document ${state.documentId}`, state);
  return task;
}

const timersWorkflowId = (state: LifecycleState, kind: ReviewKind) =>
  `${documentWorkflowId(state.documentId)}-${kind}-${state.round}`;

/**
 * One controlled document, from DRAFT to OBSOLETE. People act through updates (each refused with
 * the current state when it does not apply); the workflow sleeps until the effective and
 * obsolescence instants and makes those changes itself, to the second, as `system_scheduler`.
 */
export async function documentLifecycle(input: DocumentLifecycleInput): Promise<LifecycleState> {
  const state: LifecycleState = input.state ?? initialState(input);
  const continueAsNewAfterEvents = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
  /** Bumped on every change; the main loop re-arms its timer when it moves. */
  let revision = 0;

  // Changes run one at a time: two reviewers approving together must not both close the round.
  let queue: Promise<unknown> = Promise.resolve();
  function exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = queue.then(change);
    queue = run.catch(() => undefined);
    return run;
  }

  function publish(): void {
    revision++;
    upsertSearchAttributes([
      { key: SA.DocumentStatus, value: state.status },
      { key: SA.DocumentNumber, value: state.documentNumber },
      { key: SA.EffectiveAt, value: state.effectiveAt ? new Date(state.effectiveAt) : null },
      { key: SA.ObsoleteAt, value: state.obsoleteAt ? new Date(state.obsoleteAt) : null },
    ]);
  }

  async function transition(request: Omit<TransitionRequest, 'documentId'>): Promise<void> {
    const { status } = await activities.transitionDocument({ ...request, documentId: state.documentId });
    state.status = status;
    if (request.changes?.effectiveAt !== undefined) state.effectiveAt = request.changes.effectiveAt;
    if (request.changes?.obsoleteAt !== undefined) state.obsoleteAt = request.changes.obsoleteAt;
    publish();
  }

  async function openRound(kind: ReviewKind): Promise<OpenTask[]> {
    const dueAt = new Date(Date.now() + state.settings.reviewDueDays * DAY_MS).toISOString();
    const tasks = await activities.openReviewRound({ documentId: state.documentId, round: state.round, kind, dueAt });
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
  async function closeTasks(
    tasks: OpenTask[],
    status: 'approved' | 'rejected' | 'cancelled',
    actor: string,
    comment?: string,
  ) {
    for (const task of tasks) {
      await activities.closeTask({ taskId: task.taskId, status, actor, comment });
      await getExternalWorkflowHandle(timersWorkflowId(state, task.kind)).signal(taskClosedSignal, {
        taskId: task.taskId,
      });
    }
    const closed = new Set(tasks.map((task) => task.taskId));
    state.openTasks = state.openTasks.filter((task) => !closed.has(task.taskId));
  }

  async function startApproval(): Promise<void> {
    await transition({
      from: ['UNDER_REVIEW'],
      to: 'REVIEWED',
      actor: SYSTEM_SCHEDULER,
      auditAction: 'DOCUMENT_REVIEWED',
    });
    await openRound('approval');
    await transition({
      from: ['REVIEWED'],
      to: 'PENDING_APPROVAL',
      actor: SYSTEM_SCHEDULER,
      auditAction: 'DOCUMENT_APPROVAL_STARTED',
    });
  }

  /** A rejection sends the document back to its author; the next submission starts a new round. */
  async function returnToDraft(kind: ReviewKind, actor: string, comment: string): Promise<void> {
    await closeTasks(state.openTasks, 'cancelled', actor, `round closed by ${actor}'s rejection`);
    await transition({
      from: [kind === 'review' ? 'UNDER_REVIEW' : 'PENDING_APPROVAL'],
      to: 'DRAFT',
      actor,
      comment,
      auditAction: kind === 'review' ? 'DOCUMENT_REVIEW_REJECTED' : 'DOCUMENT_APPROVAL_REJECTED',
    });
  }

  setHandler(stateQuery, () => state);

  setHandler(
    submitUpdate,
    ({ actor }) =>
      exclusive(async () => {
        requireStatus(state, ['DRAFT'], 'submit');
        state.round++;
        await transition({ from: ['DRAFT'], to: 'PENDING_REVIEW', actor, auditAction: 'DOCUMENT_SUBMITTED' });
        const tasks = await openRound('review');
        await transition({
          from: ['PENDING_REVIEW'],
          to: 'UNDER_REVIEW',
          actor: SYSTEM_SCHEDULER,
          auditAction: 'DOCUMENT_REVIEW_STARTED',
        });
        if (tasks.length === 0) await startApproval();
        return state;
      }),
    { validator: (_request) => requireStatus(state, ['DRAFT'], 'submit') },
  );

  setHandler(
    reviewUpdate,
    ({ actor, decision, comment }) =>
      exclusive(async () => {
        requireStatus(state, ['UNDER_REVIEW'], 'review');
        const task = openTaskOf(state, 'review', actor);
        if (decision === 'reject') {
          await closeTasks([task], 'rejected', actor, comment);
          await returnToDraft('review', actor, comment ?? 'rejected in review');
          return state;
        }
        await closeTasks([task], 'approved', actor, comment);
        if (!state.openTasks.some((t) => t.kind === 'review')) await startApproval();
        return state;
      }),
    {
      validator: ({ actor }) => {
        requireStatus(state, ['UNDER_REVIEW'], 'review');
        openTaskOf(state, 'review', actor);
      },
    },
  );

  setHandler(
    approveUpdate,
    ({ actor, effectiveAt, comment }) =>
      exclusive(async () => {
        requireStatus(state, ['PENDING_APPROVAL'], 'approve');
        const task = openTaskOf(state, 'approval', actor);
        await closeTasks([task], 'approved', actor, comment);
        // The approval that completes the round sets the effective instant.
        if (state.openTasks.some((t) => t.kind === 'approval')) return state;
        await transition({
          from: ['PENDING_APPROVAL'],
          to: 'APPROVED_PENDING_EFFECTIVE',
          actor,
          comment,
          auditAction: 'DOCUMENT_APPROVED',
          changes: { effectiveAt: new Date(Date.parse(effectiveAt)).toISOString() },
          notifyAuthor: 'document_approved',
        });
        return state;
      }),
    {
      validator: ({ actor, effectiveAt }) => {
        requireStatus(state, ['PENDING_APPROVAL'], 'approve');
        openTaskOf(state, 'approval', actor);
        requireInstant(effectiveAt, 'effective_at', state);
      },
    },
  );

  setHandler(
    rejectUpdate,
    ({ actor, comment }) =>
      exclusive(async () => {
        requireStatus(state, ['PENDING_APPROVAL'], 'reject');
        const task = openTaskOf(state, 'approval', actor);
        await closeTasks([task], 'rejected', actor, comment);
        await returnToDraft('approval', actor, comment);
        return state;
      }),
    {
      validator: ({ actor }) => {
        requireStatus(state, ['PENDING_APPROVAL'], 'reject');
        openTaskOf(state, 'approval', actor);
      },
    },
  );

  setHandler(
    setEffectiveDateUpdate,
    ({ actor, effectiveAt }) =>
      exclusive(async () => {
        requireStatus(state, ['APPROVED_PENDING_EFFECTIVE'], 'change the effective date of');
        await transition({
          from: ['APPROVED_PENDING_EFFECTIVE'],
          to: 'APPROVED_PENDING_EFFECTIVE',
          actor,
          auditAction: 'DOCUMENT_EFFECTIVE_DATE_CHANGED',
          changes: { effectiveAt: new Date(Date.parse(effectiveAt)).toISOString() },
        });
        return state;
      }),
    {
      validator: ({ effectiveAt }) => {
        requireStatus(state, ['APPROVED_PENDING_EFFECTIVE'], 'change the effective date of');
        requireInstant(effectiveAt, 'effective_at', state);
      },
    },
  );

  const validateObsolescence = (obsoleteAt: string) => {
    requireStatus(state, ['EFFECTIVE', 'SCHEDULED_FOR_OBSOLESCENCE'], 'schedule the obsolescence of');
    const instant = requireInstant(obsoleteAt, 'obsolete_at', state);
    if (state.effectiveAt && instant <= Date.parse(state.effectiveAt)) {
      throw refuse(
        FailureType.InvalidRequest,
        `obsolete_at must be after the effective instant ${state.effectiveAt}`,
        state,
      );
    }
  };

  setHandler(
    scheduleObsolescenceUpdate,
    ({ actor, obsoleteAt, reason }) =>
      exclusive(async () => {
        validateObsolescence(obsoleteAt);
        await transition({
          from: ['EFFECTIVE', 'SCHEDULED_FOR_OBSOLESCENCE'],
          to: 'SCHEDULED_FOR_OBSOLESCENCE',
          actor,
          comment: reason,
          auditAction: 'DOCUMENT_OBSOLESCENCE_SCHEDULED',
          changes: { obsoleteAt: new Date(Date.parse(obsoleteAt)).toISOString(), obsolescenceReason: reason },
        });
        return state;
      }),
    { validator: ({ obsoleteAt }) => validateObsolescence(obsoleteAt) },
  );

  setHandler(
    cancelObsolescenceUpdate,
    ({ actor }) =>
      exclusive(async () => {
        requireStatus(state, ['SCHEDULED_FOR_OBSOLESCENCE'], 'cancel the obsolescence of');
        await transition({
          from: ['SCHEDULED_FOR_OBSOLESCENCE'],
          to: 'EFFECTIVE',
          actor,
          auditAction: 'DOCUMENT_OBSOLESCENCE_CANCELLED',
          changes: { obsoleteAt: null, obsolescenceReason: null },
        });
        return state;
      }),
    { validator: (_request) => requireStatus(state, ['SCHEDULED_FOR_OBSOLESCENCE'], 'cancel the obsolescence of') },
  );

  setHandler(
    reassignTaskUpdate,
    ({ actor, taskId, assignee }) =>
      exclusive(async () => {
        const task = state.openTasks.find((t) => t.taskId === taskId);
        if (!task)
          throw refuse(FailureType.InvalidRequest, `task ${taskId} is not open on document ${state.documentId}`, state);
        const dueAt = new Date(Date.now() + state.settings.reviewDueDays * DAY_MS).toISOString();
        const reassigned = await activities.reassignTask({ taskId, assignee, dueAt, actor });
        Object.assign(task, { assignee: reassigned.assignee, dueAt: reassigned.dueAt });
        await getExternalWorkflowHandle(timersWorkflowId(state, task.kind)).signal(taskReassignedSignal, {
          taskId,
          assignee: reassigned.assignee,
          dueAt: reassigned.dueAt,
        });
        return state;
      }),
    {
      validator: ({ taskId }) => {
        if (!state.openTasks.some((t) => t.taskId === taskId)) {
          throw refuse(FailureType.InvalidRequest, `task ${taskId} is not open on document ${state.documentId}`, state);
        }
      },
    },
  );

  setHandler(supersededSignal, ({ byDocumentId }) => {
    void exclusive(async () => {
      if (state.status !== 'EFFECTIVE' && state.status !== 'SCHEDULED_FOR_OBSOLESCENCE') return;
      await transition({
        from: ['EFFECTIVE', 'SCHEDULED_FOR_OBSOLESCENCE'],
        to: 'OBSOLETE',
        actor: SYSTEM_SCHEDULER,
        comment: `superseded by ${byDocumentId}`,
        auditAction: 'DOCUMENT_SUPERSEDED',
        changes: { obsoleteAt: new Date().toISOString(), obsolescenceReason: 'superseded' },
        notifyAuthor: 'document_superseded',
      });
    });
  });

  setHandler(reloadSignal, () => {
    void exclusive(async () => {
      Object.assign(state, await activities.loadDocument(state.documentId));
      publish();
    });
  });

  /** The instant the document waits for in its current state, if any. */
  const deadline = (): number | undefined => {
    if (state.status === 'APPROVED_PENDING_EFFECTIVE' && state.effectiveAt) return Date.parse(state.effectiveAt);
    if (state.status === 'SCHEDULED_FOR_OBSOLESCENCE' && state.obsoleteAt) return Date.parse(state.obsoleteAt);
    return undefined;
  };

  async function deadlineReached(): Promise<void> {
    if (state.status === 'APPROVED_PENDING_EFFECTIVE') {
      await transition({
        from: ['APPROVED_PENDING_EFFECTIVE'],
        to: 'EFFECTIVE',
        actor: SYSTEM_SCHEDULER,
        auditAction: 'DOC_EFFECTIVE_PROCESSED',
        notifyAuthor: 'document_effective',
      });
      if (state.supersedesId) {
        // The version this one replaces becomes OBSOLETE (reason: superseded) in its own workflow.
        await getExternalWorkflowHandle(documentWorkflowId(state.supersedesId)).signal(supersededSignal, {
          byDocumentId: state.documentId,
        });
      }
    } else if (state.status === 'SCHEDULED_FOR_OBSOLESCENCE') {
      await transition({
        from: ['SCHEDULED_FOR_OBSOLESCENCE'],
        to: 'OBSOLETE',
        actor: SYSTEM_SCHEDULER,
        auditAction: 'DOC_OBSOLETE_PROCESSED',
        notifyAuthor: 'document_obsolete',
      });
    }
  }

  publish();
  while (state.status !== 'OBSOLETE') {
    const seen = revision;
    const waitUntil = deadline();
    const changed =
      waitUntil === undefined
        ? await condition(() => revision !== seen)
        : await condition(() => revision !== seen, Math.max(waitUntil - Date.now(), 1));
    if (!changed) {
      await exclusive(async () => {
        // A change may have slipped in while this waited for its turn.
        if (deadline() === undefined || deadline()! > Date.now()) return;
        try {
          await deadlineReached();
        } catch (error) {
          if (!(error instanceof ActivityFailure)) throw error;
          // The database disagrees (changed outside this workflow): take its word and carry on.
          log.warn('timed transition refused; reloading the document', {
            documentId: state.documentId,
            error: String(error.cause),
          });
          Object.assign(state, await activities.loadDocument(state.documentId));
          publish();
        }
      });
    }
    const quiet = state.openTasks.length === 0;
    if (quiet && workflowInfo().historyLength > continueAsNewAfterEvents) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof documentLifecycle>({
        documentId: state.documentId,
        document: {
          documentNumber: state.documentNumber,
          status: state.status,
          effectiveAt: state.effectiveAt,
          obsoleteAt: state.obsoleteAt,
          supersedesId: state.supersedesId,
        },
        continueAsNewAfterEvents,
        state,
      });
    }
  }
  await condition(allHandlersFinished);
  return state;
}

function initialState({ documentId, document, settings }: DocumentLifecycleInput): LifecycleState {
  return {
    documentId,
    ...document,
    round: 0,
    openTasks: [],
    settings: { ...DEFAULT_LIFECYCLE_SETTINGS, ...settings },
  };
}
