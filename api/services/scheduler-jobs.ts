import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { and, count, desc, eq, ilike, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import {
  DEFAULT_JOB_RETRY_POLICY,
  JOB_TEMPLATE_DESCRIPTORS,
  jobScheduleId,
  manualJobWorkflowId,
  type JobNotifications,
  type JobOverlapPolicy,
  type JobRetryPolicy,
  type SchedulerJobInput,
} from '../../common';
import { JOB_TEMPLATES, type JobTemplateId } from '../../common/job-templates';
import {
  pgErrorCode,
  recordAudit,
  schema,
  UNIQUE_VIOLATION,
  type Database,
  type SchedulerJobExecutionRow,
  type SchedulerJobRow,
  containsPattern,
} from '../../db';
import { claimJobRunSlot } from '../../db/job-run-slots';
import { validateJobParameters } from '../../jobs/parameters';
import { checkOutboundTarget, OutboundRequestRefused, type OutboundRequest } from '../../jobs/outbound-http';
import type { OutboundPolicy } from '../../lib/outbound-policy';
import { reconcileAbandonedRuns, temporalClosedReason } from '../../schedules/run-reconciliation';
import { toScheduleSpec, type RecurrenceFieldError } from '../../schedules/recurrence';
import {
  deleteJobSchedule,
  jobScheduleInput,
  jobScheduleOptions,
  upsertJobSchedule,
} from '../../schedules/job-schedules';
import { badRequest, conflict, notFound, temporalRefusal } from '../errors';
import type { CreateJobBody, ListJobsQuery, UpdateJobBody } from '../schemas/scheduler-jobs';

const { schedulerJobs, schedulerJobExecutions, schedulerJobRunSlots, backupConfigs } = schema;

export interface JobServiceDeps {
  db: Database;
  temporal: Client;
  /** At most this many jobs (not deleted) per creator. */
  maxJobsPerUser: number;
  /** Where webhook jobs may call: checked when a job is saved, and again by every run. */
  outboundPolicy: OutboundPolicy;
}

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

function jobView(row: SchedulerJobRow) {
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

type JobDefinition = Omit<
  SchedulerJobRow,
  'id' | 'status' | 'pauseNote' | 'version' | 'createdBy' | 'createdAt' | 'updatedBy' | 'updatedAt' | 'deletedAt'
>;

/** Problems as the error body's details; parameter errors already name their `parameters.` path. */
const asDetails = (errors: { field: string; message: string }[]) =>
  errors.map((error) => ({ in: 'body', field: error.field, message: error.message }));

/**
 * Creates or updates the job's Temporal Schedule. What our checks accept, Temporal may still refuse
 * (a time zone its tz database lacks, such as `US/Pacific-New`, or a day-of-week range it reads
 * differently): that is the caller's definition, so a 400 `invalid_schedule` naming what it refused.
 */
async function saveSchedule(
  deps: JobServiceDeps,
  row: SchedulerJobRow,
  spec: Parameters<typeof jobScheduleOptions>[1],
) {
  const options = jobScheduleOptions(row, spec);
  try {
    await upsertJobSchedule(deps.temporal, options);
  } catch (error) {
    // The schedule client turns Temporal's "Invalid schedule spec" into a TypeError with its reason.
    const refusal = error instanceof TypeError ? error.message : temporalRefusal(error);
    if (refusal === null) throw error;
    const field = /time ?zone/i.test(refusal) ? 'timezone' : row.schedule ? 'schedule' : 'recurrence_config';
    throw badRequest('invalid_schedule', `Temporal refuses this schedule: ${refusal}`, [
      { in: 'body', field, message: `is refused by Temporal: ${refusal}` },
    ]);
  }
}

/** Why a run of this webhook would be refused before it connects, or null when it would not. */
async function refusedWebhookTarget(request: OutboundRequest, policy: OutboundPolicy): Promise<string | null> {
  try {
    await checkOutboundTarget(request, policy);
    return null;
  } catch (error) {
    if (error instanceof OutboundRequestRefused) return error.message;
    throw error;
  }
}

/**
 * Everything about a definition that its JSON schema cannot check: the template's parameters, the
 * recurrence (a real cron, a time that exists, a run_at in the future…), a backup job's configuration.
 * Every problem is reported at once, each with its field; nothing is saved unless all are fixed.
 */
async function checkedDefinition({ db, outboundPolicy }: JobServiceDeps, body: CreateJobBody) {
  const templateType = body.template_type as JobTemplateId;
  const problems: { in: string; field: string; message: string }[] = [];
  const parameters = validateJobParameters(templateType, body.parameters ?? {});
  if (!parameters.ok) problems.push(...asDetails(parameters.errors));
  const scheduleInput = {
    schedule: body.schedule ?? null,
    recurrence_type: (body.recurrence_type ?? null) as Parameters<typeof toScheduleSpec>[0]['recurrence_type'],
    recurrence_config: body.recurrence_config ?? null,
    timezone: body.timezone ?? null,
    start_at: body.start_at ?? null,
    end_at: body.end_at ?? null,
    dst_policy: (body.dst_policy ?? null) as Parameters<typeof toScheduleSpec>[0]['dst_policy'],
  };
  const spec = toScheduleSpec(scheduleInput);
  const scheduleProblems: RecurrenceFieldError[] = spec.ok ? [] : spec.errors;
  problems.push(...asDetails(scheduleProblems));
  if (parameters.ok && templateType === 'backup') {
    const config = (parameters.value as { config: string }).config;
    const [found] = await db.select({ id: backupConfigs.id }).from(backupConfigs).where(eq(backupConfigs.name, config));
    if (!found)
      problems.push({ in: 'body', field: 'parameters.config', message: `no backup configuration named ${config}` });
  }
  if (parameters.ok && templateType === 'webhook_trigger') {
    const target = await refusedWebhookTarget(parameters.value as OutboundRequest, outboundPolicy);
    if (target) problems.push({ in: 'body', field: 'parameters.url', message: target });
  }
  if (!spec.ok || !parameters.ok || problems.length > 0) {
    const code =
      scheduleProblems.length === problems.length
        ? 'invalid_schedule'
        : scheduleProblems.length === 0
          ? 'invalid_parameters'
          : 'validation_failed';
    const message = `Invalid job: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`;
    throw badRequest(code, message, problems);
  }
  const retry: JobRetryPolicy = { ...DEFAULT_JOB_RETRY_POLICY, ...body.retry_policy };
  const notifications: JobNotifications = {
    on_failure: body.notifications?.on_failure ?? [],
    on_success: body.notifications?.on_success ?? [],
  };
  const definition: JobDefinition = {
    name: body.name.trim(),
    description: body.description ?? null,
    templateType,
    parameters: parameters.value as Record<string, unknown>,
    schedule: body.schedule ?? null,
    recurrenceType: body.recurrence_type ?? null,
    recurrenceConfig: body.recurrence_config ?? null,
    timezone: normalizedZone(body.timezone ?? 'UTC'),
    startAt: body.start_at ? new Date(body.start_at) : null,
    endAt: body.end_at ? new Date(body.end_at) : null,
    dstPolicy: spec.dstPolicy,
    timeoutSeconds: body.timeout_seconds,
    retryPolicy: retry,
    overlap: body.overlap as JobOverlapPolicy,
    notifications,
  };
  return { definition, spec };
}

/** A once job's spec is pinned to UTC; the job keeps the zone it was given (case corrected). */
function normalizedZone(zone: string): string {
  const spec = toScheduleSpec({ schedule: { interval_seconds: 3600 }, timezone: zone });
  return spec.ok ? (spec.spec.timezone ?? 'UTC') : 'UTC';
}

async function findJob(db: Database, id: string, options: { includeDeleted?: boolean } = {}) {
  const [row] = await db.select().from(schedulerJobs).where(eq(schedulerJobs.id, id));
  if (!row || (row.deletedAt && !options.includeDeleted)) throw notFound(`No scheduled job ${id}`);
  return row;
}

function nameTaken(error: unknown, name: string): never {
  if (pgErrorCode(error) === UNIQUE_VIOLATION) {
    throw conflict('job_name_taken', `A scheduled job is already named ${name}`, { field: 'name' });
  }
  throw error;
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
      const [current] = await tx.select().from(schedulerJobs).where(eq(schedulerJobs.id, id)).for('update');
      if (!current || current.deletedAt) throw notFound(`No scheduled job ${id}`);
      if (current.version !== body.version) {
        throw conflict(
          'version_conflict',
          `Job ${current.name} was changed since version ${body.version}; reload it (now version ${current.version})`,
          { current_version: current.version, your_version: body.version },
        );
      }
      // A once job that has run is given a new schedule: it is active again.
      const status = current.status === 'completed' || current.status === 'failed' ? 'active' : current.status;
      const [row] = await tx
        .update(schedulerJobs)
        .set({ ...definition, status, version: current.version + 1, updatedBy: actor, updatedAt: new Date() })
        .where(and(eq(schedulerJobs.id, id), eq(schedulerJobs.version, body.version)))
        .returning();
      const before = jobView(current) as Record<string, unknown>;
      const changes = Object.fromEntries(
        Object.entries(jobView(row!)).filter(
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
        details: { name: row!.name, version: row!.version, changes },
      });
      await saveSchedule(deps, row!, spec);
    })
    .catch((error: unknown) => nameTaken(error, definition.name));
  return describeJob(deps, id);
}

/** Deletes the schedule; the job row (marked deleted) and its executions stay as history. */
export async function deleteJob(deps: JobServiceDeps, id: string, actor: string) {
  return deps.db.transaction(async (tx) => {
    const [current] = await tx.select().from(schedulerJobs).where(eq(schedulerJobs.id, id)).for('update');
    if (!current || current.deletedAt) throw notFound(`No scheduled job ${id}`);
    const [row] = await tx
      .update(schedulerJobs)
      .set({
        status: 'deleted',
        deletedAt: new Date(),
        updatedBy: actor,
        updatedAt: new Date(),
        version: current.version + 1,
      })
      .where(eq(schedulerJobs.id, id))
      .returning();
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
      ...jobView(row!),
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
    const [current] = await tx.select().from(schedulerJobs).where(eq(schedulerJobs.id, id)).for('update');
    if (!current || current.deletedAt) throw notFound(`No scheduled job ${id}`);
    if (current.status === 'completed' || current.status === 'failed') {
      throw conflict('job_finished', `Job ${current.name} is ${current.status}: its one run is over`);
    }
    const pauseNote = paused ? (note ?? `paused by ${actor}`) : null;
    await tx
      .update(schedulerJobs)
      .set({
        status: paused ? 'paused' : 'active',
        pauseNote,
        version: current.version + 1,
        updatedBy: actor,
        updatedAt: new Date(),
      })
      .where(eq(schedulerJobs.id, id));
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

/**
 * The workflow of a run of the job going by its execution rows, or null. Rows that a closed workflow
 * left `running` (an operator terminated it) are marked failed first, so they never block the job.
 */
async function runInProgress(deps: JobServiceDeps, jobId: string): Promise<string | null> {
  await reconcileAbandonedRuns(deps.db, deps.temporal, { jobId });
  const [open] = await deps.db
    .select({ workflowId: schedulerJobExecutions.workflowId })
    .from(schedulerJobExecutions)
    .where(and(eq(schedulerJobExecutions.jobId, jobId), eq(schedulerJobExecutions.status, 'running')))
    .limit(1);
  return open?.workflowId ?? null;
}

/**
 * Runs the job now, whatever its schedule says (paused included), as its own workflow. A job that
 * must not overlap (`skip`, `buffer_one`) is refused with 409 `job_running` while a run of it is in
 * progress, whoever started that run. The run slot is claimed for the new workflow in the same
 * transaction that starts it, so of two run-nows at once exactly one is started.
 */
export async function runJobNow(deps: JobServiceDeps, id: string, dryRun: boolean, actor: string) {
  const job = await findJob(deps.db, id);
  if (dryRun && !JOB_TEMPLATES[job.templateType as JobTemplateId]?.supports_dry_run) {
    throw badRequest('dry_run_unsupported', `${job.templateType} jobs cannot run as a dry run`, { field: 'dry_run' });
  }
  const refuse = (running: string) =>
    conflict('job_running', `A run of ${job.name} is in progress and its overlap policy is ${job.overlap}`, {
      overlap: job.overlap,
      running_workflow_id: running,
    });
  // Runs started before run slots existed hold none: their open execution rows still count.
  if (job.overlap !== 'allow_all') {
    const running = await runInProgress(deps, id);
    if (running) throw refuse(running);
  }
  const input: SchedulerJobInput = { jobId: id, trigger: 'manual', triggeredBy: actor, dryRun };
  const workflowId = manualJobWorkflowId(id, new Date());
  const start = () =>
    deps.temporal.workflow
      .start('schedulerJob', {
        taskQueue: JOB_TEMPLATE_DESCRIPTORS[job.templateType as JobTemplateId].taskQueue,
        workflowId,
        args: [input],
        staticSummary: `Run now: job ${job.name} by ${actor}${dryRun ? ' (dry run)' : ''}`,
      })
      .catch((error: unknown) => {
        // Another run-now of this job in the same millisecond has this workflow id.
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw refuse(workflowId);
        throw error;
      });
  const handle =
    job.overlap === 'allow_all'
      ? await start()
      : await deps.db.transaction(async (tx) => {
          const claim = await claimJobRunSlot(
            tx,
            id,
            { workflowId, runId: null },
            { wait: false, fresh: true, closedReason: temporalClosedReason(deps.temporal) },
          );
          if (!claim.claimed) throw refuse(claim.holder);
          const started = await start();
          await tx
            .update(schedulerJobRunSlots)
            .set({ runId: started.firstExecutionRunId })
            .where(and(eq(schedulerJobRunSlots.jobId, id), eq(schedulerJobRunSlots.workflowId, workflowId)));
          return started;
        });
  await recordAudit(deps.db, {
    action: 'JOB_RUN_REQUESTED',
    actor,
    entityType: 'scheduler_job',
    entityId: id,
    details: { name: job.name, dry_run: dryRun, workflow_id: workflowId, run_id: handle.firstExecutionRunId },
  });
  return {
    job_id: id,
    workflow_id: workflowId,
    run_id: handle.firstExecutionRunId,
    dry_run: dryRun,
    triggered_by: `manual:${actor}`,
    status: 'running' as const,
  };
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

/** Skipped runs did not run: they count neither as successes nor as failures. */
const ENDED = sql`${schedulerJobExecutions.status} not in ('running', 'skipped')`;
const FAILED = sql`${schedulerJobExecutions.status} in ('failed', 'timeout', 'exhausted')`;
const LAST_DAY = sql`${schedulerJobExecutions.startedAt} > now() - interval '24 hours'`;

const percent = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 100);

/**
 * The overview: jobs by status, runs in progress, and over the last 24 hours how the runs ended. A
 * run is counted by its last attempt, so a run that succeeded on its second attempt is a success.
 */
export async function jobStats(deps: JobServiceDeps) {
  const { db } = deps;
  // A run whose workflow was terminated is not running, whatever its row said.
  await reconcileAbandonedRuns(db, deps.temporal, { tables: ['jobs'] });
  const [jobs] = await db
    .select({
      total: sql<number>`count(*) filter (where ${schedulerJobs.status} <> 'deleted')`.mapWith(Number),
      active: sql<number>`count(*) filter (where ${schedulerJobs.status} = 'active')`.mapWith(Number),
      paused: sql<number>`count(*) filter (where ${schedulerJobs.status} = 'paused')`.mapWith(Number),
    })
    .from(schedulerJobs);
  const [executions] = await db
    .select({
      running: sql<number>`count(*) filter (where ${schedulerJobExecutions.status} = 'running')`.mapWith(Number),
      totalRuns:
        sql<number>`count(distinct (${schedulerJobExecutions.workflowId}, ${schedulerJobExecutions.runId}))`.mapWith(
          Number,
        ),
      avgDuration: sql<
        number | null
      >`avg(${schedulerJobExecutions.durationSeconds}) filter (where ${ENDED} and ${LAST_DAY})`.mapWith((value) =>
        value === null ? null : Math.round(Number(value) * 1000) / 1000,
      ),
    })
    .from(schedulerJobExecutions);
  // The last attempt of each run started in the last 24 hours that has ended.
  const lastAttempts = db
    .selectDistinctOn([schedulerJobExecutions.workflowId, schedulerJobExecutions.runId], {
      status: schedulerJobExecutions.status,
    })
    .from(schedulerJobExecutions)
    .where(LAST_DAY)
    .orderBy(schedulerJobExecutions.workflowId, schedulerJobExecutions.runId, desc(schedulerJobExecutions.attempt))
    .as('last_attempts');
  const [outcomes] = await db
    .select({
      ended: sql<number>`count(*) filter (where ${lastAttempts.status} not in ('running', 'skipped'))`.mapWith(Number),
      completed: sql<number>`count(*) filter (where ${lastAttempts.status} = 'completed')`.mapWith(Number),
    })
    .from(lastAttempts);
  const top = await db
    .select({
      job_id: schedulerJobExecutions.jobId,
      job_name: sql<string>`(array_agg(${schedulerJobExecutions.jobName} order by ${schedulerJobExecutions.startedAt} desc))[1]`,
      runs: sql<number>`count(distinct (${schedulerJobExecutions.workflowId}, ${schedulerJobExecutions.runId}))`.mapWith(
        Number,
      ),
    })
    .from(schedulerJobExecutions)
    .groupBy(schedulerJobExecutions.jobId)
    .orderBy(desc(sql`3`))
    .limit(5);
  const failures = await db
    .select()
    .from(schedulerJobExecutions)
    .where(FAILED)
    .orderBy(desc(schedulerJobExecutions.startedAt))
    .limit(10);
  const ended = outcomes?.ended ?? 0;
  const completed = outcomes?.completed ?? 0;
  return {
    total_jobs: jobs?.total ?? 0,
    active_jobs: jobs?.active ?? 0,
    paused_jobs: jobs?.paused ?? 0,
    running_now: executions?.running ?? 0,
    success_rate_24h: percent(completed, ended),
    failure_rate_24h: percent(ended - completed, ended),
    avg_duration_seconds: executions?.avgDuration ?? null,
    total_runs: executions?.totalRuns ?? 0,
    top_jobs_by_runs: top,
    recent_failures: failures.map(executionView),
  };
}
