import { Type, type Static } from '@sinclair/typebox';
import {
  DST_GAP_POLICIES,
  DST_REPEAT_POLICIES,
  JOB_EXECUTION_STATUSES,
  JOB_TEMPLATE_LEVELS,
  JOB_OVERLAP_POLICIES,
  JOB_STATUSES,
  JOB_TEMPLATE_IDS,
} from '../../common';
import { MultiLineText, OrNull, SingleLineText } from './common';

export const JobTemplate = Type.Object(
  {
    id: Type.String({ enum: [...JOB_TEMPLATE_IDS] }),
    name: Type.String(),
    description: Type.String(),
    category: Type.String(),
    icon: Type.String(),
    parameters_schema: Type.Unknown({ description: "JSON Schema of the job's parameters" }),
    estimated_duration: Type.String(),
    resource_usage: Type.String({ enum: [...JOB_TEMPLATE_LEVELS] }),
    risk_level: Type.String({ enum: [...JOB_TEMPLATE_LEVELS] }),
    supports_dry_run: Type.Boolean(),
  },
  { $id: 'JobTemplate' },
);

export const JobExecution = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    job_id: Type.String({ format: 'uuid' }),
    job_name: Type.String(),
    template_type: Type.String(),
    status: Type.String({ enum: [...JOB_EXECUTION_STATUSES] }),
    started_at: Type.String({ format: 'date-time' }),
    completed_at: OrNull(Type.String({ format: 'date-time' })),
    duration_seconds: Type.Union([Type.Number(), Type.Null()]),
    result: Type.Unknown(),
    error: OrNull(Type.String()),
    logs: Type.Array(Type.String()),
    attempt: Type.Integer(),
    triggered_by: Type.String({ description: 'schedule, cli, or manual:<username>' }),
    dry_run: Type.Boolean(),
    execution_host: OrNull(Type.String()),
    workflow_id: Type.String(),
    run_id: Type.String(),
  },
  { $id: 'JobExecution' },
);

export const Job = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: OrNull(Type.String()),
    template_type: Type.String({ enum: [...JOB_TEMPLATE_IDS] }),
    parameters: Type.Unknown(),
    schedule: Type.Unknown(),
    recurrence_type: OrNull(Type.String()),
    recurrence_config: Type.Unknown(),
    timezone: Type.String(),
    start_at: OrNull(Type.String({ format: 'date-time' })),
    end_at: OrNull(Type.String({ format: 'date-time' })),
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
    pause_note: OrNull(Type.String()),
    version: Type.Integer(),
    schedule_id: Type.String({ description: 'The Temporal Schedule: temporal schedule describe -s <schedule_id>' }),
    created_by: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_by: OrNull(Type.String()),
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
