/** Admin-defined jobs, each attempt of their runs, and the slot that keeps two runs of one job apart. */
import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import {
  JOB_EXECUTION_STATUSES,
  JOB_OVERLAP_POLICIES,
  JOB_STATUSES,
  type DstPolicy,
  type JobNotifications,
  type JobOverlapPolicy,
  type JobRetryPolicy,
} from '../../common';
import { createdAt, isOneOf } from './columns';
import { taskTrigger } from './system-tasks';

export const jobStatus = pgEnum('job_status', JOB_STATUSES);
export const jobExecutionStatus = pgEnum('job_execution_status', JOB_EXECUTION_STATUSES);

/**
 * A scheduled job an admin defined from a template; its Temporal Schedule is `job-<id>`. Deleting a
 * job marks the row (its executions stay attached to it); `version` guards concurrent edits.
 */
export const schedulerJobs = pgTable(
  'scheduler_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    description: text('description'),
    templateType: text('template_type').notNull(),
    parameters: jsonb('parameters').$type<Record<string, unknown>>().notNull(),
    /** The `{cron}` / `{interval_seconds}` form, when the job was defined with it. */
    schedule: jsonb('schedule').$type<{ cron?: string; interval_seconds?: number }>(),
    recurrenceType: text('recurrence_type'),
    recurrenceConfig: jsonb('recurrence_config').$type<Record<string, unknown>>(),
    timezone: text('timezone').notNull().default('UTC'),
    startAt: timestamp('start_at', { withTimezone: true }),
    endAt: timestamp('end_at', { withTimezone: true }),
    timeoutSeconds: integer('timeout_seconds').notNull(),
    retryPolicy: jsonb('retry_policy').$type<JobRetryPolicy>().notNull(),
    overlap: text('overlap').$type<JobOverlapPolicy>().notNull().default('skip'),
    /** What DST changes do to its calendar runs (schedules/dst.ts); rows from before it get the default. */
    dstPolicy: jsonb('dst_policy')
      .$type<DstPolicy>()
      .notNull()
      .default(sql`'{"gap": "run_after", "repeat": "once"}'::jsonb`),
    notifications: jsonb('notifications').$type<JobNotifications>().notNull(),
    status: jobStatus('status').notNull().default('active'),
    pauseNote: text('pause_note'),
    version: integer('version').notNull().default(1),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedBy: text('updated_by'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    // Names identify jobs for people; a deleted job frees its name.
    uniqueIndex('scheduler_jobs_name_key')
      .on(t.name)
      .where(sql`${t.deletedAt} is null`),
    index('scheduler_jobs_creator_idx').on(t.createdBy, t.status),
    index('scheduler_jobs_template_idx').on(t.templateType),
    check('scheduler_jobs_overlap_check', isOneOf(t.overlap, JOB_OVERLAP_POLICIES)),
    check('scheduler_jobs_timeout_check', sql`${t.timeoutSeconds} >= 1`),
    check('scheduler_jobs_version_check', sql`${t.version} >= 1`),
  ],
);

export type SchedulerJobRow = typeof schedulerJobs.$inferSelect;

/** One attempt of one run of a job: what it did, how long it took, who and what ran it. */
export const schedulerJobExecutions = pgTable(
  'scheduler_job_executions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => schedulerJobs.id),
    /** The job's name and template when it ran: history reads the same after the job is renamed. */
    jobName: text('job_name').notNull(),
    templateType: text('template_type').notNull(),
    status: jobExecutionStatus('status').notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    durationSeconds: numeric('duration_seconds', { precision: 12, scale: 3, mode: 'number' }),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: text('error'),
    logs: jsonb('logs')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    attempt: integer('attempt').notNull(),
    trigger: taskTrigger('trigger').notNull(),
    /** `schedule`, `cli` or `manual:<username>`. */
    triggeredBy: text('triggered_by').notNull(),
    dryRun: boolean('dry_run').notNull().default(false),
    /** The worker that ran the attempt (Temporal worker identity, pid@host). */
    executionHost: text('execution_host'),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
  },
  (t) => [
    uniqueIndex('scheduler_job_executions_attempt_key').on(t.workflowId, t.runId, t.attempt),
    index('scheduler_job_executions_job_idx').on(t.jobId, t.startedAt),
    index('scheduler_job_executions_started_idx').on(t.startedAt),
    index('scheduler_job_executions_status_idx').on(t.status),
  ],
);

export type SchedulerJobExecutionRow = typeof schedulerJobExecutions.$inferSelect;

/**
 * The run slot of a job whose overlap is `skip` or `buffer_one`: every run, whoever started it (its
 * schedule, `temporal schedule trigger`, a run-now), holds this row while it works, so two runs of the
 * job never work at once. The primary key makes the claim atomic; `waiting_*` is the one run that
 * waits for the slot under `buffer_one`. A holder whose workflow has closed is taken over.
 */
export const schedulerJobRunSlots = pgTable('scheduler_job_run_slots', {
  jobId: uuid('job_id')
    .primaryKey()
    .references(() => schedulerJobs.id),
  workflowId: text('workflow_id').notNull(),
  /** Null only inside the run-now transaction that starts the workflow. */
  runId: text('run_id'),
  claimedAt: timestamp('claimed_at', { withTimezone: true }).notNull().defaultNow(),
  waitingWorkflowId: text('waiting_workflow_id'),
  waitingRunId: text('waiting_run_id'),
});

export type SchedulerJobRunSlotRow = typeof schedulerJobRunSlots.$inferSelect;
