import { ApplicationFailure, type Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { FailureType, JOB_RUN_SLOT_FREED_SIGNAL } from '../../common';
import { schema, type DatabaseHandle } from '../../db';
import { claimJobRunSlot, releaseJobRunSlot, type SlotClaim } from '../../db/job-run-slots';
import { temporalClosedReason } from '../../schedules/run-reconciliation';
import { currentRun } from './types';

const { schedulerJobs } = schema;

/** What a run may do about its job's run slot (see db/job-run-slots.ts). */
export type RunSlotClaim =
  /** `allow_all`: runs of the job may overlap; no slot is held. */
  { claimed: true; unlimited: true } | (SlotClaim & { unlimited?: false });

/** The run slot of a job: one overlap rule for every start of it (schedule, cli or run-now). */
export function createJobRunSlotActivities(deps: { database: DatabaseHandle; temporal: Client }) {
  const { db } = deps.database;
  const closedReason = temporalClosedReason(deps.temporal);
  return {
    /**
     * Takes the job's run slot for this run, whoever started it, unless the job's overlap is
     * `allow_all`. Another run holding it means: under `skip` this run does not start; under
     * `buffer_one` this run becomes the one that waits (if no other does) and asks again when woken.
     */
    async claimJobRunSlot({ jobId }: { jobId: string }): Promise<RunSlotClaim> {
      const { workflowId, runId } = currentRun();
      const [job] = await db
        .select({ overlap: schedulerJobs.overlap })
        .from(schedulerJobs)
        .where(eq(schedulerJobs.id, jobId));
      if (!job) throw ApplicationFailure.nonRetryable(`no scheduled job ${jobId}`, FailureType.JobMissing);
      if (job.overlap === 'allow_all') return { claimed: true, unlimited: true };
      return db.transaction((tx) =>
        claimJobRunSlot(tx, jobId, { workflowId, runId }, { wait: job.overlap === 'buffer_one', closedReason }),
      );
    },

    /** Gives the slot up at the end of the run, handing it to the run that waits for it and waking that run. */
    async releaseJobRunSlot({ jobId }: { jobId: string }): Promise<{ handedTo: string | null }> {
      const { workflowId, runId } = currentRun();
      const next = await releaseJobRunSlot(db, jobId, { workflowId, runId });
      if (next) {
        await deps.temporal.workflow
          .getHandle(next.workflowId, next.runId ?? undefined)
          .signal(JOB_RUN_SLOT_FREED_SIGNAL)
          // A waiter that is gone is found closed and replaced by the next claim.
          .catch(() => undefined);
      }
      return { handedTo: next?.workflowId ?? null };
    },
  };
}
