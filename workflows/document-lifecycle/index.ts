import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  reloadSignal,
  stateQuery,
  supersededSignal,
  type DocumentLifecycleInput,
  type LifecycleState,
} from '../../common';
import { Document, initialState, oneTransactionPerChange } from './document';
import { instantAwaited, instantReached, superseded } from './timers';
import { acceptUpdates } from './updates';

/** History is kept well under Temporal's limits by continuing as new between rounds. */
const DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

/**
 * One controlled document, from DRAFT to OBSOLETE. People act through updates (each refused with
 * the current state when it does not apply); the workflow sleeps until the effective and
 * obsolescence instants and makes those changes itself, to the second, as `system_scheduler`.
 *
 *   DRAFT ─submit→ PENDING_REVIEW → UNDER_REVIEW ─last review→ REVIEWED → PENDING_APPROVAL
 *     ─last approval→ APPROVED_PENDING_EFFECTIVE ─effective instant→ EFFECTIVE
 *     ─scheduleObsolescence→ SCHEDULED_FOR_OBSOLESCENCE ─obsolescence instant→ OBSOLETE
 *   a rejection (review or approval) → DRAFT; setEffectiveDate and scheduleObsolescence move an
 *   instant; cancelObsolescence → EFFECTIVE; a newer version becoming EFFECTIVE (superseded) → OBSOLETE.
 *
 * Updates: ./updates.ts; review rounds: ./reviews.ts; the instants: ./timers.ts.
 */
export async function documentLifecycle(input: DocumentLifecycleInput): Promise<LifecycleState> {
  const document = new Document(input.state ?? initialState(input));
  const { state, deadline } = document;
  const continueAsNewAfterEvents = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;

  setHandler(stateQuery, () => state);
  acceptUpdates(document);
  setHandler(supersededSignal, ({ byDocumentId }) => void document.exclusive(() => superseded(document, byDocumentId)));
  setHandler(reloadSignal, () => void document.exclusive(() => document.reload()));

  document.publish();
  for (;;) {
    while (state.status !== 'OBSOLETE') {
      // The instant is read afresh from the state, so changes made before now are already in it.
      deadline.settle();
      const at = instantAwaited(state);
      const reached = await deadline.sleepUntil(at);
      // A change that woke this may still be writing: what is read below must be the database's.
      const changing = document.changeInProgress();
      if (changing) await changing;
      // Woken by a change while waiting for an instant: read the new one and sleep again. Woken from a
      // status without one, the change may have set one already past (approved with a past effective
      // instant, a reload): it is checked at once, with no timer.
      if (reached || at === undefined) await document.exclusive(() => instantReached(document));
      const quiet = state.openTasks.length === 0;
      if (quiet && workflowInfo().historyLength > continueAsNewAfterEvents) {
        // A new run would not hear how its emails and timer starts went: it starts once they are done.
        await condition(() => allHandlersFinished() && document.settled());
        // A change made meanwhile may have opened a round, whose reminders run in this run.
        if (oneTransactionPerChange() && state.openTasks.length > 0) continue;
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
    await condition(() => allHandlersFinished() && document.settled());
    // A change refused after it had moved the state to OBSOLETE puts it back (ONE_TRANSACTION_PATCH).
    if (state.status === 'OBSOLETE') return state;
  }
}
