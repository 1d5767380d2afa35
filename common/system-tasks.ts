import type { BackupType } from './backups';
import { TASK_QUEUES, type TaskQueueName } from './task-queues';

/**
 * The system tasks, by the names of the old Celery tasks (runbooks and the manual-trigger API use
 * them). Dependency-free: the system-task workflow, the API and the schedule sync all read it.
 */
export const SYSTEM_TASK_NAMES = [
  'process_document_effective_dates',
  'process_document_obsoletion_dates',
  'check_workflow_timeouts',
  'cleanup_workflow_tasks',
  'weekly_comprehensive_cleanup',
  'process_notification_queue',
  'send_daily_summary',
  'perform_system_health_check',
  'cleanup_execution_history',
  'run_scheduled_backup',
  'cleanup_old_backups',
] as const;

export type SystemTaskName = (typeof SYSTEM_TASK_NAMES)[number];

export type TaskTrigger = 'schedule' | 'manual' | 'cli';

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
}

export const SYSTEM_TASKS: Record<SystemTaskName, SystemTaskDefinition> = {
  process_document_effective_dates: {
    displayName: 'Process document effective dates',
    description:
      'Safety net: documents whose effective instant has passed but are not EFFECTIVE get their workflow signalled or started.',
    category: 'documents',
    priority: 8,
    icon: 'calendar-check',
    taskQueue: TASK_QUEUES.scheduler,
    supportsDryRun: true,
    timeoutMinutes: 30,
  },
  process_document_obsoletion_dates: {
    displayName: 'Process document obsolescence dates',
    description:
      'Safety net: documents whose obsolescence instant has passed but are not OBSOLETE get their workflow signalled or started.',
    category: 'documents',
    priority: 8,
    icon: 'calendar-x',
    taskQueue: TASK_QUEUES.scheduler,
    supportsDryRun: true,
    timeoutMinutes: 30,
  },
  check_workflow_timeouts: {
    displayName: 'Check workflow timeouts',
    description:
      'Report of overdue review and approval tasks, including tasks whose document workflow is no longer running.',
    category: 'workflows',
    priority: 6,
    icon: 'clock-alert',
    taskQueue: TASK_QUEUES.scheduler,
    supportsDryRun: true,
    timeoutMinutes: 15,
  },
  cleanup_workflow_tasks: {
    displayName: 'Clean up workflow tasks',
    description: 'Cancels orphaned, duplicate and expired review tasks.',
    category: 'maintenance',
    priority: 5,
    icon: 'broom',
    taskQueue: TASK_QUEUES.maintenance,
    supportsDryRun: true,
    timeoutMinutes: 30,
  },
  weekly_comprehensive_cleanup: {
    displayName: 'Weekly comprehensive cleanup',
    description: 'Deeper cleanup: workflow tasks, delivered notifications and execution history past their retention.',
    category: 'maintenance',
    priority: 5,
    icon: 'trash',
    taskQueue: TASK_QUEUES.maintenance,
    supportsDryRun: true,
    timeoutMinutes: 120,
  },
  process_notification_queue: {
    displayName: 'Process notification queue',
    description: 'Resends outbox emails that are still pending or failed, through their delivery workflows.',
    category: 'notifications',
    priority: 7,
    icon: 'mail',
    taskQueue: TASK_QUEUES.scheduler,
    supportsDryRun: true,
    timeoutMinutes: 10,
  },
  send_daily_summary: {
    displayName: 'Send daily summary',
    description: 'Emails the administrators a summary of the last 24 hours.',
    category: 'notifications',
    priority: 3,
    icon: 'newspaper',
    taskQueue: TASK_QUEUES.scheduler,
    supportsDryRun: false,
    timeoutMinutes: 10,
  },
  perform_system_health_check: {
    displayName: 'System health check',
    description:
      'Checks the database, workflows, audit trail, document storage, CPU, memory and disk; stores and audits the verdict.',
    category: 'monitoring',
    priority: 4,
    icon: 'heart-pulse',
    taskQueue: TASK_QUEUES.scheduler,
    supportsDryRun: false,
    timeoutMinutes: 5,
  },
  cleanup_execution_history: {
    displayName: 'Clean up execution history',
    description: 'Deletes stored task results older than the retention (EDMS_TASK_RETENTION_DAYS, default 7).',
    category: 'maintenance',
    priority: 2,
    icon: 'history',
    taskQueue: TASK_QUEUES.maintenance,
    supportsDryRun: true,
    timeoutMinutes: 30,
  },
  run_scheduled_backup: {
    displayName: 'Scheduled backup',
    description:
      'pg_dump of the application database and an archive of document storage, with a manifest of checksums and row counts, packaged under EDMS_BACKUP_DIR.',
    category: 'backup',
    priority: 9,
    icon: 'database-backup',
    taskQueue: TASK_QUEUES.maintenance,
    supportsDryRun: false,
    timeoutMinutes: 180,
  },
  cleanup_old_backups: {
    displayName: 'Clean up old backups',
    description: 'Deletes backup archives beyond their retention, never the newest of a type.',
    category: 'backup',
    priority: 7,
    icon: 'archive-x',
    taskQueue: TASK_QUEUES.maintenance,
    supportsDryRun: true,
    timeoutMinutes: 30,
  },
};

export const isSystemTaskName = (name: string): name is SystemTaskName =>
  (SYSTEM_TASK_NAMES as readonly string[]).includes(name);

/**
 * Temporal's priority keys run 1 (first) to 5 (last); the old Celery priorities 0-9 map onto them,
 * so backups (9) go before health checks (4) when a queue is backed up.
 */
export const temporalPriorityKey = (celeryPriority: number): number =>
  Math.min(5, Math.max(1, 5 - Math.floor(celeryPriority / 2)));

/** Input of the `systemTask` workflow, whether a schedule, an admin or the CLI started it. */
export interface SystemTaskInput {
  taskName: SystemTaskName;
  dryRun?: boolean;
  trigger?: TaskTrigger;
  /** Username for manual runs; schedules run as `system_scheduler`. */
  triggeredBy?: string;
  scheduleId?: string;
  /**
   * Task-specific options: which backup configuration to run (by name), or else the backup type
   * (the schedule's own configuration, then the first enabled one of that type).
   */
  options?: { backupType?: BackupType; config?: string };
}

/** The result every document task reports (as the old Celery tasks did). */
export interface DocumentTaskResult {
  processed_count: number;
  success_count: number;
  error_count: number;
  processed_documents: { id: string; document_number: string; action: string }[];
  errors: { id: string; document_number: string; error: string }[];
  timestamp: string;
  dry_run: boolean;
}

export type TaskResult = Record<string, unknown>;

export interface SystemTaskOutcome {
  taskName: SystemTaskName;
  executionId: string;
  dryRun: boolean;
  result: TaskResult;
}
