import type { SystemTaskDefinition } from './system-task-definition';
import { TASK_QUEUES } from './task-queues';

/**
 * The system tasks, by the names of the old Celery tasks (runbooks and the manual-trigger API use
 * them), each with its schedules (which replaced Celery Beat's beat_schedule). Dependency-free: the
 * system-task workflow, the API, the worker and the schedule sync all read it. Adding a task is an
 * entry here and its activity in activities/system-tasks/.
 */
export const SYSTEM_TASKS = {
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
    activity: 'processDocumentEffectiveDates',
    schedules: [
      {
        scheduleId: 'process-document-effective-dates',
        when: 'hourly at :00',
        cron: '0 * * * *',
        catchupWindow: '1 hour',
      },
    ],
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
    activity: 'processDocumentObsoletionDates',
    schedules: [
      {
        scheduleId: 'process-document-obsoletion-dates',
        when: 'hourly at :15',
        cron: '15 * * * *',
        catchupWindow: '1 hour',
      },
    ],
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
    activity: 'checkWorkflowTimeouts',
    schedules: [
      { scheduleId: 'check-workflow-timeouts', when: 'every 4 hours', cron: '0 */4 * * *', catchupWindow: '1 hour' },
    ],
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
    activity: 'cleanupWorkflowTasks',
    schedules: [
      { scheduleId: 'cleanup-workflow-tasks', when: 'every 6 hours', cron: '0 */6 * * *', catchupWindow: '1 hour' },
    ],
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
    activity: 'weeklyComprehensiveCleanup',
    schedules: [
      {
        scheduleId: 'weekly-comprehensive-cleanup',
        when: 'Sundays at 02:00',
        cron: '0 2 * * 0',
        catchupWindow: '1 day',
      },
    ],
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
    activity: 'processNotificationQueue',
    schedules: [
      {
        scheduleId: 'process-notification-queue',
        when: 'every 5 minutes',
        every: '5 minutes',
        catchupWindow: '5 minutes',
      },
    ],
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
    activity: 'sendDailySummary',
    schedules: [
      { scheduleId: 'send-daily-summary', when: 'daily at 08:00', cron: '0 8 * * *', catchupWindow: '6 hours' },
    ],
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
    activity: 'performSystemHealthCheck',
    schedules: [
      {
        scheduleId: 'perform-system-health-check',
        when: 'every 30 minutes',
        every: '30 minutes',
        catchupWindow: '30 minutes',
      },
    ],
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
    activity: 'cleanupExecutionHistory',
    schedules: [
      { scheduleId: 'cleanup-execution-history', when: 'daily at 03:00', cron: '0 3 * * *', catchupWindow: '6 hours' },
    ],
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
    activity: 'runScheduledBackup',
    schedules: [
      {
        scheduleId: 'backup-daily-full',
        when: 'daily at 02:00',
        cron: '0 2 * * *',
        catchupWindow: '6 hours',
        options: { backupType: 'full' },
      },
      {
        scheduleId: 'backup-weekly-export',
        when: 'Sundays at 03:00',
        cron: '0 3 * * 0',
        catchupWindow: '1 day',
        options: { backupType: 'export' },
      },
      {
        scheduleId: 'backup-monthly-archive',
        when: 'on the 1st at 04:00',
        cron: '0 4 1 * *',
        catchupWindow: '1 day',
        options: { backupType: 'archive' },
      },
    ],
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
    activity: 'cleanupOldBackups',
    schedules: [{ scheduleId: 'backup-cleanup', when: 'daily at 05:00', cron: '0 5 * * *', catchupWindow: '6 hours' }],
  },
} as const satisfies Record<string, SystemTaskDefinition>;

export type SystemTaskName = keyof typeof SYSTEM_TASKS;

export const SYSTEM_TASK_NAMES = Object.keys(SYSTEM_TASKS) as readonly SystemTaskName[];

export const isSystemTaskName = (name: string): name is SystemTaskName =>
  (SYSTEM_TASK_NAMES as readonly string[]).includes(name);

/** The activities system tasks run; activities/system-tasks/ registers each of them. */
export type SystemTaskActivity = (typeof SYSTEM_TASKS)[SystemTaskName]['activity'];
