import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import {
  isJobTemplateId,
  JOB_TEMPLATE_DESCRIPTORS,
  jobScheduleId,
  type JobOverlapPolicy,
  type SchedulerJobInput,
} from '../common';
import { schema, type Database, type SchedulerJobRow } from '../db';
import { toScheduleSpec, type JobScheduleInput, type RecurrenceResult } from './recurrence';
import { isUuid } from '../lib/dates';

const { schedulerJobs } = schema;

const OVERLAP: Record<JobOverlapPolicy, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** The fields of a job row that say when it runs, in the shape `toScheduleSpec` reads. */
export function jobScheduleInput(
  job: Pick<
    SchedulerJobRow,
    'schedule' | 'recurrenceType' | 'recurrenceConfig' | 'timezone' | 'startAt' | 'endAt' | 'dstPolicy'
  >,
): JobScheduleInput {
  return {
    schedule: job.schedule,
    recurrence_type: job.recurrenceType as JobScheduleInput['recurrence_type'],
    recurrence_config: job.recurrenceConfig,
    timezone: job.timezone,
    start_at: job.startAt?.toISOString() ?? null,
    end_at: job.endAt?.toISOString() ?? null,
    dst_policy: job.dstPolicy,
  };
}

type ValidSpec = Extract<RecurrenceResult, { ok: true }>;

/**
 * Upper bound of one run: every attempt at its timeout, the waits between them, and a few minutes of
 * bookkeeping. A run stuck past it (a lost worker) is ended by Temporal instead of blocking `skip`.
 */
export function jobRunTimeoutSeconds(job: Pick<SchedulerJobRow, 'timeoutSeconds' | 'retryPolicy'>): number {
  const { max_attempts: attempts, initial_interval_seconds: initial, backoff_coefficient: factor } = job.retryPolicy;
  let waits = 0;
  for (let attempt = 1; attempt < attempts; attempt++) waits += initial * factor ** (attempt - 1);
  return Math.ceil(attempts * (job.timeoutSeconds + 60) + waits + 300);
}

/** What Temporal is asked to run for a job: its schedule `job-<id>` starting `schedulerJob` runs. */
export function jobScheduleOptions(job: SchedulerJobRow, spec: ValidSpec): ScheduleOptions {
  if (!isJobTemplateId(job.templateType)) throw new Error(`job ${job.id} has unknown template ${job.templateType}`);
  const input: SchedulerJobInput = { jobId: job.id, trigger: 'schedule' };
  return {
    scheduleId: jobScheduleId(job.id),
    spec: spec.spec,
    action: {
      type: 'startWorkflow',
      workflowType: 'schedulerJob',
      // Temporal appends the scheduled time to this id for each run.
      workflowId: jobScheduleId(job.id),
      taskQueue: JOB_TEMPLATE_DESCRIPTORS[job.templateType].taskQueue,
      args: [input],
      workflowExecutionTimeout: `${jobRunTimeoutSeconds(job)} seconds`,
      staticSummary: `Scheduled job ${job.name} (${job.templateType})`,
    },
    policies: {
      overlap: OVERLAP[job.overlap],
      // A once job still runs if Temporal was down at its time; a recurring one waits for its next time.
      catchupWindow: spec.once ? '1 day' : '1 hour',
      pauseOnFailure: false,
    },
    state: {
      paused: job.status === 'paused',
      ...(job.status === 'paused' && job.pauseNote ? { note: job.pauseNote } : {}),
      ...(spec.once ? { remainingActions: 1 } : {}),
    },
    memo: { job_id: job.id, job_name: job.name, template_type: job.templateType },
  };
}

/** The same schedule as an in-place update (keeps its id, its history and its running actions). */
export function jobScheduleUpdate(options: ScheduleOptions): ScheduleUpdateOptions {
  return {
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    state: {
      paused: options.state?.paused ?? false,
      ...(options.state?.note ? { note: options.state.note } : {}),
      ...(options.state?.remainingActions !== undefined ? { remainingActions: options.state.remainingActions } : {}),
    },
  } as ScheduleUpdateOptions;
}

/** Creates the job's schedule, or brings an existing one in line with the job. */
export async function upsertJobSchedule(client: Client, options: ScheduleOptions): Promise<'created' | 'updated'> {
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(options.scheduleId).update(() => jobScheduleUpdate(options));
    return 'updated';
  }
}

export async function deleteJobSchedule(client: Client, jobId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(jobScheduleId(jobId)).delete();
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}

export interface JobScheduleSyncReport {
  created: string[];
  deleted: string[];
  /** Jobs whose schedule cannot be built any more (a `once` time now past): left alone, listed. */
  unschedulable: { job_id: string; errors: unknown }[];
}

/**
 * PostgreSQL is the record of jobs; Temporal holds their schedules. At worker start every active or
 * paused job gets its schedule back (a new Temporal cluster, a restored database) and schedules of
 * jobs that no longer exist or ended are deleted, so the two agree again.
 */
export async function syncJobSchedules(client: Client, db: Database, now = new Date()): Promise<JobScheduleSyncReport> {
  const report: JobScheduleSyncReport = { created: [], deleted: [], unschedulable: [] };
  const jobs = await db
    .select()
    .from(schedulerJobs)
    .where(and(inArray(schedulerJobs.status, ['active', 'paused']), isNull(schedulerJobs.deletedAt)));
  const wanted = new Set(jobs.map((job) => jobScheduleId(job.id)));
  for (const job of jobs) {
    const scheduleId = jobScheduleId(job.id);
    const exists = await client.schedule
      .getHandle(scheduleId)
      .describe()
      .then(() => true)
      .catch((error: unknown) => {
        if (error instanceof ScheduleNotFoundError) return false;
        throw error;
      });
    // An existing schedule is Temporal's truth about pauses and a once job's remaining run: keep it.
    if (exists) continue;
    const spec = toScheduleSpec(jobScheduleInput(job), now);
    if (!spec.ok) {
      report.unschedulable.push({ job_id: job.id, errors: spec.errors });
      continue;
    }
    await upsertJobSchedule(client, jobScheduleOptions(job, spec));
    report.created.push(scheduleId);
  }
  for await (const schedule of client.schedule.list()) {
    if (!schedule.scheduleId.startsWith('job-') || wanted.has(schedule.scheduleId)) continue;
    const jobId = schedule.scheduleId.slice('job-'.length);
    // Read again: the API may have created this job since the list above was read.
    const [job] = isUuid(jobId)
      ? await db.select({ status: schedulerJobs.status }).from(schedulerJobs).where(eq(schedulerJobs.id, jobId))
      : [];
    if (job && (job.status === 'active' || job.status === 'paused')) continue;
    if (await deleteJobSchedule(client, jobId)) report.deleted.push(schedule.scheduleId);
  }
  return report;
}
