import type { Duration } from '@temporalio/common';
import type { BackupType } from './backups';
import type { TaskQueueName } from './task-queues';

/**
 * Task-specific options of a run: which backup configuration to run (by name), or else the backup
 * type (the schedule's own configuration, then the first enabled one of that type).
 */
export interface SystemTaskOptions {
  backupType?: BackupType;
  config?: string;
}

/**
 * A Temporal Schedule of a system task, in EDMS_TIMEZONE. Its id is a contract with runbooks
 * (`temporal schedule trigger -s <id>`), and names the workflows it starts.
 */
export type SystemTaskSchedule = {
  scheduleId: string;
  /** The spec in words, for people (the monitoring API shows it). */
  when: string;
  /** Runs missed while Temporal was down are still taken within this window. */
  catchupWindow: Duration;
  options?: SystemTaskOptions;
} & ({ cron: string } | { every: Duration });

/**
 * One entry of SYSTEM_TASKS (common/system-tasks.ts): the task as the dashboard shows it, the queue,
 * activity and time limit of its runs, and the Temporal Schedules that start them.
 */
export interface SystemTaskDefinition {
  displayName: string;
  description: string;
  category: 'documents' | 'workflows' | 'notifications' | 'maintenance' | 'monitoring' | 'backup';
  /** The old Celery priority (0-9, 9 most urgent). */
  priority: number;
  icon: string;
  taskQueue: TaskQueueName;
  /** A dry run reports what the task would change and changes nothing. */
  supportsDryRun: boolean;
  /** How long one run may take before Temporal fails it. */
  timeoutMinutes: number;
  /** The activity doing the work, by its registered name (saved histories replay by it). */
  activity: string;
  schedules: readonly SystemTaskSchedule[];
}
