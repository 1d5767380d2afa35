import { setHandler, workflowInfo } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { JobRunOutcome, SchedulerJobInput } from '../../common';
import { runAttempts } from './attempts';
import { bookkeeping, jobRunStateQuery, type JobRunState } from './bookkeeping';
import { releaseRunSlot, takeRunSlot } from './run-slot';

export { jobRunStateQuery, type JobRunState } from './bookkeeping';

/**
 * Set by Temporal on every run a schedule starts, `temporal schedule trigger` included: the plan tells
 * an operator's trigger (`cli`) from the schedule's own run by it.
 */
const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

/**
 * One run of an admin-defined scheduled job, started by its schedule (`job-<id>`), by `temporal
 * schedule trigger`, or by an admin's run-now: reads the job, runs the template's work with the job's
 * timeout, retries it by the job's policy with one execution row per attempt, and ends the run:
 * completed, exhausted after the last attempt, failed (an error no retry can fix) or timeout.
 *
 *   plan (the job as it is now; a paused or deleted job's scheduled run does nothing)
 *   → the job's run slot (./run-slot.ts: skipped, or waiting for the previous run)
 *   → attempts (./attempts.ts; one attempt's work and its failure: ./work.ts)
 *   → settle (emails, audit, a `once` job's end), and the slot is given back.
 */
export async function schedulerJob(input: SchedulerJobInput): Promise<JobRunOutcome> {
  const state: JobRunState = { jobId: input.jobId, name: null, attempt: 0, status: 'planning', lastError: null };
  setHandler(jobRunStateQuery, () => state);

  const scheduledAt = workflowInfo().typedSearchAttributes.get(SCHEDULED_START_TIME);
  const planned = await bookkeeping.planJobRun({
    ...input,
    ...(scheduledAt ? { scheduledAt: scheduledAt.toISOString() } : {}),
  });
  if ('skipped' in planned) {
    state.status = 'skipped';
    return { jobId: input.jobId, status: 'skipped', attempts: 0, executionIds: [], summary: planned.skipped };
  }
  const { plan } = planned;
  state.name = plan.name;

  const slot = await takeRunSlot(plan, state);
  if ('skipped' in slot) return slot.skipped;
  try {
    const outcome = await runAttempts(plan, state);
    state.status = outcome.status;
    await bookkeeping.settleJobRun({ plan, outcome });
    return outcome;
  } finally {
    if (slot.held) await releaseRunSlot(plan);
  }
}
