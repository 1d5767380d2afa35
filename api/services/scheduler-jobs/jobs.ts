import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import { and, count, eq, isNull, sql } from 'drizzle-orm';
import { jobScheduleId } from '../../../common';
import { pgErrorCode, recordAudit, schema, UNIQUE_VIOLATION, type Database, type SchedulerJobRow } from '../../../db';
import {
  deleteJobSchedule,
  jobScheduleInput,
  jobScheduleOptions,
  upsertJobSchedule,
} from '../../../schedules/job-schedules';
import { toScheduleSpec } from '../../../schedules/recurrence';
import { conflict } from '../../errors';
import type { CreateJobBody, UpdateJobBody } from '../../schemas/job-definition';
import { checkedDefinition, saveSchedule } from './definition';
import type { JobServiceDeps } from './deps';
import { describeJob, findJob, jobView } from './views';

const { schedulerJobs, schedulerJobExecutions } = schema;

/**
 * Writes `change` to a job read with `findJob(tx, id, { lock: true })` as its next version, made by
 * `actor`; the row as it is now.
 */
async function writeNextVersion(
  tx: Pick<Database, 'update'>,
  current: SchedulerJobRow,
  actor: string,
  change: Partial<typeof schedulerJobs.$inferInsert>,
): Promise<SchedulerJobRow> {
  const [row] = await tx
    .update(schedulerJobs)
    .set({ ...change, version: current.version + 1, updatedBy: actor, updatedAt: new Date() })
    .where(and(eq(schedulerJobs.id, current.id), eq(schedulerJobs.version, current.version)))
    .returning();
  return row!;
}

function nameTaken(error: unknown, name: string): never {
  if (pgErrorCode(error) === UNIQUE_VIOLATION) {
    throw conflict('job_name_taken', `A scheduled job is already named ${name}`, { field: 'name' });
  }
  throw error;
}

export async function createJob(deps: JobServiceDeps, body: CreateJobBody, actor: string) {
  const { definition, spec } = await checkedDefinition(deps, body);
  const id = randomUUID();
  await deps.db
    .transaction(async (tx) => {
      // One creator's quota is checked and used under one lock, so two parallel creates cannot both pass.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`scheduler-jobs:${actor}`}))`);
      const [owned] = await tx
        .select({ value: count() })
        .from(schedulerJobs)
        .where(and(eq(schedulerJobs.createdBy, actor), isNull(schedulerJobs.deletedAt)));
      if ((owned?.value ?? 0) >= deps.maxJobsPerUser) {
        throw conflict(
          'job_quota_exceeded',
          `You already have ${owned?.value} scheduled jobs, the most allowed per user (EDMS_MAX_JOBS_PER_USER=${deps.maxJobsPerUser}); delete one first`,
          { limit: deps.maxJobsPerUser, current: owned?.value ?? 0 },
        );
      }
      const [row] = await tx
        .insert(schedulerJobs)
        .values({ id, ...definition, createdBy: actor, updatedBy: actor })
        .returning();
      await recordAudit(tx, {
        action: 'JOB_CREATED',
        actor,
        entityType: 'scheduler_job',
        entityId: id,
        details: jobView(row!),
      });
      // Last, inside the transaction: if Temporal refuses the schedule, no job row is left behind.
      await saveSchedule(deps, row!, spec);
    })
    .catch((error: unknown) => nameTaken(error, definition.name));
  return describeJob(deps, id);
}

/**
 * Replaces the job's definition and updates its schedule in place, if the change is based on the
 * current version: two admins editing the same job cannot silently overwrite each other.
 */
export async function updateJob(deps: JobServiceDeps, id: string, body: UpdateJobBody, actor: string) {
  const { definition, spec } = await checkedDefinition(deps, body);
  await deps.db
    .transaction(async (tx) => {
      const current = await findJob(tx, id, { lock: true });
      if (current.version !== body.version) {
        throw conflict(
          'version_conflict',
          `Job ${current.name} was changed since version ${body.version}; reload it (now version ${current.version})`,
          { current_version: current.version, your_version: body.version },
        );
      }
      // A once job that has run is given a new schedule: it is active again.
      const status = current.status === 'completed' || current.status === 'failed' ? 'active' : current.status;
      const row = await writeNextVersion(tx, current, actor, { ...definition, status });
      const before = jobView(current) as Record<string, unknown>;
      const changes = Object.fromEntries(
        Object.entries(jobView(row)).filter(
          ([key, value]) =>
            !['version', 'updated_at', 'updated_by'].includes(key) &&
            JSON.stringify(before[key]) !== JSON.stringify(value),
        ),
      );
      await recordAudit(tx, {
        action: 'JOB_UPDATED',
        actor,
        entityType: 'scheduler_job',
        entityId: id,
        details: { name: row.name, version: row.version, changes },
      });
      await saveSchedule(deps, row, spec);
    })
    .catch((error: unknown) => nameTaken(error, definition.name));
  return describeJob(deps, id);
}

/** Deletes the schedule; the job row (marked deleted) and its executions stay as history. */
export async function deleteJob(deps: JobServiceDeps, id: string, actor: string) {
  return deps.db.transaction(async (tx) => {
    const current = await findJob(tx, id, { lock: true });
    const row = await writeNextVersion(tx, current, actor, { status: 'deleted', deletedAt: new Date() });
    const [executions] = await tx
      .select({ value: count() })
      .from(schedulerJobExecutions)
      .where(eq(schedulerJobExecutions.jobId, id));
    await recordAudit(tx, {
      action: 'JOB_DELETED',
      actor,
      entityType: 'scheduler_job',
      entityId: id,
      details: { name: current.name, template_type: current.templateType, executions_kept: executions?.value ?? 0 },
    });
    const scheduleDeleted = await deleteJobSchedule(deps.temporal, id);
    return {
      ...jobView(row),
      schedule_deleted: scheduleDeleted,
      executions_kept: executions?.value ?? 0,
    };
  });
}

/** Pauses or resumes the schedule and records it on the job, both or neither. */
export async function setPaused(
  deps: JobServiceDeps,
  id: string,
  paused: boolean,
  note: string | undefined,
  actor: string,
) {
  await deps.db.transaction(async (tx) => {
    const current = await findJob(tx, id, { lock: true });
    if (current.status === 'completed' || current.status === 'failed') {
      throw conflict('job_finished', `Job ${current.name} is ${current.status}: its one run is over`);
    }
    const pauseNote = paused ? (note ?? `paused by ${actor}`) : null;
    await writeNextVersion(tx, current, actor, { status: paused ? 'paused' : 'active', pauseNote });
    await recordAudit(tx, {
      action: paused ? 'JOB_PAUSED' : 'JOB_RESUMED',
      actor,
      entityType: 'scheduler_job',
      entityId: id,
      details: { name: current.name, note: pauseNote, was: current.status },
    });
    const handle = deps.temporal.schedule.getHandle(jobScheduleId(id));
    const reason = `${pauseNote ?? `resumed by ${actor}`} (via the EDMS API)`;
    try {
      await (paused ? handle.pause(reason) : handle.unpause(reason));
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
      // The schedule went missing (a reset Temporal): put it back in the state just recorded.
      const spec = toScheduleSpec(jobScheduleInput(current));
      if (!spec.ok) throw conflict('job_unschedulable', `Job ${current.name} cannot be scheduled again`, spec.errors);
      await upsertJobSchedule(deps.temporal, {
        ...jobScheduleOptions({ ...current, status: paused ? 'paused' : 'active', pauseNote }, spec),
      });
    }
  });
  return describeJob(deps, id);
}
