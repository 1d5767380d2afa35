import {
  ScheduleNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
} from '@temporalio/client';
import { and, desc, eq } from 'drizzle-orm';
import {
  SYSTEM_TASK_NAMES,
  SYSTEM_TASKS,
  isSystemTaskName,
  type SystemTaskInput,
  type SystemTaskName,
  type SystemTaskOutcome,
} from '../../common';
import { recordAudit, schema, type Database, type TaskExecutionRow } from '../../db';
import { SYSTEM_SCHEDULES, type SystemSchedule } from '../../schedules/system-schedules';
import { badRequest, conflict, notFound } from '../errors';
import type { Actor } from './users';

const { taskExecutions } = schema;

export interface SchedulerDeps {
  db: Database;
  temporal: Client;
}

// The monitoring overview was written here before its parts had their folder; callers still find it here.

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
  // The run's own duration when its row has one; otherwise as the caller waited for it.
  const elapsedSeconds = () => (Date.now() - startedAt.getTime()) / 1000;
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
      duration_seconds: row?.durationSeconds ?? elapsedSeconds(),
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
      duration_seconds: row?.durationSeconds ?? elapsedSeconds(),
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
