import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { DEFAULT_DST_POLICY, SYSTEM_TASKS, type SystemTaskInput, type SystemTaskName } from '../common';
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

/** The system schedules that replaced Celery Beat's beat_schedule (ids are a contract with runbooks). */
export const SYSTEM_SCHEDULES: readonly SystemSchedule[] = [
  {
    scheduleId: 'process-document-effective-dates',
    taskName: 'process_document_effective_dates',
    when: 'hourly at :00',
    spec: { cronExpressions: ['0 * * * *'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '1 hour',
  },
  {
    scheduleId: 'process-document-obsoletion-dates',
    taskName: 'process_document_obsoletion_dates',
    when: 'hourly at :15',
    spec: { cronExpressions: ['15 * * * *'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '1 hour',
  },
  {
    scheduleId: 'check-workflow-timeouts',
    taskName: 'check_workflow_timeouts',
    when: 'every 4 hours',
    spec: { cronExpressions: ['0 */4 * * *'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '1 hour',
  },
  {
    scheduleId: 'cleanup-workflow-tasks',
    taskName: 'cleanup_workflow_tasks',
    when: 'every 6 hours',
    spec: { cronExpressions: ['0 */6 * * *'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '1 hour',
  },
  {
    scheduleId: 'weekly-comprehensive-cleanup',
    taskName: 'weekly_comprehensive_cleanup',
    when: 'Sundays at 02:00',
    spec: { cronExpressions: ['0 2 * * 0'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '1 day',
  },
  {
    scheduleId: 'process-notification-queue',
    taskName: 'process_notification_queue',
    when: 'every 5 minutes',
    spec: { intervals: [{ every: '5 minutes' }] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '5 minutes',
  },
  {
    scheduleId: 'send-daily-summary',
    taskName: 'send_daily_summary',
    when: 'daily at 08:00',
    spec: { cronExpressions: ['0 8 * * *'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '6 hours',
  },
  {
    scheduleId: 'perform-system-health-check',
    taskName: 'perform_system_health_check',
    when: 'every 30 minutes',
    spec: { intervals: [{ every: '30 minutes' }] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '30 minutes',
  },
  {
    scheduleId: 'cleanup-execution-history',
    taskName: 'cleanup_execution_history',
    when: 'daily at 03:00',
    spec: { cronExpressions: ['0 3 * * *'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '6 hours',
  },
  {
    scheduleId: 'backup-daily-full',
    taskName: 'run_scheduled_backup',
    when: 'daily at 02:00',
    spec: { cronExpressions: ['0 2 * * *'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '6 hours',
    options: { backupType: 'full' },
  },
  {
    scheduleId: 'backup-weekly-export',
    taskName: 'run_scheduled_backup',
    when: 'Sundays at 03:00',
    spec: { cronExpressions: ['0 3 * * 0'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '1 day',
    options: { backupType: 'export' },
  },
  {
    scheduleId: 'backup-monthly-archive',
    taskName: 'run_scheduled_backup',
    when: 'on the 1st at 04:00',
    spec: { cronExpressions: ['0 4 1 * *'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '1 day',
    options: { backupType: 'archive' },
  },
  {
    scheduleId: 'backup-cleanup',
    taskName: 'cleanup_old_backups',
    when: 'daily at 05:00',
    spec: { cronExpressions: ['0 5 * * *'] },
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '6 hours',
  },
];

export const schedulesOfTask = (taskName: SystemTaskName) =>
  SYSTEM_SCHEDULES.filter((schedule) => schedule.taskName === taskName);

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
