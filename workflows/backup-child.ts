import { executeChild, uuid4 } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type Duration } from '@temporalio/common';
import { backupWorkflowId, type BackupInput, type BackupOutcome } from '../common';
import type { backup } from './backup';

/**
 * Runs a configuration's `backup` workflow as a child of a system-task or job run. Its id is the
 * configuration's (`backup-<config>`), so a backup is never doubled: when one of that configuration
 * is already running, whoever started it, `outcome` is `null` and this run started nothing.
 * @param timeout how long the whole backup may take (a job's `timeout_seconds`); none by default.
 */
export async function runBackupChild(
  config: { id: string; name: string },
  input: Omit<BackupInput, 'backupRunId' | 'configId'>,
  timeout?: Duration,
): Promise<{ workflowId: string; outcome: BackupOutcome | null }> {
  const workflowId = backupWorkflowId(config.name);
  try {
    const outcome = await executeChild<typeof backup>('backup', {
      workflowId,
      ...(timeout ? { workflowExecutionTimeout: timeout } : {}),
      args: [{ backupRunId: uuid4(), configId: config.id, ...input }],
    });
    return { workflowId, outcome };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return { workflowId, outcome: null };
  }
}
