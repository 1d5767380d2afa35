/**
 * Who started a run of a system task or a scheduled job: its schedule, `temporal schedule trigger`
 * (cli), or an admin through the API (manual); `task_trigger` in the database. Only a job's run tells
 * a trigger from its schedule (by the scheduled start time, activities/jobs/runs.ts): a system task
 * started by `temporal schedule trigger` records `schedule`.
 */
export const TASK_TRIGGERS = ['schedule', 'manual', 'cli'] as const;
export type TaskTrigger = (typeof TASK_TRIGGERS)[number];

/** A system task's run, as its `task_executions` row says. */
export const TASK_EXECUTION_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type TaskExecutionStatus = (typeof TASK_EXECUTION_STATUSES)[number];

/** The verdict of a system health check, stored with the run that made it. */
export const HEALTH_STATUSES = ['HEALTHY', 'UNHEALTHY', 'CRITICAL'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];
