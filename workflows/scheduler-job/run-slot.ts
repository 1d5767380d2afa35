import { CancellationScope, condition, defineSignal, patched, setHandler } from '@temporalio/workflow';
import { JOB_RUN_SLOT_FREED_SIGNAL, type JobRunOutcome, type JobRunPlan } from '../../common';
import { bookkeeping, type JobRunState } from './bookkeeping';

/** The slot is this run's now (a `buffer_one` run that waited for the previous one). */
const slotFreedSignal = defineSignal(JOB_RUN_SLOT_FREED_SIGNAL);

/**
 * Since this patch every run of a `skip` or `buffer_one` job holds the job's run slot while it works,
 * whoever started it; runs recorded before it replay without the slot.
 */
const RUN_SLOT_PATCH = 'job-run-slot';

/**
 * A waiting run is woken by the run it waits for; it also asks again this often, for a run that was
 * terminated and so never handed the slot on.
 */
const SLOT_RECHECK = '1 minute';

/** The run may work (`held`: it holds the slot and gives it back at its end), or it does not happen. */
export type RunSlot = { held: boolean } | { skipped: JobRunOutcome };

/**
 * Claims the job's run slot before any attempt. One overlap rule, whoever started the run: under
 * `skip` a run that finds the slot held is recorded as skipped; under `buffer_one` it waits until
 * handed the slot (one waiting run at most, a further one is skipped); `allow_all` takes no slot.
 */
export async function takeRunSlot(plan: JobRunPlan, state: JobRunState): Promise<RunSlot> {
  let slotFreed = false;
  setHandler(slotFreedSignal, () => {
    slotFreed = true;
  });
  if (!patched(RUN_SLOT_PATCH)) return { held: false };
  for (;;) {
    // Cleared before asking: a hand-over signalled while the claim is answered is not lost.
    slotFreed = false;
    const claim = await bookkeeping.claimJobRunSlot({ jobId: plan.jobId });
    if (claim.claimed) return { held: !claim.unlimited };
    if (!claim.waiting) {
      // `skip`, or `buffer_one` with a run already waiting: this run does not happen, visibly.
      const executionId = await bookkeeping.recordSkippedJobRun({ plan, holder: claim.holder });
      state.status = 'skipped';
      return {
        skipped: {
          jobId: plan.jobId,
          status: 'skipped',
          attempts: 0,
          executionIds: [executionId],
          summary: `Skipped: a run of ${plan.name} was in progress (${claim.holder})`,
        },
      };
    }
    state.status = 'waiting_for_previous_run';
    await condition(() => slotFreed, SLOT_RECHECK);
  }
}

/** Gives the slot back (handing it to a waiting run), even when the run was cancelled. */
export function releaseRunSlot(plan: JobRunPlan): Promise<unknown> {
  return CancellationScope.nonCancellable(() => bookkeeping.releaseJobRunSlot({ jobId: plan.jobId }));
}
