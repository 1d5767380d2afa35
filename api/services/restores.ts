import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { RESTORE_WORKFLOW_ID, type RestoreInput } from '../../common';
import { isUuid } from '../../lib/dates';
import { ApiError, badRequest, conflict, notFound } from '../errors';
import type { RestoreStatus } from '../schemas/backups';
import { archiveOnDisk, findRun } from './backup-runs';
import { BACKUP_TASK_QUEUE, type BackupServiceDeps } from './backups';

interface RestoreMemo {
  backup_id: string;
  dry_run: boolean;
  requested_by: string;
}

/** A restore's state from its workflow: running, or its report, or why it failed. */
export async function restoreState(deps: BackupServiceDeps, restoreId: string) {
  // Any other text names no restore: Temporal would refuse it as a malformed run id.
  if (!isUuid(restoreId)) throw notFound(`No restore ${restoreId}`);
  const handle = deps.temporal.workflow.getHandle(RESTORE_WORKFLOW_ID, restoreId);
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) throw notFound(`No restore ${restoreId}`);
    throw error;
  });
  const memo = (description.memo ?? {}) as Partial<RestoreMemo>;
  const base = {
    restore_id: restoreId,
    workflow_id: RESTORE_WORKFLOW_ID,
    backup_id: memo.backup_id ?? null,
    dry_run: memo.dry_run ?? false,
    requested_by: memo.requested_by ?? null,
  };
  const state = (status: RestoreStatus, report: unknown, error: string | null) => ({ ...base, status, report, error });
  if (description.status.name === 'RUNNING') return state('running', null, null);
  try {
    return state('completed', await handle.result(), null);
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    let cause: Error | undefined = error;
    while (cause?.cause instanceof Error) cause = cause.cause;
    return state('failed', null, cause?.message ?? error.message);
  }
}

/**
 * Restores a backup through the `restoreBackup` workflow (one at a time). A real restore replaces
 * the database and the storage, so it must be confirmed with the backup's id; a dry run needs no
 * confirmation (one that names another backup is refused) and answers with its report at once.
 */
export async function startRestore(
  deps: BackupServiceDeps,
  backupId: string,
  body: { confirm?: string; dry_run?: boolean },
  actor: string,
) {
  const dryRun = body.dry_run ?? false;
  const { run } = await findRun(deps.db, backupId);
  // A dry run needs no confirmation, but a confirmation naming another backup is a mistake either way.
  if ((!dryRun || body.confirm !== undefined) && body.confirm !== backupId) {
    throw badRequest(
      'confirmation_required',
      'A restore replaces the database and the document storage: send {"confirm": "<backup id>"} to proceed',
      { field: 'confirm', expected: backupId },
    );
  }
  if (!(await archiveOnDisk(run))) {
    throw conflict('no_archive', `Backup ${backupId} has no archive to restore (status ${run.status})`, {
      status: run.status,
      deleted_at: run.deletedAt?.toISOString() ?? null,
    });
  }
  const input: RestoreInput = { backupRunId: backupId, dryRun, requestedBy: actor };
  const memo: RestoreMemo = { backup_id: backupId, dry_run: dryRun, requested_by: actor };
  let handle;
  try {
    handle = await deps.temporal.workflow.start('restoreBackup', {
      taskQueue: BACKUP_TASK_QUEUE,
      workflowId: RESTORE_WORKFLOW_ID,
      args: [input],
      memo: memo as unknown as Record<string, unknown>,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    throw conflict('restore_in_progress', 'A restore is already running; wait for it to finish', {
      workflow_id: RESTORE_WORKFLOW_ID,
    });
  }
  const restoreId = handle.firstExecutionRunId;
  if (!dryRun) {
    return {
      restore_id: restoreId,
      workflow_id: RESTORE_WORKFLOW_ID,
      backup_id: backupId,
      dry_run: false,
      status: 'running',
      requested_by: actor,
      report: null,
      error: null,
    };
  }
  await handle.result().catch(() => undefined);
  const state = await restoreState(deps, restoreId);
  if (state.status === 'failed') throw new ApiError(422, 'restore_check_failed', state.error ?? 'restore check failed');
  return state;
}
