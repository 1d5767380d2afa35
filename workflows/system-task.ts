import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TaskRequest } from '../activities/system-tasks';
import {
  SYSTEM_TASKS,
  temporalPriorityKey,
  type SystemTaskInput,
  type SystemTaskName,
  type SystemTaskOutcome,
  type TaskResult,
} from '../common';

/** The activity that does each task's work. */
const TASK_ACTIVITY = {
  process_document_effective_dates: 'processDocumentEffectiveDates',
  process_document_obsoletion_dates: 'processDocumentObsoletionDates',
  check_workflow_timeouts: 'checkWorkflowTimeouts',
  cleanup_workflow_tasks: 'cleanupWorkflowTasks',
  weekly_comprehensive_cleanup: 'weeklyComprehensiveCleanup',
  process_notification_queue: 'processNotificationQueue',
  send_daily_summary: 'sendDailySummary',
  perform_system_health_check: 'performSystemHealthCheck',
  cleanup_execution_history: 'cleanupExecutionHistory',
  run_scheduled_backup: 'runScheduledBackup',
  cleanup_old_backups: 'cleanupOldBackups',
} as const satisfies Record<SystemTaskName, keyof Activities>;

const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/**
 * One run of a system task, started by its Temporal Schedule, by `temporal schedule trigger`, or by
 * an admin through the API: records the run (and its audit entries), does the work in the task's
 * activity, and records the result or the error.
 */
export async function systemTask(input: SystemTaskInput): Promise<SystemTaskOutcome> {
  const definition = SYSTEM_TASKS[input.taskName];
  if (!definition) throw ApplicationFailure.nonRetryable(`unknown system task ${input.taskName}`, 'UnknownTask');
  const dryRun = input.dryRun ?? false;
  if (dryRun && !definition.supportsDryRun) {
    throw ApplicationFailure.nonRetryable(`${input.taskName} cannot run as a dry run`, 'DryRunUnsupported');
  }

  const executionId = await bookkeeping.startTaskExecution({
    taskName: input.taskName,
    scheduleId: input.scheduleId,
    trigger: input.trigger ?? 'schedule',
    triggeredBy: input.triggeredBy,
    dryRun,
  });
  const work = proxyActivities<Activities>({
    startToCloseTimeout: `${definition.timeoutMinutes} minutes`,
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
    priority: { priorityKey: temporalPriorityKey(definition.priority) },
  });
  const runTask = work[TASK_ACTIVITY[input.taskName]] as (request: TaskRequest) => Promise<TaskResult>;
  try {
    const result = await runTask({ executionId, dryRun, options: input.options });
    await bookkeeping.finishTaskExecution({ executionId, status: 'succeeded', result });
    return { taskName: input.taskName, executionId, dryRun, result };
  } catch (error) {
    const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
    await bookkeeping.finishTaskExecution({ executionId, status: 'failed', error: (cause as Error).message });
    throw error;
  }
}
