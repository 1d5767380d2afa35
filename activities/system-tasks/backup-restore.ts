import { stat } from 'node:fs/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { eq, ne } from 'drizzle-orm';
import type { RestoreInput } from '../../common';
import { schema } from '../../db';
import { restoreArchive, type RestoreReport } from '../../backups/restore';
import { wakeDocumentWorkflow } from './document-dates';
import type { SystemTaskDeps } from './settings';
import { FailureType } from '../../common';

/** Restoring a backup run's archive over the application database and storage, for the API. */
export function createBackupRestoreTasks(deps: Pick<SystemTaskDeps, 'database' | 'settings' | 'temporal'>) {
  const { db } = deps.database;
  const { settings } = deps;

  return {
    /**
     * Restores the run's archive (a dry run: the same restore, rolled back) keeping the audit trail
     * and the backup catalogue: see backups/restore.ts. Refuses a run that failed or whose
     * archive retention removed, naming why.
     */
    async restoreFromBackup({ backupRunId, dryRun, requestedBy }: RestoreInput): Promise<RestoreReport> {
      const [run] = await db.select().from(schema.backupRuns).where(eq(schema.backupRuns.id, backupRunId));
      if (!run) throw ApplicationFailure.nonRetryable(`no backup ${backupRunId}`, FailureType.UnknownBackupRun);
      if (run.status !== 'succeeded' || !run.path) {
        throw ApplicationFailure.nonRetryable(
          `backup ${backupRunId} is ${run.status}: nothing to restore`,
          FailureType.NoArchive,
        );
      }
      if (run.deletedAt || !(await stat(run.path).catch(() => undefined))) {
        throw ApplicationFailure.nonRetryable(
          `backup ${backupRunId} has no archive at ${run.path}`,
          FailureType.NoArchive,
        );
      }
      const context = Context.current();
      const execution = context.info.workflowExecution;
      return restoreArchive({
        archive: run.path,
        databaseUrl: settings.databaseUrl,
        storageDir: settings.storageDir,
        pgBinDir: settings.pgBinDir,
        backupDir: settings.backupDir,
        actor: requestedBy,
        backupId: backupRunId,
        // A retry after the commit restores again; the restore is still one audited event.
        idempotencyKey: execution && `restore:${execution.workflowId}:${execution.runId}`,
        dryRun,
        heartbeat: () => context.heartbeat(),
      });
    },

    /**
     * After a restore the documents' workflows hold states the database no longer has: each
     * document still in the lifecycle is handed back to its workflow, which reloads it.
     */
    async reloadDocumentWorkflows(): Promise<{ documents: number; signalled: number; started: number }> {
      const rows = await db.select().from(schema.documents).where(ne(schema.documents.status, 'OBSOLETE'));
      const report = { documents: rows.length, signalled: 0, started: 0 };
      for (const row of rows) {
        const action = await wakeDocumentWorkflow(deps, row, false);
        if (action === 'workflow_started') report.started++;
        else report.signalled++;
        Context.current().heartbeat();
      }
      return report;
    },
  };
}
