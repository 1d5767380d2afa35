import { Type } from '@sinclair/typebox';
import { BACKUP_TYPES, TASK_EXECUTION_STATUSES, TASK_TRIGGERS, TIMED_EVENTS } from '../../common';
import { MultiLineText, SingleLineText } from './common';

export const ManualTriggerBody = Type.Object(
  {
    task_name: SingleLineText({ maxLength: 100, description: 'A system task name, e.g. perform_system_health_check' }),
    dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Report what would change; change nothing' })),
    backup_type: Type.Optional(
      Type.String({ enum: [...BACKUP_TYPES], description: 'For run_scheduled_backup (default full)' }),
    ),
  },
  { additionalProperties: false },
);

const Json = Type.Unknown({ description: 'The task result (JSON)' });

export const ManualTriggerResult = Type.Object(
  {
    success: Type.Boolean(),
    task_name: Type.String(),
    task_display_name: Type.String(),
    execution_time: Type.String({ format: 'date-time' }),
    duration_seconds: Type.Number(),
    result: Json,
    dry_run: Type.Boolean(),
    executed_by: Type.String(),
    execution_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    workflow_id: Type.String(),
    error: Type.Optional(Type.String()),
  },
  { $id: 'ManualTriggerResult' },
);

export const ScheduleIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const ScheduleNoteBody = Type.Object(
  { note: Type.Optional(MultiLineText({ maxLength: 1000, description: 'Why (kept on the schedule and audited)' })) },
  { additionalProperties: false },
);

export const ScheduleState = Type.Object(
  {
    schedule_id: Type.String(),
    action: Type.String(),
    paused: Type.Boolean(),
    note: Type.Union([Type.String(), Type.Null()]),
    next_run_times: Type.Array(Type.String({ format: 'date-time' })),
  },
  { $id: 'ScheduleState' },
);

export const TaskNameParams = Type.Object({ task_name: Type.String({ minLength: 1, maxLength: 100 }) });
export const ExecutionsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
});

export const TaskExecution = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    task_name: Type.String(),
    schedule_id: Type.Union([Type.String(), Type.Null()]),
    workflow_id: Type.String(),
    run_id: Type.String(),
    trigger: Type.String({ enum: [...TASK_TRIGGERS] }),
    triggered_by: Type.String(),
    dry_run: Type.Boolean(),
    status: Type.String({ enum: [...TASK_EXECUTION_STATUSES] }),
    started_at: Type.String({ format: 'date-time' }),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    duration_seconds: Type.Union([Type.Number(), Type.Null()]),
    result: Json,
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'TaskExecution' },
);

/** How bad an alert of the monitoring status is, worst first. */
export const ALERT_SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
/** The monitoring status's verdict, from its health score and alerts, best first. */
export const OVERALL_STATUSES = ['EXCELLENT', 'GOOD', 'WARNING', 'CRITICAL'] as const;
export type OverallStatus = (typeof OVERALL_STATUSES)[number];
const UP_OR_DOWN = ['up', 'down'] as const;

const Alert = Type.Object({
  severity: Type.String({ enum: [...ALERT_SEVERITIES] }),
  code: Type.String(),
  message: Type.String(),
});

const QueueWorkers = Type.Object({
  status: Type.String({ enum: [...UP_OR_DOWN] }),
  workflow_pollers: Type.Integer(),
  activity_pollers: Type.Integer(),
  live_workers: Type.Integer({ description: 'Worker processes on this queue whose heartbeat is fresh (as /health)' }),
});

const AvailableTask = Type.Object({
  name: Type.String(),
  description: Type.String(),
  category: Type.String(),
  priority: Type.Integer(),
  icon: Type.String(),
  schedule_id: Type.Union([Type.String(), Type.Null()]),
  schedule: Type.Union([Type.String(), Type.Null()]),
  paused: Type.Union([Type.Boolean(), Type.Null()]),
  next_run_times: Type.Array(Type.String({ format: 'date-time' })),
  last_run: Type.Union([
    Type.Object({
      status: Type.String(),
      at: Type.String({ format: 'date-time' }),
      duration_seconds: Type.Union([Type.Number(), Type.Null()]),
    }),
    Type.Null(),
  ]),
  supports_dry_run: Type.Boolean(),
});

/** One system schedule as the status shows it: every one of them, even two that share a task. */
const ScheduleOverview = Type.Object({
  schedule_id: Type.String(),
  task_name: Type.String(),
  schedule: Type.String({ description: 'When it runs, in words (EDMS_TIMEZONE)' }),
  exists: Type.Union([Type.Boolean(), Type.Null()], { description: 'null when Temporal could not be asked' }),
  paused: Type.Union([Type.Boolean(), Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()], { description: 'Who paused it and why' }),
  next_run_times: Type.Array(Type.String({ format: 'date-time' })),
});

/** How late one kind of timed event came over the window (seconds; null when none happened). */
const EventLateness = Type.Object({
  event: Type.String({ enum: [...TIMED_EVENTS] }),
  count: Type.Integer({ minimum: 0 }),
  p50_seconds: Type.Union([Type.Number(), Type.Null()]),
  p99_seconds: Type.Union([Type.Number(), Type.Null()]),
  max_seconds: Type.Union([Type.Number(), Type.Null()]),
  sla_breaches: Type.Integer({ minimum: 0, description: 'Events later than the lateness SLA' }),
});

/** The monitoring overview of the scheduler dashboard. */
export const MonitoringStatus = Type.Object(
  {
    timestamp: Type.String({ format: 'date-time' }),
    overall_status: Type.String({ enum: [...OVERALL_STATUSES] }),
    health_score: Type.Integer({ minimum: 0, maximum: 100 }),
    workers: Type.Object({
      status: Type.String({ enum: [...UP_OR_DOWN] }),
      task_queues: Type.Record(Type.String(), QueueWorkers),
    }),
    schedules_running: Type.Integer(),
    task_statistics: Type.Object({
      documents_pending_effective: Type.Integer(),
      documents_scheduled_obsolescence: Type.Integer(),
      active_workflows: Type.Union([Type.Integer(), Type.Null()]),
      overdue_workflows: Type.Integer(),
      backup_jobs_last_24h: Type.Integer(),
      backup_jobs_failed_24h: Type.Integer(),
      backup_jobs_completed_24h: Type.Integer(),
      enabled_backup_configs: Type.Integer(),
      last_successful_backup_hours_ago: Type.Union([Type.Number(), Type.Null()]),
    }),
    lateness: Type.Object(
      {
        sla_seconds: Type.Number({ description: 'EDMS_LATENESS_SLA_SECONDS' }),
        window_hours: Type.Integer(),
        events: Type.Array(EventLateness),
      },
      { description: 'Lateness of timed events (effective, obsolete, reminder, escalation) over the last 24 hours' },
    ),
    alerts: Type.Array(Alert),
    available_tasks: Type.Record(Type.String(), AvailableTask),
    schedules: Type.Array(ScheduleOverview),
  },
  { $id: 'MonitoringStatus' },
);
