import type { TaskTrigger } from './task-executions';

/**
 * Admin-defined scheduled jobs: the vocabulary shared by the job workflow, its activities, the
 * schedule builder and the API. Dependency-free (workflow code imports it).
 */

/** `completed` and `failed` are the ends of a `once` job; `deleted` keeps the row for its history. */
export const JOB_STATUSES = ['active', 'paused', 'completed', 'failed', 'deleted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * One execution row per attempt: `failed` is an attempt that will be retried (or whose error no retry
 * can fix), `exhausted` the last allowed attempt, `timeout` an attempt that ran out of time. `skipped`
 * is a run that did not start because another run of a `skip` job was going (one row, no attempt made).
 */
export const JOB_EXECUTION_STATUSES = ['running', 'completed', 'failed', 'timeout', 'exhausted', 'skipped'] as const;
export type JobExecutionStatus = (typeof JOB_EXECUTION_STATUSES)[number];

/** The Temporal Schedule overlap policies a job may choose (the others would cancel running work). */
export const JOB_OVERLAP_POLICIES = ['skip', 'buffer_one', 'allow_all'] as const;
export type JobOverlapPolicy = (typeof JOB_OVERLAP_POLICIES)[number];

/**
 * What a job (or a system schedule) does when daylight saving moves the wall clock under it. `gap`: a
 * local time the clocks skip in spring runs at the first instant after the gap (`run_after`) or not at
 * all (`skip`). `repeat`: a local time the clocks show twice in autumn runs at its first occurrence
 * only (`once`) or at both (`both`). Interval and one-off jobs are instants and never affected.
 */
export const DST_GAP_POLICIES = ['run_after', 'skip'] as const;
export const DST_REPEAT_POLICIES = ['once', 'both'] as const;
export interface DstPolicy {
  gap: (typeof DST_GAP_POLICIES)[number];
  repeat: (typeof DST_REPEAT_POLICIES)[number];
}
export const DEFAULT_DST_POLICY: DstPolicy = { gap: 'run_after', repeat: 'once' };

export interface JobRetryPolicy {
  max_attempts: number;
  initial_interval_seconds: number;
  backoff_coefficient: number;
}

export interface JobNotifications {
  on_failure: string[];
  on_success: string[];
}

export const DEFAULT_JOB_TIMEOUT_SECONDS = 3600;
export const MAX_JOB_TIMEOUT_SECONDS = 24 * 3600;
export const DEFAULT_JOB_RETRY_POLICY: JobRetryPolicy = {
  max_attempts: 3,
  initial_interval_seconds: 60,
  backoff_coefficient: 2,
};
/** Waiting longer than this between attempts would overrun the next run of most schedules. */
export const MAX_JOB_RETRY_INTERVAL_SECONDS = 6 * 3600;
/**
 * The longest `interval_seconds` (366 days): a longer period reads better as a calendar recurrence,
 * and Temporal refuses intervals past 10,000 years, which an unbounded integer would reach.
 */
export const MAX_JOB_INTERVAL_SECONDS = 366 * 24 * 3600;

/** The Temporal Schedule of a job (a contract with runbooks: `temporal schedule trigger -s job-<id>`). */
export const jobScheduleId = (jobId: string) => `job-${jobId}`;

/**
 * Workflow ids of a job's runs start with `job-<id>-`: the schedule appends the scheduled time, a
 * manual run `manual-<time>`; `temporal workflow list --query 'WorkflowId STARTS_WITH "job-<id>-"'`.
 */
export const manualJobWorkflowId = (jobId: string, at: Date) =>
  `${jobScheduleId(jobId)}-manual-${at.toISOString().replace(/[:.]/g, '-')}`;

/** The signal a run waiting for its job's run slot (`buffer_one`) gets when the slot is handed to it. */
export const JOB_RUN_SLOT_FREED_SIGNAL = 'jobRunSlotFreed';

/** Input of the `schedulerJob` workflow. The job's definition is read when it runs, so edits apply. */
export interface SchedulerJobInput {
  jobId: string;
  trigger: TaskTrigger;
  /** The admin who ran it now (`manual`). */
  triggeredBy?: string;
  dryRun?: boolean;
}

/** The job as one run sees it (read from its row when the run starts). */
export interface JobRunPlan {
  jobId: string;
  name: string;
  templateType: string;
  parameters: Record<string, unknown>;
  timeoutSeconds: number;
  retryPolicy: JobRetryPolicy;
  notifications: JobNotifications;
  once: boolean;
  status: JobStatus;
  /** `schedule`, `cli` or `manual:<user>`, as the execution rows record it. */
  triggeredBy: string;
  trigger: TaskTrigger;
  dryRun: boolean;
}

/** What a job run ends with (the workflow's result). */
export interface JobRunOutcome {
  jobId: string;
  status: Exclude<JobExecutionStatus, 'running'> | 'skipped';
  attempts: number;
  executionIds: string[];
  summary: string;
  error?: string;
}
