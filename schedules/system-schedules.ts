import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import {
  DEFAULT_DST_POLICY,
  SYSTEM_TASK_NAMES,
  SYSTEM_TASKS,
  type SystemTaskInput,
  type SystemTaskName,
  type SystemTaskSchedule,
} from '../common';
import { applyDstPolicy } from './dst';

export interface SystemSchedule {
  scheduleId: string;
  taskName: SystemTaskName;
  /** The spec in words, for people (the monitoring API shows it). */
  when: string;
  spec: Omit<ScheduleSpec, 'timezone'>;
  overlap: ScheduleOverlapPolicy;
  /** Runs missed while Temporal was down are still taken within this window. */
  catchupWindow: Duration;
  options?: SystemTaskInput['options'];
}

/**
 * The system schedules that replaced Celery Beat's beat_schedule, as each task declares them
 * (common/system-tasks.ts), in task order. Each skips a run while its previous run is still going.
 */
export const SYSTEM_SCHEDULES: readonly SystemSchedule[] = SYSTEM_TASK_NAMES.flatMap((taskName) =>
  SYSTEM_TASKS[taskName].schedules.map((schedule: SystemTaskSchedule): SystemSchedule => ({
    scheduleId: schedule.scheduleId,
    taskName,
    when: schedule.when,
    spec: 'cron' in schedule ? { cronExpressions: [schedule.cron] } : { intervals: [{ every: schedule.every }] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: schedule.catchupWindow,
    ...(schedule.options ? { options: schedule.options } : {}),
  })),
);

/**
 * What Temporal is asked to run for a schedule, in EDMS_TIMEZONE, with the default DST policy: a run
 * whose local time the clocks skip (02:00 `backup-daily-full` in a zone that jumps 02:00-03:00) runs
 * at the first instant after the gap, and a repeated local time runs once. `now` starts the DST
 * horizon (schedules/dst.ts), so every sync renews it.
 */
export function scheduleOptions(schedule: SystemSchedule, timezone: string, now: Date = new Date()): ScheduleOptions {
  const task = SYSTEM_TASKS[schedule.taskName];
  const input: SystemTaskInput = {
    taskName: schedule.taskName,
    trigger: 'schedule',
    scheduleId: schedule.scheduleId,
    ...(schedule.options ? { options: schedule.options } : {}),
  };
  return {
    scheduleId: schedule.scheduleId,
    spec: { ...applyDstPolicy(schedule.spec, timezone, DEFAULT_DST_POLICY, now).spec, timezone },
    action: {
      type: 'startWorkflow',
      workflowType: 'systemTask',
      // Temporal appends the scheduled time to this id for each run.
      workflowId: schedule.scheduleId,
      taskQueue: task.taskQueue,
      args: [input],
      // The task's own activity timeout plus room for the bookkeeping around it. (The SDK takes no
      // priority on schedule actions; the task's activities carry it, see workflows/system-task.ts.)
      workflowExecutionTimeout: `${task.timeoutMinutes + 5} minutes`,
      staticSummary: task.displayName,
    },
    policies: { overlap: schedule.overlap, catchupWindow: schedule.catchupWindow, pauseOnFailure: false },
    memo: { task_name: schedule.taskName },
  };
}

export interface ScheduleSyncReport {
  created: string[];
  updated: string[];
}

/**
 * Creates every system schedule, or brings an existing one up to date with its definition while
 * keeping whether an operator paused it (and why). Safe to run from every worker at start.
 */
export async function syncSchedules(
  client: Client,
  timezone: string,
  now: Date = new Date(),
): Promise<ScheduleSyncReport> {
  const report: ScheduleSyncReport = { created: [], updated: [] };
  for (const schedule of SYSTEM_SCHEDULES) {
    const options = scheduleOptions(schedule, timezone, now);
    try {
      await client.schedule.create(options);
      report.created.push(schedule.scheduleId);
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await client.schedule.getHandle(schedule.scheduleId).update((previous) => ({
        spec: options.spec,
        action: options.action,
        policies: options.policies,
        state: { paused: previous.state.paused, note: previous.state.note },
      }));
      report.updated.push(schedule.scheduleId);
    }
  }
  return report;
}
