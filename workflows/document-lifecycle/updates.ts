import {
  approveUpdate,
  cancelObsolescenceUpdate,
  DOCUMENT_STATUSES,
  FailureType,
  reassignTaskUpdate,
  rejectUpdate,
  reviewUpdate,
  scheduleObsolescenceUpdate,
  setEffectiveDateUpdate,
  submitUpdate,
  SYSTEM_SCHEDULER,
  taskReassignedSignal,
} from '../../common';
import type { Document } from './document';
import { guardedUpdate, refuse, requireInstant } from './guarded-update';
import { closeTasks, openRound, openTaskOf, returnToDraft, reviewDueAt, startApproval, signalTimers } from './reviews';

const isoInstant = (value: string) => new Date(Date.parse(value)).toISOString();

/** What people do to a document, each refused with the current state when it does not apply. */
export function acceptUpdates(document: Document): void {
  const { state } = document;

  guardedUpdate(document, submitUpdate, {
    allowedIn: ['DRAFT'],
    action: 'submit',
    apply: async ({ actor }) => {
      state.round++;
      await document.transition({ from: ['DRAFT'], to: 'PENDING_REVIEW', actor, auditAction: 'DOCUMENT_SUBMITTED' });
      const tasks = await openRound(document, 'review');
      await document.transition({
        from: ['PENDING_REVIEW'],
        to: 'UNDER_REVIEW',
        actor: SYSTEM_SCHEDULER,
        auditAction: 'DOCUMENT_REVIEW_STARTED',
      });
      if (tasks.length === 0) await startApproval(document);
    },
  });

  guardedUpdate(document, reviewUpdate, {
    allowedIn: ['UNDER_REVIEW'],
    action: 'review',
    check: ({ actor }) => openTaskOf(state, 'review', actor),
    apply: async ({ actor, decision, comment }, task) => {
      if (decision === 'reject') {
        await closeTasks(document, [task], 'rejected', actor, comment);
        await returnToDraft(document, 'review', actor, comment ?? 'rejected in review');
        return;
      }
      await closeTasks(document, [task], 'approved', actor, comment);
      if (!state.openTasks.some((t) => t.kind === 'review')) await startApproval(document);
    },
  });

  guardedUpdate(document, approveUpdate, {
    allowedIn: ['PENDING_APPROVAL'],
    action: 'approve',
    check: ({ actor }) => openTaskOf(state, 'approval', actor),
    validate: ({ effectiveAt }) => requireInstant(effectiveAt, 'effective_at', state),
    apply: async ({ actor, effectiveAt, comment }, task) => {
      await closeTasks(document, [task], 'approved', actor, comment);
      // The approval that completes the round sets the effective instant.
      if (state.openTasks.some((t) => t.kind === 'approval')) return;
      await document.transition({
        from: ['PENDING_APPROVAL'],
        to: 'APPROVED_PENDING_EFFECTIVE',
        actor,
        comment,
        auditAction: 'DOCUMENT_APPROVED',
        changes: { effectiveAt: isoInstant(effectiveAt) },
        notifyAuthor: 'document_approved',
      });
    },
  });

  guardedUpdate(document, rejectUpdate, {
    allowedIn: ['PENDING_APPROVAL'],
    action: 'reject',
    check: ({ actor }) => openTaskOf(state, 'approval', actor),
    apply: async ({ actor, comment }, task) => {
      await closeTasks(document, [task], 'rejected', actor, comment);
      await returnToDraft(document, 'approval', actor, comment);
    },
  });

  guardedUpdate(document, setEffectiveDateUpdate, {
    allowedIn: ['APPROVED_PENDING_EFFECTIVE'],
    action: 'change the effective date of',
    validate: ({ effectiveAt }) => requireInstant(effectiveAt, 'effective_at', state),
    apply: async ({ actor, effectiveAt }) => {
      await document.transition({
        from: ['APPROVED_PENDING_EFFECTIVE'],
        to: 'APPROVED_PENDING_EFFECTIVE',
        actor,
        auditAction: 'DOCUMENT_EFFECTIVE_DATE_CHANGED',
        changes: { effectiveAt: isoInstant(effectiveAt) },
      });
    },
  });

  guardedUpdate(document, scheduleObsolescenceUpdate, {
    allowedIn: ['EFFECTIVE', 'SCHEDULED_FOR_OBSOLESCENCE'],
    action: 'schedule the obsolescence of',
    // A reload may move the effective instant after validation. An instant that does not parse passes
    // here (NaN compares false) and is refused by `validate`.
    check: ({ obsoleteAt }) => {
      if (state.effectiveAt && Date.parse(obsoleteAt) <= Date.parse(state.effectiveAt)) {
        throw refuse(
          FailureType.InvalidRequest,
          `obsolete_at must be after the effective instant ${state.effectiveAt}`,
          state,
        );
      }
    },
    validate: ({ obsoleteAt }) => requireInstant(obsoleteAt, 'obsolete_at', state),
    apply: async ({ actor, obsoleteAt, reason }) => {
      await document.transition({
        from: ['EFFECTIVE', 'SCHEDULED_FOR_OBSOLESCENCE'],
        to: 'SCHEDULED_FOR_OBSOLESCENCE',
        actor,
        comment: reason,
        auditAction: 'DOCUMENT_OBSOLESCENCE_SCHEDULED',
        changes: { obsoleteAt: isoInstant(obsoleteAt), obsolescenceReason: reason },
      });
    },
  });

  guardedUpdate(document, cancelObsolescenceUpdate, {
    allowedIn: ['SCHEDULED_FOR_OBSOLESCENCE'],
    action: 'cancel the obsolescence of',
    apply: async ({ actor }) => {
      await document.transition({
        from: ['SCHEDULED_FOR_OBSOLESCENCE'],
        to: 'EFFECTIVE',
        actor,
        auditAction: 'DOCUMENT_OBSOLESCENCE_CANCELLED',
        changes: { obsoleteAt: null, obsolescenceReason: null },
      });
    },
  });

  // In any status: what it needs is an open task, and the reassigned task's timers re-armed from its new due instant.
  guardedUpdate(document, reassignTaskUpdate, {
    allowedIn: DOCUMENT_STATUSES,
    action: 'reassign a task of',
    check: ({ taskId }) => {
      const task = state.openTasks.find((t) => t.taskId === taskId);
      if (!task)
        throw refuse(FailureType.InvalidRequest, `task ${taskId} is not open on document ${state.documentId}`, state);
      return task;
    },
    apply: async ({ actor, taskId, assignee }, task) => {
      const reassigned = await document.reassignTask({ taskId, assignee, dueAt: reviewDueAt(state), actor });
      Object.assign(task, { assignee: reassigned.assignee, dueAt: reassigned.dueAt });
      if (document.watches(taskId)) document.taskReassigned(task);
      else {
        await signalTimers(document, task.kind, taskReassignedSignal, {
          taskId,
          assignee: reassigned.assignee,
          dueAt: reassigned.dueAt,
        });
      }
    },
  });
}
