import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { and, count, desc, eq, ilike, ne, or, type SQL } from 'drizzle-orm';
import { jobScheduleId } from '../../../common';
import { JOB_TEMPLATES } from '../../../jobs/templates';
import {
  containsPattern,
  schema,
  type Database,
  type SchedulerJobExecutionRow,
  type SchedulerJobRow,
} from '../../../db';
import { jobScheduleInput } from '../../../schedules/job-schedules';
import { toScheduleSpec } from '../../../schedules/recurrence';
import { notFound } from '../../errors';
import type { ListJobsQuery } from '../../schemas/scheduler-jobs';
import type { JobServiceDeps } from './deps';

const { schedulerJobs, schedulerJobExecutions } = schema;

/** How many future runs a job's response lists. */
const NEXT_RUN_COUNT = 5;

export function executionView(row: SchedulerJobExecutionRow) {
  return {
    id: row.id,
    job_id: row.jobId,
    job_name: row.jobName,
    template_type: row.templateType,
    status: row.status,
    started_at: row.startedAt.toISOString(),
    completed_at: row.completedAt?.toISOString() ?? null,
    duration_seconds: row.durationSeconds,
    result: row.result ?? null,
    error: row.error,
    logs: row.logs,
    attempt: row.attempt,
    triggered_by: row.triggeredBy,
    dry_run: row.dryRun,
    execution_host: row.executionHost,
    workflow_id: row.workflowId,
    run_id: row.runId,
  };
}

export function jobView(row: SchedulerJobRow) {
  // A once job's time may have passed (epoch as "now"); the DST horizon starts today.
  const spec = toScheduleSpec(jobScheduleInput(row), new Date(0), new Date());
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    template_type: row.templateType,
    parameters: row.parameters,
    schedule: row.schedule ?? null,
    recurrence_type: row.recurrenceType,
    recurrence_config: row.recurrenceConfig ?? null,
    timezone: row.timezone,
    start_at: row.startAt?.toISOString() ?? null,
    end_at: row.endAt?.toISOString() ?? null,
    dst_policy: row.dstPolicy,
    schedule_description: spec.ok ? spec.description : 'once (time passed)',
    timeout_seconds: row.timeoutSeconds,
    retry_policy: row.retryPolicy,
    overlap: row.overlap,
    notifications: row.notifications,
    status: row.status,
    pause_note: row.pauseNote,
    version: row.version,
    schedule_id: jobScheduleId(row.id),
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    updated_by: row.updatedBy,
    updated_at: row.updatedAt.toISOString(),
  };
}

export const templateList = () => Object.values(JOB_TEMPLATES);

/**
 * The job row, or a 404 for an unknown job (and a deleted one, unless `includeDeleted`). With `lock`,
 * inside a transaction, the row is locked FOR UPDATE until it ends: changes to one job are made one
 * after the other, each from the version the one before left.
 */
export async function findJob(
  db: Pick<Database, 'select'>,
  id: string,
  options: { includeDeleted?: boolean; lock?: boolean } = {},
): Promise<SchedulerJobRow> {
  const query = db.select().from(schedulerJobs).where(eq(schedulerJobs.id, id));
  const [row] = await (options.lock ? query.for('update') : query);
  if (!row || (row.deletedAt && !options.includeDeleted)) throw notFound(`No scheduled job ${id}`);
  return row;
}

/** Temporal's view of the job's schedule: the next runs it will start, whether it is paused. */
async function scheduleState(temporal: Client, jobId: string) {
  try {
    const description = await temporal.schedule.getHandle(jobScheduleId(jobId)).describe();
    return {
      next_run_times: description.info.nextActionTimes.slice(0, NEXT_RUN_COUNT).map((at) => at.toISOString()),
      running: description.info.runningActions.length,
    };
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return { next_run_times: [], running: 0 };
    throw error;
  }
}

async function lastExecution(db: Database, jobId: string) {
  const [row] = await db
    .select()
    .from(schedulerJobExecutions)
    .where(eq(schedulerJobExecutions.jobId, jobId))
    .orderBy(desc(schedulerJobExecutions.startedAt), desc(schedulerJobExecutions.attempt))
    .limit(1);
  return row ? executionView(row) : null;
}

/** A job as `GET /:id` shows it: the row, the next runs from Temporal, the latest execution. */
export async function describeJob(deps: JobServiceDeps, id: string) {
  const row = await findJob(deps.db, id);
  const [state, last] = await Promise.all([scheduleState(deps.temporal, id), lastExecution(deps.db, id)]);
  return { ...jobView(row), next_run_times: state.next_run_times, last_execution: last };
}

export async function listJobs(deps: JobServiceDeps, query: ListJobsQuery) {
  const filters: SQL[] = [];
  if (query.status) filters.push(eq(schedulerJobs.status, query.status as SchedulerJobRow['status']));
  else filters.push(ne(schedulerJobs.status, 'deleted'));
  if (query.template) filters.push(eq(schedulerJobs.templateType, query.template));
  if (query.search) {
    const pattern = containsPattern(query.search);
    filters.push(or(ilike(schedulerJobs.name, pattern), ilike(schedulerJobs.description, pattern))!);
  }
  const where = and(...filters);
  const [rows, [total]] = await Promise.all([
    deps.db
      .select()
      .from(schedulerJobs)
      .where(where)
      .orderBy(schedulerJobs.name, schedulerJobs.createdAt)
      .limit(query.limit)
      .offset(query.offset),
    deps.db.select({ value: count() }).from(schedulerJobs).where(where),
  ]);
  return { jobs: rows.map(jobView), total: total?.value ?? 0 };
}

/** A job's executions, newest first; a deleted job's history stays readable. */
export async function listExecutions(deps: JobServiceDeps, id: string, query: { status?: string; limit: number }) {
  await findJob(deps.db, id, { includeDeleted: true });
  const filters: SQL[] = [eq(schedulerJobExecutions.jobId, id)];
  if (query.status) {
    filters.push(eq(schedulerJobExecutions.status, query.status as SchedulerJobExecutionRow['status']));
  }
  const rows = await deps.db
    .select()
    .from(schedulerJobExecutions)
    .where(and(...filters))
    .orderBy(desc(schedulerJobExecutions.startedAt), desc(schedulerJobExecutions.attempt))
    .limit(query.limit);
  return { executions: rows.map(executionView) };
}
