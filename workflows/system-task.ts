import { ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { bookkeepingOptions, HEARTBEAT_TIMEOUT } from './activity-options';
import type { TaskRequest } from '../activities/system-tasks';
import { runBackupChild } from './backup-child';
import { rootCause } from './failures';
import {
  FailureType,
  SYSTEM_SCHEDULER,
  SYSTEM_TASKS,
  temporalPriorityKey,
  type SystemTaskInput,
  type SystemTaskOutcome,
  type TaskResult,
} from '../common';

/** Recording runs is one short transaction each. */
const bookkeeping = proxyActivities<Activities>(bookkeepingOptions([FailureType.BackupConfigMissing]));

/** Backups run as their own workflow since this patch; older runs replay the single activity. */
const BACKUP_WORKFLOW_PATCH = 'backup-child-workflow';

/**
 * A backup task runs its configuration's `backup` workflow as a child. The child's id is the
 * configuration's, so when a backup of it is already running this run is skipped, not doubled.
 */
async function runBackupWorkflow(input: SystemTaskInput, executionId: string): Promise<TaskResult> {
  const config = await bookkeeping.resolveBackupConfig({
    config: input.options?.config,
    scheduleId: input.scheduleId,
    backupType: input.options?.backupType,
  });
  if (!config.enabled) {
    return { skipped: true, config: config.name, reason: `backup configuration ${config.name} is disabled` };
  }
  const { workflowId, outcome } = await runBackupChild(config, {
    executionId,
    triggeredBy: input.triggeredBy ?? SYSTEM_SCHEDULER,
  });
  if (outcome) return { ...outcome, skipped: false };
  return {
    skipped: true,
    config: config.name,
    reason: `a backup of ${config.name} is already running (${workflowId})`,
  };
}

/**
 * One run of a system task, started by its Temporal Schedule, by `temporal schedule trigger`, or by
 * an admin through the API: records the run (and its audit entries), does the work in the task's
 * activity, and records the result or the error.
 */
export async function systemTask(input: SystemTaskInput): Promise<SystemTaskOutcome> {
  const definition = SYSTEM_TASKS[input.taskName];
  if (!definition)
    throw ApplicationFailure.nonRetryable(`unknown system task ${input.taskName}`, FailureType.UnknownTask);
  const dryRun = input.dryRun ?? false;
  if (dryRun && !definition.supportsDryRun) {
    throw ApplicationFailure.nonRetryable(`${input.taskName} cannot run as a dry run`, FailureType.DryRunUnsupported);
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
    // The worker heartbeats every running task (worker/activity-liveness.ts): one killed mid-task is
    // retried after 20 s, not after the task's whole timeout.
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
    priority: { priorityKey: temporalPriorityKey(definition.priority) },
  });
  // Typed as an activity name: a task naming an activity the worker does not register fails to compile.
  const activity: keyof Activities = definition.activity;
  const runTask = work[activity] as (request: TaskRequest) => Promise<TaskResult>;
  try {
    const result =
      input.taskName === 'run_scheduled_backup' && patched(BACKUP_WORKFLOW_PATCH)
        ? await runBackupWorkflow(input, executionId)
        : await runTask({ executionId, dryRun, options: input.options });
    await bookkeeping.finishTaskExecution({ executionId, status: 'succeeded', result });
    return { taskName: input.taskName, executionId, dryRun, result };
  } catch (error) {
    await bookkeeping.finishTaskExecution({ executionId, status: 'failed', error: rootCause(error).message });
    throw error;
  }
}
