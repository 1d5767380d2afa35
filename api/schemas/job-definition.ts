import { Type, type Static } from '@sinclair/typebox';
import {
  DEFAULT_DST_POLICY,
  DEFAULT_JOB_RETRY_POLICY,
  DST_GAP_POLICIES,
  DST_REPEAT_POLICIES,
  DEFAULT_JOB_TIMEOUT_SECONDS,
  JOB_OVERLAP_POLICIES,
  MAX_JOB_INTERVAL_SECONDS,
  MAX_JOB_RETRY_INTERVAL_SECONDS,
  MAX_JOB_TIMEOUT_SECONDS,
  JOB_TEMPLATE_IDS,
} from '../../common';
import { RECURRENCE_TYPES } from '../../schedules/recurrence-kinds';
import { MultiLineText, Nullable, SingleLineText } from './common';

const Emails = (description: string) =>
  Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 50, uniqueItems: true, description });

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
  description: Type.Optional(Nullable(MultiLineText({ maxLength: 2000 }), 'no description')),
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
    Nullable(SingleLineText({ maxLength: 40, description: 'No run before this instant' }), 'no lower bound'),
  ),
  end_at: Type.Optional(
    Nullable(SingleLineText({ maxLength: 40, description: 'No run after this instant' }), 'no upper bound'),
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
