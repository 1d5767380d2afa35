import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, sql as sqlFragment } from 'drizzle-orm';
import { rm } from 'node:fs/promises';
import { FailureType, type BackupInput, type BackupOutcome, type BackupType } from '../../common';
import { recordAudit, recordBackupRunStart, schema, type BackupConfigRow, type Database } from '../../db';
import { backupWorkDir } from '../../backups/paths';
import { activeAdminEmails, enqueueEmails } from '../../outbox';
import type { SystemTaskDeps } from './settings';

const { backupConfigs, backupRuns } = schema;

/** What a backup run step is asked: the run row holds everything else. */
export interface BackupStepRequest {
  backupRunId: string;
}

export interface BackupRunPlan {
  backupRunId: string;
  config: string;
  type: BackupType;
  verifyMode: BackupConfigRow['verifyMode'];
  startedAt: string;
}

/** A backup run's row and its configuration's (gone when the configuration was deleted since). */
export async function loadBackupRun(db: Database, backupRunId: string) {
  const [row] = await db
    .select({ run: backupRuns, config: backupConfigs })
    .from(backupRuns)
    .leftJoin(backupConfigs, eq(backupConfigs.id, backupRuns.configId))
    .where(eq(backupRuns.id, backupRunId));
  if (!row) throw ApplicationFailure.nonRetryable(`no backup run ${backupRunId}`, FailureType.UnknownBackupRun);
  return row;
}

/** A failed attempt of a step is recorded at once, before Temporal retries it. */
export async function recordingFailures<T>(
  db: Database,
  step: string,
  backupRunId: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const attempt = Context.current().info.attempt;
    const message = `${step} (attempt ${attempt}): ${(error as Error).message}`.slice(0, 4000);
    await db.transaction(async (tx) => {
      await tx
        .update(backupRuns)
        .set({ error: message })
        .where(and(eq(backupRuns.id, backupRunId), eq(backupRuns.status, 'running')));
      await recordAudit(tx, {
        action: 'BACKUP_ATTEMPT_FAILED',
        actor: 'system',
        entityType: 'backup',
        entityId: backupRunId,
        idempotencyKey: `backup-run:${backupRunId}:${step}:${attempt}`,
        details: { step, attempt, error: (error as Error).message.slice(0, 2000) },
      });
    });
    throw error;
  }
}

/**
 * The bookkeeping of backup runs, each an activity of the `backup` workflow or of a backup system
 * task: which configuration runs, the run row begun, the run finished (audited, and alerted when it
 * failed). The steps between them are in ./backups.ts.
 */
export function createBackupRunTasks({
  database,
  settings,
  dispatchNotifications,
}: Pick<SystemTaskDeps, 'database' | 'settings' | 'dispatchNotifications'>) {
  const { db } = database;
  const loadRun = (backupRunId: string) => loadBackupRun(db, backupRunId);

  return {
    /** Which configuration a backup system task runs: named, the schedule's own, or the type's first. */
    async resolveBackupConfig(request: {
      config?: string;
      scheduleId?: string;
      backupType?: BackupType;
    }): Promise<{ id: string; name: string; enabled: boolean; backupType: BackupType }> {
      const columns = {
        id: backupConfigs.id,
        name: backupConfigs.name,
        enabled: backupConfigs.enabled,
        backupType: backupConfigs.backupType,
      };
      if (request.config) {
        const [named] = await db.select(columns).from(backupConfigs).where(eq(backupConfigs.name, request.config));
        if (!named) {
          throw ApplicationFailure.nonRetryable(
            `no backup configuration named ${request.config}`,
            FailureType.BackupConfigMissing,
          );
        }
        return named;
      }
      if (request.scheduleId) {
        const [scheduled] = await db
          .select(columns)
          .from(backupConfigs)
          .where(eq(backupConfigs.scheduleId, request.scheduleId));
        if (scheduled) return scheduled;
      }
      const type = request.backupType ?? 'full';
      const [ofType] = await db
        .select(columns)
        .from(backupConfigs)
        .where(and(eq(backupConfigs.backupType, type), eq(backupConfigs.enabled, true)))
        .orderBy(sqlFragment`${backupConfigs.scheduleId} is null`, backupConfigs.name)
        .limit(1);
      if (!ofType) {
        throw ApplicationFailure.nonRetryable(
          `no enabled backup configuration of type ${type}`,
          FailureType.BackupConfigMissing,
        );
      }
      return ofType;
    },

    /** Records the run (idempotently: a retry finds the row the API or the first attempt made). */
    async beginBackupRun(input: BackupInput): Promise<BackupRunPlan> {
      const { workflowId, runId } = Context.current().info.workflowExecution ?? { workflowId: null, runId: null };
      const [config] = await db.select().from(backupConfigs).where(eq(backupConfigs.id, input.configId));
      if (!config) {
        throw ApplicationFailure.nonRetryable(
          `no backup configuration ${input.configId}`,
          FailureType.BackupConfigMissing,
        );
      }
      await db.transaction((tx) =>
        recordBackupRunStart(tx, {
          backupRunId: input.backupRunId,
          config,
          executionId: input.executionId,
          workflowId,
          workflowRunId: runId,
          triggeredBy: input.triggeredBy,
          verifyMode: input.verifyMode,
        }),
      );
      const { run } = await loadRun(input.backupRunId);
      return {
        backupRunId: run.id,
        config: config.name,
        type: config.backupType,
        verifyMode: run.verifyMode ?? config.verifyMode,
        startedAt: run.startedAt.toISOString(),
      };
    },

    /**
     * Ends the run: succeeded (audited BACKUP_COMPLETED), or failed (audited BACKUP_FAILED, and every
     * active admin is emailed once). Only a running run is finished, so a retry changes nothing.
     */
    async finishBackupRun(
      request: BackupStepRequest & { outcome?: BackupOutcome; error?: string },
    ): Promise<{ status: 'succeeded' | 'failed' }> {
      const { backupRunId } = request;
      const { run, config } = await loadRun(backupRunId);
      await rm(backupWorkDir(settings, backupRunId), { recursive: true, force: true });
      const succeeded = request.outcome !== undefined;
      const alertKeys: string[] = [];
      await db.transaction(async (tx) => {
        const finished = await tx
          .update(backupRuns)
          .set({
            status: succeeded ? 'succeeded' : 'failed',
            finishedAt: sqlFragment`now()`,
            durationSeconds: sqlFragment`extract(epoch from now() - ${backupRuns.startedAt})`,
            error: succeeded ? null : (request.error ?? 'unknown error').slice(0, 4000),
          })
          .where(and(eq(backupRuns.id, backupRunId), eq(backupRuns.status, 'running')))
          .returning({ id: backupRuns.id });
        if (finished.length === 0) return;
        const archive = request.outcome;
        await recordAudit(tx, {
          action: archive ? 'BACKUP_COMPLETED' : 'BACKUP_FAILED',
          actor: run.triggeredBy ?? 'system',
          entityType: 'backup',
          entityId: backupRunId,
          idempotencyKey: `backup-run:${backupRunId}:${archive ? 'completed' : 'failed'}`,
          details: {
            config: config?.name,
            backup_type: run.backupType,
            ...(archive
              ? { path: archive.path, size_bytes: archive.size_bytes, sha256: archive.sha256 }
              : { error: request.error }),
          },
        });
        if (succeeded) return;
        const variables = {
          backup_type: run.backupType,
          config: config?.name ?? '',
          started_at: run.startedAt.toISOString(),
          error: (request.error ?? '').slice(0, 1000),
        };
        const alerts = (await activeAdminEmails(tx)).map((recipient) => ({
          key: `backup-run:${backupRunId}:failed:${recipient}`,
          kind: 'backup_failed',
          recipient,
          variables,
        }));
        alertKeys.push(...(await enqueueEmails(tx, alerts)));
      });
      await dispatchNotifications(alertKeys);
      return { status: succeeded ? 'succeeded' : 'failed' };
    },
  };
}
