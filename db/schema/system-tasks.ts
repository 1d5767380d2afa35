/** Runs of the system tasks and the verdicts of the health check. */
import {
  boolean,
  index,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { HEALTH_STATUSES, TASK_EXECUTION_STATUSES, TASK_TRIGGERS } from '../../common';

export const taskTrigger = pgEnum('task_trigger', TASK_TRIGGERS);
export const taskExecutionStatus = pgEnum('task_execution_status', TASK_EXECUTION_STATUSES);

/** One run of a system task, whoever started it: the history the monitoring API shows. */
export const taskExecutions = pgTable(
  'task_executions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    taskName: text('task_name').notNull(),
    scheduleId: text('schedule_id'),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    trigger: taskTrigger('trigger').notNull(),
    triggeredBy: text('triggered_by').notNull(),
    dryRun: boolean('dry_run').notNull().default(false),
    status: taskExecutionStatus('status').notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    durationSeconds: numeric('duration_seconds', { precision: 12, scale: 3, mode: 'number' }),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: text('error'),
  },
  (t) => [
    uniqueIndex('task_executions_run_key').on(t.workflowId, t.runId),
    index('task_executions_task_idx').on(t.taskName, t.startedAt),
    index('task_executions_started_idx').on(t.startedAt),
  ],
);

export const healthStatus = pgEnum('health_status', HEALTH_STATUSES);

/** Verdicts of perform_system_health_check, newest last. */
export const systemHealthChecks = pgTable(
  'system_health_checks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull().defaultNow(),
    status: healthStatus('status').notNull(),
    checks: jsonb('checks').$type<Record<string, unknown>>().notNull(),
    /** The task execution that produced it: a retried activity finds its row and writes no second. */
    executionId: uuid('execution_id')
      .notNull()
      .references(() => taskExecutions.id, { onDelete: 'cascade' }),
  },
  (t) => [
    uniqueIndex('system_health_checks_execution_key').on(t.executionId),
    index('system_health_checks_at_idx').on(t.checkedAt),
  ],
);

export type TaskExecutionRow = typeof taskExecutions.$inferSelect;
