import {
  ScheduleNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type Connection,
  type ScheduleDescription,
} from '@temporalio/client';
import { and, count, desc, eq, gte, lt, sql } from 'drizzle-orm';
import {
  SYSTEM_TASK_NAMES,
  SYSTEM_TASKS,
  isSystemTaskName,
  type SystemTaskInput,
  type SystemTaskName,
  type SystemTaskOutcome,
} from '../../common';
import { recordAudit, schema, type Database, type TaskExecutionRow } from '../../db';
import { reconcileAbandonedRuns } from '../../schedules/run-reconciliation';
import { SYSTEM_SCHEDULES, type SystemSchedule } from '../../schedules/system-schedules';
import { checkHealth } from './health';
import { badRequest, conflict, notFound } from '../errors';
import type { Actor } from './users';

const { taskExecutions, documents, reviewTasks, systemHealthChecks } = schema;

export interface SchedulerDeps {
  db: Database;
  temporal: Client;
  /** The API's retry-less connection for worker poller counts (as /health). */
  probe: Connection;
  namespace: string;
  temporalAddress: string;
  sql: Parameters<typeof checkHealth>[0]['sql'];
}

export type AlertSeverity = 'critical' | 'warning' | 'info';
export interface Alert {
  severity: AlertSeverity;
  code: string;
  message: string;
}

const HOUR_MS = 3_600_000;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export function requireTaskName(name: string): SystemTaskName {
  if (!isSystemTaskName(name)) {
    throw badRequest('unknown_task', `Unknown task '${name}'. Valid task names: ${SYSTEM_TASK_NAMES.join(', ')}`, {
      valid_task_names: SYSTEM_TASK_NAMES,
    });
  }
  return name;
}

export function requireSchedule(scheduleId: string): SystemSchedule {
  const schedule = SYSTEM_SCHEDULES.find((s) => s.scheduleId === scheduleId);
  if (!schedule) throw notFound(`No system schedule '${scheduleId}'`);
  return schedule;
}

export const executionView = (row: TaskExecutionRow) => ({
  id: row.id,
  task_name: row.taskName,
  schedule_id: row.scheduleId,
  workflow_id: row.workflowId,
  run_id: row.runId,
  trigger: row.trigger,
  triggered_by: row.triggeredBy,
  dry_run: row.dryRun,
  status: row.status,
  started_at: row.startedAt.toISOString(),
  finished_at: row.finishedAt?.toISOString() ?? null,
  duration_seconds: row.durationSeconds,
  result: row.result ?? null,
  error: row.error,
});

export async function recentExecutions(db: Database, taskName: SystemTaskName, limit: number) {
  const rows = await db
    .select()
    .from(taskExecutions)
    .where(eq(taskExecutions.taskName, taskName))
    .orderBy(desc(taskExecutions.startedAt))
    .limit(limit);
  return rows.map(executionView);
}

/**
 * The workflow id of a task's manual runs: one per task, so Temporal refuses a second manual run of
 * the task while one is going (the id is free again once that run has closed).
 */
export const manualTaskWorkflowId = (taskName: SystemTaskName) => `manual-${taskName.replace(/_/g, '-')}`;

/**
 * Runs a task now as `actor` and waits for it. The workflow records the run and its audit entries
 * (TASK_EXECUTION_STARTED, then COMPLETED or FAILED) like any scheduled run. A manual run of the task
 * already going is a 409 `task_running`: two admins pressing Run now at once run it once.
 */
export async function triggerTask(
  deps: SchedulerDeps,
  taskName: SystemTaskName,
  dryRun: boolean,
  actor: Actor,
  options?: SystemTaskInput['options'],
) {
  const task = SYSTEM_TASKS[taskName];
  if (dryRun && !task.supportsDryRun) {
    throw badRequest('dry_run_unsupported', `${taskName} cannot run as a dry run: it only reports or only sends`, {
      task_name: taskName,
    });
  }
  const input: SystemTaskInput = {
    taskName,
    dryRun,
    trigger: 'manual',
    triggeredBy: actor.username,
    ...(options ? { options } : {}),
  };
  const workflowId = manualTaskWorkflowId(taskName);
  const handle = await deps.temporal.workflow
    .start('systemTask', {
      taskQueue: task.taskQueue,
      workflowId,
      args: [input],
      workflowExecutionTimeout: `${task.timeoutMinutes + 5} minutes`,
    })
    .catch((error: unknown) => {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      throw conflict('task_running', `A manual run of ${taskName} is in progress; wait for it to finish`, {
        task_name: taskName,
        workflow_id: workflowId,
      });
    });
  const startedAt = new Date();
  const answer = {
    task_name: taskName,
    task_display_name: task.displayName,
    execution_time: startedAt.toISOString(),
    dry_run: dryRun,
    executed_by: actor.username,
    workflow_id: handle.workflowId,
  };
  try {
    const outcome = (await handle.result()) as SystemTaskOutcome;
    const [row] = await deps.db.select().from(taskExecutions).where(eq(taskExecutions.id, outcome.executionId));
    return {
      success: true,
      ...answer,
      execution_id: outcome.executionId,
      duration_seconds: row?.durationSeconds ?? round((Date.now() - startedAt.getTime()) / 1000, 3),
      result: outcome.result,
    };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    const [row] = await deps.db
      .select()
      .from(taskExecutions)
      .where(
        and(eq(taskExecutions.workflowId, handle.workflowId), eq(taskExecutions.runId, handle.firstExecutionRunId)),
      );
    const cause = (error.cause?.cause ?? error.cause) as Error | undefined;
    return {
      success: false,
      ...answer,
      execution_id: row?.id ?? null,
      duration_seconds: row?.durationSeconds ?? round((Date.now() - startedAt.getTime()) / 1000, 3),
      result: null,
      error: row?.error ?? cause?.message ?? error.message,
    };
  }
}

/** Triggers, pauses and unpauses a system schedule, with an audit entry naming who and why. */
export async function controlSchedule(
  deps: SchedulerDeps,
  scheduleId: string,
  action: 'trigger' | 'pause' | 'unpause',
  actor: Actor,
  note?: string,
) {
  requireSchedule(scheduleId);
  const handle = deps.temporal.schedule.getHandle(scheduleId);
  const stated = note ? `${action === 'pause' ? 'paused' : 'unpaused'} by ${actor.username}: ${note}` : undefined;
  try {
    if (action === 'trigger') await handle.trigger();
    else if (action === 'pause') await handle.pause(stated ?? `paused by ${actor.username}`);
    else await handle.unpause(stated ?? `unpaused by ${actor.username}`);
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) {
      throw notFound(`Schedule '${scheduleId}' does not exist in Temporal yet (run npm run schedules:sync)`);
    }
    throw error;
  }
  const auditAction = { trigger: 'SCHEDULE_TRIGGERED', pause: 'SCHEDULE_PAUSED', unpause: 'SCHEDULE_UNPAUSED' }[action];
  await recordAudit(deps.db, {
    action: auditAction,
    actor: actor.username,
    entityType: 'schedule',
    entityId: scheduleId,
    requestId: actor.requestId ?? null,
    details: { note: note ?? null },
  });
  const description = await handle.describe();
  return {
    schedule_id: scheduleId,
    action,
    paused: description.state.paused,
    note: description.state.note ?? null,
    next_run_times: description.info.nextActionTimes.map((time) => time.toISOString()),
  };
}

async function describeSchedules(temporal: Client) {
  const described = new Map<string, ScheduleDescription | undefined>();
  let error: string | undefined;
  await Promise.all(
    SYSTEM_SCHEDULES.map(async (schedule) => {
      try {
        described.set(schedule.scheduleId, await temporal.schedule.getHandle(schedule.scheduleId).describe());
      } catch (cause) {
        if (cause instanceof ScheduleNotFoundError) described.set(schedule.scheduleId, undefined);
        else error = (cause as Error).message;
      }
    }),
  );
  return { described, error };
}

/**
 * The monitoring overview. The score starts at 100 and loses 30 per critical alert and 10 per
 * warning (never below 0); overall_status is CRITICAL with any critical alert or a score under 40,
 * WARNING under 70, GOOD under 90, otherwise EXCELLENT.
 */
export async function monitoringStatus(deps: SchedulerDeps) {
  const { db } = deps;
  // Backups and task runs whose workflow was terminated are failures, not runs still going.
  await reconcileAbandonedRuns(db, deps.temporal, { tables: ['backups', 'tasks'] });
  const since24h = sql`now() - interval '24 hours'`;
  const countOf = async (query: Promise<{ value: number }[]>) => (await query)[0]?.value ?? 0;

  const [health, schedules, lastRuns, failedRecently, lastHealth] = await Promise.all([
    checkHealth({
      sql: deps.sql,
      temporal: deps.probe,
      temporalAddress: deps.temporalAddress,
      namespace: deps.namespace,
    }),
    describeSchedules(deps.temporal),
    db
      .selectDistinctOn([taskExecutions.taskName])
      .from(taskExecutions)
      .orderBy(taskExecutions.taskName, desc(taskExecutions.startedAt)),
    db
      .select({ taskName: taskExecutions.taskName, value: count() })
      .from(taskExecutions)
      .where(and(eq(taskExecutions.status, 'failed'), gte(taskExecutions.startedAt, since24h)))
      .groupBy(taskExecutions.taskName),
    db.select().from(systemHealthChecks).orderBy(desc(systemHealthChecks.checkedAt)).limit(1),
  ]);

  const runs = schema.backupRuns;
  const backupRuns = (status?: 'succeeded' | 'failed') =>
    countOf(
      db
        .select({ value: count() })
        .from(runs)
        .where(and(gte(runs.startedAt, since24h), status ? eq(runs.status, status) : undefined)),
    );
  const [lastBackup] = await db
    .select({ at: runs.finishedAt })
    .from(runs)
    .where(eq(runs.status, 'succeeded'))
    .orderBy(desc(runs.finishedAt))
    .limit(1);
  const enabledBackupConfigs = await countOf(
    db.select({ value: count() }).from(schema.backupConfigs).where(eq(schema.backupConfigs.enabled, true)),
  );
  const activeWorkflows = await deps.temporal.workflow
    .count('ExecutionStatus = "Running"')
    .then((result) => result.count)
    .catch(() => null);
  const taskStatistics = {
    documents_pending_effective: await countOf(
      db.select({ value: count() }).from(documents).where(eq(documents.status, 'APPROVED_PENDING_EFFECTIVE')),
    ),
    documents_scheduled_obsolescence: await countOf(
      db.select({ value: count() }).from(documents).where(eq(documents.status, 'SCHEDULED_FOR_OBSOLESCENCE')),
    ),
    active_workflows: activeWorkflows,
    overdue_workflows: await countOf(
      db
        .select({ value: count() })
        .from(reviewTasks)
        .where(and(eq(reviewTasks.status, 'pending'), lt(reviewTasks.dueAt, sql`now()`))),
    ),
    backup_jobs_last_24h: await backupRuns(),
    backup_jobs_failed_24h: await backupRuns('failed'),
    backup_jobs_completed_24h: await backupRuns('succeeded'),
    enabled_backup_configs: enabledBackupConfigs,
    last_successful_backup_hours_ago: lastBackup?.at ? round((Date.now() - lastBackup.at.getTime()) / HOUR_MS) : null,
  };

  const alerts: Alert[] = [];
  if (taskStatistics.backup_jobs_failed_24h > 0) {
    alerts.push({
      severity: 'critical',
      code: 'backup_failed',
      message: `${taskStatistics.backup_jobs_failed_24h} backup run(s) failed in the last 24 hours`,
    });
  }
  const backupAge = taskStatistics.last_successful_backup_hours_ago;
  if (backupAge === null || backupAge > 48) {
    alerts.push({
      severity: 'critical',
      code: 'no_recent_backup',
      message: backupAge === null ? 'No successful backup on record' : `Last successful backup ${backupAge} hours ago`,
    });
  } else if (backupAge > 30) {
    alerts.push({
      severity: 'warning',
      code: 'backup_overdue',
      message: `Last successful backup ${backupAge} hours ago`,
    });
  }
  if (taskStatistics.enabled_backup_configs === 0) {
    alerts.push({ severity: 'warning', code: 'no_backup_config', message: 'No enabled backup configuration' });
  }
  if (taskStatistics.overdue_workflows > 0) {
    alerts.push({
      severity: 'warning',
      code: 'overdue_reviews',
      message: `${taskStatistics.overdue_workflows} review or approval task(s) overdue`,
    });
  }
  for (const [queue, state] of Object.entries(health.components.workers.task_queues)) {
    if (state.status !== 'up') {
      alerts.push({ severity: 'critical', code: 'no_worker', message: `No worker polls the ${queue} task queue` });
    }
  }
  if (schedules.error) {
    alerts.push({
      severity: 'critical',
      code: 'temporal_unreachable',
      message: `Schedules unreadable: ${schedules.error}`,
    });
  }
  for (const schedule of SYSTEM_SCHEDULES) {
    const description = schedules.described.get(schedule.scheduleId);
    if (schedules.described.has(schedule.scheduleId) && !description) {
      alerts.push({
        severity: 'warning',
        code: 'schedule_missing',
        message: `Schedule ${schedule.scheduleId} does not exist`,
      });
    } else if (description?.state.paused) {
      alerts.push({
        severity: 'warning',
        code: 'schedule_paused',
        message: `Schedule ${schedule.scheduleId} is paused${description.state.note ? `: ${description.state.note}` : ''}`,
      });
    }
  }
  for (const failed of failedRecently) {
    alerts.push({
      severity: 'warning',
      code: 'task_failed',
      message: `${failed.taskName} failed ${failed.value} time(s) in the last 24 hours`,
    });
  }
  const healthVerdict = lastHealth[0];
  if (healthVerdict && healthVerdict.status !== 'HEALTHY') {
    alerts.push({
      severity: healthVerdict.status === 'CRITICAL' ? 'critical' : 'warning',
      code: 'health_check_unhealthy',
      message: `Last health check (${healthVerdict.checkedAt.toISOString()}) was ${healthVerdict.status}`,
    });
  }

  const criticals = alerts.filter((a) => a.severity === 'critical').length;
  const warnings = alerts.filter((a) => a.severity === 'warning').length;
  const healthScore = Math.max(0, 100 - 30 * criticals - 10 * warnings);
  const overallStatus =
    criticals > 0 || healthScore < 40
      ? 'CRITICAL'
      : healthScore < 70
        ? 'WARNING'
        : healthScore < 90
          ? 'GOOD'
          : 'EXCELLENT';

  const lastRunOf = new Map(lastRuns.map((row) => [row.taskName, row]));
  const availableTasks = Object.fromEntries(
    SYSTEM_TASK_NAMES.map((taskName) => {
      const task = SYSTEM_TASKS[taskName];
      const schedule = SYSTEM_SCHEDULES.find((s) => s.taskName === taskName);
      const description = schedule ? schedules.described.get(schedule.scheduleId) : undefined;
      const last = lastRunOf.get(taskName);
      return [
        taskName,
        {
          name: task.displayName,
          description: task.description,
          category: task.category,
          priority: task.priority,
          icon: task.icon,
          schedule_id: schedule?.scheduleId ?? null,
          schedule: schedule?.when ?? null,
          paused: description?.state.paused ?? null,
          next_run_times: description?.info.nextActionTimes.slice(0, 3).map((time) => time.toISOString()) ?? [],
          last_run: last
            ? { status: last.status, at: last.startedAt.toISOString(), duration_seconds: last.durationSeconds }
            : null,
          supports_dry_run: task.supportsDryRun,
        },
      ];
    }),
  );

  // Every schedule, even when two share a task (the weekly and monthly backups run run_scheduled_backup too).
  const scheduleList = SYSTEM_SCHEDULES.map((schedule) => {
    const description = schedules.described.get(schedule.scheduleId);
    return {
      schedule_id: schedule.scheduleId,
      task_name: schedule.taskName,
      schedule: schedule.when,
      exists: description ? true : schedules.described.has(schedule.scheduleId) ? false : null,
      paused: description?.state.paused ?? null,
      note: description?.state.note ?? null,
      next_run_times: description?.info.nextActionTimes.slice(0, 3).map((time) => time.toISOString()) ?? [],
    };
  });

  return {
    timestamp: new Date().toISOString(),
    overall_status: overallStatus,
    health_score: healthScore,
    workers: health.components.workers,
    schedules_running: [...schedules.described.values()].filter((d) => d && !d.state.paused).length,
    task_statistics: taskStatistics,
    alerts,
    schedules: scheduleList,
    available_tasks: availableTasks,
  };
}
