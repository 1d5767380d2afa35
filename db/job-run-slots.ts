import { and, eq, sql } from 'drizzle-orm';
import type { Database } from './client';
import { schedulerJobRunSlots } from './schema';

/** The database or an open transaction. */
type Executor = Pick<Database, 'insert' | 'select' | 'update' | 'delete'>;

/** A run of a job: its workflow id, and its run id once known. */
export interface JobRunRef {
  workflowId: string;
  runId: string | null;
}

/**
 * Why a holder's workflow no longer works on the job (it closed, or Temporal no longer knows it), or
 * null while it is open. Callers pass Temporal's answer in, so this module stays database-only.
 */
export type ClosedReason = (run: JobRunRef) => Promise<string | null>;

export type SlotClaim =
  /** This run holds the slot; `tookOverFrom` names a closed holder it replaced. */
  | { claimed: true; tookOverFrom?: { workflowId: string; reason: string } }
  /** Another run holds it; `waiting` is true when this run is now the one that waits for it. */
  | { claimed: false; holder: string; waiting: boolean };

const sameRun = (a: JobRunRef, workflowId: string, runId: string | null) =>
  a.workflowId === workflowId && (a.runId === null || runId === null || a.runId === runId);

/**
 * Makes `to` the slot's holder from now on, only while `from` still holds it. When `to` was the run
 * waiting for the slot, its waiting place is free again.
 */
const handOver = (db: Executor, jobId: string, from: string, to: JobRunRef, { wasWaiting }: { wasWaiting: boolean }) =>
  db
    .update(schedulerJobRunSlots)
    .set({
      workflowId: to.workflowId,
      runId: to.runId,
      claimedAt: sql`now()`,
      ...(wasWaiting ? { waitingWorkflowId: null, waitingRunId: null } : {}),
    })
    .where(and(eq(schedulerJobRunSlots.jobId, jobId), eq(schedulerJobRunSlots.workflowId, from)));

/**
 * Claims a job's run slot for `me`. Two claims at once cannot both win: the first insert holds the
 * primary key (a racing insert waits for its transaction), later ones lock the row and read who has
 * it. A claim by the holder itself (a retried activity, the run a run-now reserved) succeeds again.
 * With `wait` (buffer_one) a refused run becomes the one waiter if nobody live waits already.
 */
export async function claimJobRunSlot(
  db: Executor,
  jobId: string,
  me: JobRunRef,
  options: {
    wait: boolean;
    closedReason: ClosedReason;
    /** A run about to be started (a run-now): a holder with the same workflow id is another request's. */
    fresh?: boolean;
  },
): Promise<SlotClaim> {
  const [inserted] = await db
    .insert(schedulerJobRunSlots)
    .values({ jobId, workflowId: me.workflowId, runId: me.runId })
    .onConflictDoNothing({ target: schedulerJobRunSlots.jobId })
    .returning({ jobId: schedulerJobRunSlots.jobId });
  if (inserted) return { claimed: true };

  const [slot] = await db
    .select()
    .from(schedulerJobRunSlots)
    .where(eq(schedulerJobRunSlots.jobId, jobId))
    .for('update');
  // Released between the insert and the read: try again from the start.
  if (!slot) return claimJobRunSlot(db, jobId, me, options);
  const holder = { workflowId: slot.workflowId, runId: slot.runId };
  if (!options.fresh && sameRun(holder, me.workflowId, me.runId)) {
    if (slot.runId === null && me.runId !== null) {
      await db
        .update(schedulerJobRunSlots)
        .set({ runId: me.runId })
        .where(and(eq(schedulerJobRunSlots.jobId, jobId), eq(schedulerJobRunSlots.workflowId, me.workflowId)));
    }
    return { claimed: true };
  }

  const reason = await options.closedReason(holder);
  if (reason !== null) {
    // The holder was terminated, timed out or failed without releasing: its slot is free.
    await handOver(db, jobId, slot.workflowId, me, { wasWaiting: slot.waitingWorkflowId === me.workflowId });
    return { claimed: true, tookOverFrom: { workflowId: slot.workflowId, reason } };
  }
  if (!options.wait) return { claimed: false, holder: slot.workflowId, waiting: false };

  if (slot.waitingWorkflowId === me.workflowId) return { claimed: false, holder: slot.workflowId, waiting: true };
  const waiter = slot.waitingWorkflowId ? { workflowId: slot.waitingWorkflowId, runId: slot.waitingRunId } : null;
  if (waiter && (await options.closedReason(waiter)) === null) {
    return { claimed: false, holder: slot.workflowId, waiting: false };
  }
  await db
    .update(schedulerJobRunSlots)
    .set({ waitingWorkflowId: me.workflowId, waitingRunId: me.runId })
    .where(eq(schedulerJobRunSlots.jobId, jobId));
  return { claimed: false, holder: slot.workflowId, waiting: true };
}

/**
 * Gives up the slot `me` holds: to the run waiting for it (returned, so the caller can wake it), or
 * to nobody. Releasing a slot one does not hold (a retry, a slot already taken over) changes nothing.
 */
export async function releaseJobRunSlot(db: Database, jobId: string, me: JobRunRef): Promise<JobRunRef | null> {
  return db.transaction(async (tx) => {
    const [slot] = await tx
      .select()
      .from(schedulerJobRunSlots)
      .where(eq(schedulerJobRunSlots.jobId, jobId))
      .for('update');
    if (!slot || !sameRun({ workflowId: slot.workflowId, runId: slot.runId }, me.workflowId, me.runId)) return null;
    if (slot.waitingWorkflowId) {
      const waiter = { workflowId: slot.waitingWorkflowId, runId: slot.waitingRunId };
      await handOver(tx, jobId, slot.workflowId, waiter, { wasWaiting: true });
      return waiter;
    }
    await tx.delete(schedulerJobRunSlots).where(eq(schedulerJobRunSlots.jobId, jobId));
    return null;
  });
}
