import type { BackupVerifyMode } from '../common';
import { recordAudit } from './audit';
import type { Database } from './client';
import { backupRuns, type BackupConfigRow } from './schema';

type Executor = Pick<Database, 'insert'>;

export interface BackupRunStart {
  backupRunId: string;
  config: Pick<BackupConfigRow, 'id' | 'name' | 'backupType'>;
  executionId?: string | null;
  workflowId: string | null;
  workflowRunId: string | null;
  triggeredBy: string;
  verifyMode?: BackupVerifyMode | null;
}

/**
 * Records that a backup run began: its `backup_runs` row and `BACKUP_STARTED`, once per run id.
 * Whoever comes first writes both (the API before it answers 202, so the run is readable at once; the
 * workflow's first step otherwise); the other finds the row and writes nothing.
 * @returns whether this call recorded the start
 */
export async function recordBackupRunStart(executor: Executor, start: BackupRunStart): Promise<boolean> {
  const inserted = await executor
    .insert(backupRuns)
    .values({
      id: start.backupRunId,
      configId: start.config.id,
      executionId: start.executionId ?? null,
      backupType: start.config.backupType,
      workflowId: start.workflowId,
      workflowRunId: start.workflowRunId,
      triggeredBy: start.triggeredBy,
      verifyMode: start.verifyMode ?? null,
    })
    .onConflictDoNothing({ target: backupRuns.id })
    .returning({ id: backupRuns.id });
  if (inserted.length === 0) return false;
  await recordAudit(executor, {
    action: 'BACKUP_STARTED',
    actor: start.triggeredBy,
    entityType: 'backup',
    entityId: start.backupRunId,
    idempotencyKey: `backup-run:${start.backupRunId}:started`,
    details: { config: start.config.name, backup_type: start.config.backupType, workflow_id: start.workflowId },
  });
  return true;
}
