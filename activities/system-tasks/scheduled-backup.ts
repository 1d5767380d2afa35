import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { performBackup, type BackupSteps, type SystemTaskInput } from '../../common';
import { schema, type Database } from '../../db';
import type { BackupFile } from '../../backups/archive';
import type { createBackupRunTasks } from './backup-runs';
import type { TaskRequest } from './settings';

const { backupRuns } = schema;

type DumpFacts = { file: BackupFile; row_counts: Record<string, number> };

/** What the one-activity backup runs: the run bookkeeping and the steps of ./backups.ts. */
type BackupTasks<Dump extends DumpFacts> = BackupSteps<Dump> &
  Pick<ReturnType<typeof createBackupRunTasks>, 'resolveBackupConfig' | 'beginBackupRun'>;

/** The backup system task as one activity, kept for the system-task runs whose histories expect it. */
export function createScheduledBackupTask<Dump extends DumpFacts>(db: Database, tasks: BackupTasks<Dump>) {
  return {
    /**
     * One backup in a single activity: how `systemTask` runs started before the `backup` workflow
     * existed finish after an upgrade (their histories expect this activity). Same steps, same rows.
     */
    async runScheduledBackup({ executionId, options }: TaskRequest & Pick<SystemTaskInput, 'scheduleId'>) {
      const config = await tasks.resolveBackupConfig({ config: options?.config, backupType: options?.backupType });
      const [existing] = await db
        .select({ id: backupRuns.id })
        .from(backupRuns)
        .where(eq(backupRuns.executionId, executionId));
      const [execution] = await db
        .select({ triggeredBy: schema.taskExecutions.triggeredBy })
        .from(schema.taskExecutions)
        .where(eq(schema.taskExecutions.id, executionId));
      if (existing) {
        // A retried attempt of this activity carries on the run its first attempt began.
        await db
          .update(backupRuns)
          .set({ status: 'running', finishedAt: null })
          .where(and(eq(backupRuns.id, existing.id), eq(backupRuns.status, 'failed')));
      }
      const plan = await tasks.beginBackupRun({
        backupRunId: existing?.id ?? randomUUID(),
        configId: config.id,
        executionId,
        triggeredBy: execution?.triggeredBy ?? 'system_scheduler',
      });
      return performBackup(tasks, plan, (error) => (error as Error).message);
    },
  };
}
