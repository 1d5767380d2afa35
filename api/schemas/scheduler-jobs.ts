import { Type, type Static } from '@sinclair/typebox';
import {
  DEFAULT_DST_POLICY,
  DEFAULT_JOB_RETRY_POLICY,
  DST_GAP_POLICIES,
  DST_REPEAT_POLICIES,
  DEFAULT_JOB_TIMEOUT_SECONDS,
  JOB_EXECUTION_STATUSES,
  JOB_OVERLAP_POLICIES,
  JOB_STATUSES,
  MAX_JOB_INTERVAL_SECONDS,
  MAX_JOB_RETRY_INTERVAL_SECONDS,
  MAX_JOB_TIMEOUT_SECONDS,
} from '../../common';
import { JOB_TEMPLATE_IDS } from '../../common/job-templates';
import { RECURRENCE_TYPES } from '../../schedules/recurrence';
import { MultiLineText, Nullable as NullableInput, SingleLineText } from './common';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const Emails = (description: string) =>
  Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 50, uniqueItems: true, description });

export const JobTemplate = Type.Object(
  {
    id: Type.String({ enum: [...JOB_TEMPLATE_IDS] }),
    name: Type.String(),
    description: Type.String(),
    category: Type.String(),
    icon: Type.String(),
    parameters_schema: Type.Unknown({ description: "JSON Schema of the job's parameters" }),
    estimated_duration: Type.String(),
    resource_usage: Type.String({ enum: ['low', 'medium', 'high'] }),
    risk_level: Type.String({ enum: ['low', 'medium', 'high'] }),
    supports_dry_run: Type.Boolean(),
  },
  { $id: 'JobTemplate' },
);

const ScheduleForm = Type.Object(
  {
    cron: Type.Optional(SingleLineText({ maxLength: 200, description: 'Five-field cron, e.g. "0 8,12,18 * * 1-5"' })),
    interval_seconds: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: MAX_JOB_INTERVAL_SECONDS,
        description: `Run every this many seconds (60 to ${MAX_JOB_INTERVAL_SECONDS}, i.e. one minute to 366 days)`,
      }),
    ),
  },
  { additionalProperties: false, description: 'When it runs: a cron expression or a fixed interval' },
);

const RecurrenceConfig = Type.Object(
  {
    time: Type.Optional(SingleLineText({ maxLength: 8, description: 'HH:MM, 24-hour, in the job timezone' })),
    days: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 7 }), {
        minItems: 1,
        maxItems: 7,
        description: 'Weekly: 0 = Sunday … 6 = Saturday (7 is Sunday too)',
      }),
    ),
    day_of_month: Type.Optional(Type.Integer({ minimum: 1, maximum: 31, description: 'Monthly: 1-31' })),
    cron: Type.Optional(SingleLineText({ maxLength: 200, description: 'Custom: five-field cron' })),
    run_at: Type.Optional(SingleLineText({ maxLength: 40, description: 'Once: ISO 8601 instant with Z or an offset' })),
  },
  { additionalProperties: false },
);

const RetryPolicy = Type.Object(
  {
    max_attempts: Type.Integer({ minimum: 1, maximum: 10, default: DEFAULT_JOB_RETRY_POLICY.max_attempts }),
    initial_interval_seconds: Type.Integer({
      minimum: 1,
      maximum: MAX_JOB_RETRY_INTERVAL_SECONDS,
      default: DEFAULT_JOB_RETRY_POLICY.initial_interval_seconds,
    }),
    backoff_coefficient: Type.Number({
      minimum: 1,
      maximum: 10,
      default: DEFAULT_JOB_RETRY_POLICY.backoff_coefficient,
    }),
  },
  { additionalProperties: false, description: 'Attempts of one run, and the wait before each retry' },
);

const Notifications = Type.Object(
  {
    on_failure: Type.Optional(Emails('Emailed when a run ends failed, exhausted or timeout')),
    on_success: Type.Optional(Emails('Emailed when a run completes')),
  },
  { additionalProperties: false },
);

const DstPolicySchema = Type.Object(
  {
    gap: Type.String({
      enum: [...DST_GAP_POLICIES],
      default: DEFAULT_DST_POLICY.gap,
      description: 'A local time the clocks skip in spring: run at the first instant after the gap, or skip it',
    }),
    repeat: Type.String({
      enum: [...DST_REPEAT_POLICIES],
      default: DEFAULT_DST_POLICY.repeat,
      description: 'A local time the clocks show twice in autumn: run at its first occurrence only, or at both',
    }),
  },
  {
    additionalProperties: false,
    description: 'Daylight saving policy of calendar and cron runs (intervals and once jobs are instants)',
  },
);

/** What an admin defines; `PUT` sends it whole again with the `version` it was read at. */
const jobDefinition = {
  name: SingleLineText({ maxLength: 200 }),
  description: Type.Optional(NullableInput(MultiLineText({ maxLength: 2000 }), 'no description')),
  template_type: Type.String({ enum: [...JOB_TEMPLATE_IDS], description: 'GET /api/v1/scheduler-jobs/templates' }),
  parameters: Type.Record(Type.String(), Type.Unknown(), {
    default: {},
    description: "Checked against the template's parameters_schema",
  }),
  schedule: Type.Optional(ScheduleForm),
  recurrence_type: Type.Optional(Type.String({ enum: [...RECURRENCE_TYPES] })),
  recurrence_config: Type.Optional(RecurrenceConfig),
  timezone: Type.Optional(SingleLineText({ maxLength: 64, description: 'IANA zone, default UTC' })),
  start_at: Type.Optional(
    NullableInput(SingleLineText({ maxLength: 40, description: 'No run before this instant' }), 'no lower bound'),
  ),
  end_at: Type.Optional(
    NullableInput(SingleLineText({ maxLength: 40, description: 'No run after this instant' }), 'no upper bound'),
  ),
  dst_policy: Type.Optional(DstPolicySchema),
  timeout_seconds: Type.Integer({ minimum: 1, maximum: MAX_JOB_TIMEOUT_SECONDS, default: DEFAULT_JOB_TIMEOUT_SECONDS }),
  retry_policy: Type.Optional(RetryPolicy),
  overlap: Type.String({
    enum: [...JOB_OVERLAP_POLICIES],
    default: 'skip',
    description: 'When a run is still going at the next time: skip it, buffer one, or run both',
  }),
  notifications: Type.Optional(Notifications),
};

export const CreateJobBody = Type.Object(jobDefinition, { additionalProperties: false });
export type CreateJobBody = Static<typeof CreateJobBody>;

export const UpdateJobBody = Type.Object(
  {
    ...jobDefinition,
    version: Type.Integer({
      minimum: 1,
      maximum: 2_147_483_647,
      description: 'The version the change is based on; 409 if it is stale',
    }),
  },
  { additionalProperties: false },
);
export type UpdateJobBody = Static<typeof UpdateJobBody>;

export const JobExecution = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    job_id: Type.String({ format: 'uuid' }),
    job_name: Type.String(),
    template_type: Type.String(),
    status: Type.String({ enum: [...JOB_EXECUTION_STATUSES] }),
    started_at: Type.String({ format: 'date-time' }),
    completed_at: Nullable(Type.String({ format: 'date-time' })),
    duration_seconds: Type.Union([Type.Number(), Type.Null()]),
    result: Type.Unknown(),
    error: Nullable(Type.String()),
    logs: Type.Array(Type.String()),
    attempt: Type.Integer(),
    triggered_by: Type.String({ description: 'schedule, cli, or manual:<username>' }),
    dry_run: Type.Boolean(),
    execution_host: Nullable(Type.String()),
    workflow_id: Type.String(),
    run_id: Type.String(),
  },
  { $id: 'JobExecution' },
);

export const Job = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Nullable(Type.String()),
    template_type: Type.String({ enum: [...JOB_TEMPLATE_IDS] }),
    parameters: Type.Unknown(),
    schedule: Type.Unknown(),
    recurrence_type: Nullable(Type.String()),
    recurrence_config: Type.Unknown(),
    timezone: Type.String(),
    start_at: Nullable(Type.String({ format: 'date-time' })),
    end_at: Nullable(Type.String({ format: 'date-time' })),
    dst_policy: Type.Object({
      gap: Type.String({ enum: [...DST_GAP_POLICIES] }),
      repeat: Type.String({ enum: [...DST_REPEAT_POLICIES] }),
    }),
    schedule_description: Type.String({
      description: 'When it runs, in words, with its DST policy where DST touches it',
    }),
    timeout_seconds: Type.Integer(),
    retry_policy: Type.Unknown(),
    overlap: Type.String({ enum: [...JOB_OVERLAP_POLICIES] }),
    notifications: Type.Unknown(),
    status: Type.String({ enum: [...JOB_STATUSES] }),
    pause_note: Nullable(Type.String()),
    version: Type.Integer(),
    schedule_id: Type.String({ description: 'The Temporal Schedule: temporal schedule describe -s <schedule_id>' }),
    created_by: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_by: Nullable(Type.String()),
    updated_at: Type.String({ format: 'date-time' }),
    next_run_times: Type.Optional(
      Type.Array(Type.String({ format: 'date-time' }), { description: 'The next runs, as Temporal computes them' }),
    ),
    last_execution: Type.Optional(Type.Union([Type.Ref(JobExecution), Type.Null()])),
  },
  { $id: 'Job' },
);

export const JobIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ListJobsQuery = Type.Object({
  template: Type.Optional(Type.String({ enum: [...JOB_TEMPLATE_IDS] })),
  status: Type.Optional(Type.String({ enum: [...JOB_STATUSES] })),
  search: Type.Optional(SingleLineText({ maxLength: 200, description: 'In name and description' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  offset: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0, description: '0 to 10,000,000' }),
});
export type ListJobsQuery = Static<typeof ListJobsQuery>;

export const ExecutionsQuery = Type.Object({
  status: Type.Optional(Type.String({ enum: [...JOB_EXECUTION_STATUSES] })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
});

export const PauseBody = Type.Object(
  { note: Type.Optional(MultiLineText({ maxLength: 500, description: 'Why, shown with the job and the schedule' })) },
  { additionalProperties: false },
);

export const RunBody = Type.Object(
  { dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Report what it would do, change nothing' })) },
  { additionalProperties: false },
);

export const StartedRun = Type.Object({
  job_id: Type.String({ format: 'uuid' }),
  workflow_id: Type.String(),
  run_id: Type.String(),
  dry_run: Type.Boolean(),
  triggered_by: Type.String(),
  status: Type.Literal('running'),
});

export const JobStats = Type.Object({
  total_jobs: Type.Integer(),
  active_jobs: Type.Integer(),
  paused_jobs: Type.Integer(),
  running_now: Type.Integer(),
  success_rate_24h: Type.Union([Type.Number(), Type.Null()], { description: 'Percent of runs ended in 24 h' }),
  failure_rate_24h: Type.Union([Type.Number(), Type.Null()]),
  avg_duration_seconds: Type.Union([Type.Number(), Type.Null()]),
  total_runs: Type.Integer(),
  top_jobs_by_runs: Type.Array(Type.Object({ job_id: Type.String(), job_name: Type.String(), runs: Type.Integer() })),
  recent_failures: Type.Array(Type.Ref(JobExecution)),
});
