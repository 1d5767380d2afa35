import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { and, desc, eq, inArray, isNotNull, isNull } from 'drizzle-orm';
import { BACKUP_TYPES, DAY_MS } from '../../common';
import { recordAudit, schema, type BackupConfigRow } from '../../db';
import { backupDestination, backupWorkRoot } from '../../backups/paths';
import type { SystemTaskDeps, TaskRequest } from './settings';

const { backupConfigs, backupRuns } = schema;

/** Scratch files of a backup whose run is still open are left alone this long (a terminated run never closes). */
const STALE_WORK_MS = 6 * 60 * 60 * 1000;

/** The run a leftover belongs to: `.work/<run id>` or `.backup_<run id>.tar.gz.partial`. */
const LEFTOVER_RUN = /^(?:\.backup_)?([0-9a-f-]{36})(?:\.tar\.gz\.partial)?$/;

interface ExpiredArchive {
  config: string;
  backup_id: string;
  path: string;
  started_at: string;
  reason: 'keep_last' | 'max_age';
}

/** Each configuration's retention: keep the last N and/or nothing older than D days, never its newest archive. */
export function createBackupRetentionTasks({ database, settings }: Pick<SystemTaskDeps, 'database' | 'settings'>) {
  const { db } = database;

  function policyOf(config: BackupConfigRow) {
    // A configuration without any retention of its own keeps its type's default count.
    const keepLast =
      config.keepLast ?? (config.maxAgeDays === null ? settings.backupRetention[config.backupType] : null);
    return { keep_last: keepLast, max_age_days: config.maxAgeDays };
  }

  async function expiredArchives(config: BackupConfigRow, now: number): Promise<ExpiredArchive[]> {
    const policy = policyOf(config);
    const archives = await db
      .select({ id: backupRuns.id, path: backupRuns.path, startedAt: backupRuns.startedAt })
      .from(backupRuns)
      .where(
        and(
          eq(backupRuns.configId, config.id),
          eq(backupRuns.status, 'succeeded'),
          isNotNull(backupRuns.path),
          isNull(backupRuns.deletedAt),
        ),
      )
      .orderBy(desc(backupRuns.startedAt));
    const expired: ExpiredArchive[] = [];
    // Index 0 is the newest verified archive: whatever the policy says, it stays.
    archives.forEach((archive, index) => {
      if (index === 0) return;
      const reason =
        policy.keep_last !== null && index >= policy.keep_last
          ? 'keep_last'
          : policy.max_age_days !== null && now - archive.startedAt.getTime() > policy.max_age_days * DAY_MS
            ? 'max_age'
            : undefined;
      if (reason) {
        expired.push({
          config: config.name,
          backup_id: archive.id,
          path: archive.path!,
          started_at: archive.startedAt.toISOString(),
          reason,
        });
      }
    });
    return expired;
  }

  /** Scratch files of killed backups: their run is over, or has been open implausibly long. */
  async function abandonedLeftovers(configs: BackupConfigRow[], now: number): Promise<string[]> {
    const directories = new Set<string>([
      ...BACKUP_TYPES.map((type) => backupDestination(settings, type, null)),
      ...configs.map((config) => backupDestination(settings, config.backupType, config.destination)),
    ]);
    const candidates: { file: string; runId: string }[] = [];
    const list = (directory: string) => readdir(directory).catch(() => [] as string[]);
    for (const directory of directories) {
      for (const name of await list(directory)) {
        const runId = name.endsWith('.partial') ? LEFTOVER_RUN.exec(name)?.[1] : undefined;
        if (name.endsWith('.partial')) candidates.push({ file: path.join(directory, name), runId: runId ?? '' });
      }
    }
    for (const name of await list(backupWorkRoot(settings))) {
      candidates.push({ file: path.join(backupWorkRoot(settings), name), runId: LEFTOVER_RUN.exec(name)?.[1] ?? '' });
    }
    const runIds = candidates.map((candidate) => candidate.runId).filter(Boolean);
    const open = new Set(
      runIds.length === 0
        ? []
        : (
            await db
              .select({ id: backupRuns.id })
              .from(backupRuns)
              .where(and(inArray(backupRuns.id, runIds), eq(backupRuns.status, 'running')))
          ).map((run) => run.id),
    );
    const abandoned: string[] = [];
    for (const { file, runId } of candidates) {
      const info = await stat(file).catch(() => undefined);
      if (!info) continue;
      if (open.has(runId) && now - info.mtimeMs < STALE_WORK_MS) continue;
      abandoned.push(file);
    }
    return abandoned;
  }

  return {
    /**
     * Deletes archives beyond each configuration's retention (the run rows stay, marked deleted and
     * audited BACKUP_DELETED) and the leftovers of killed backups. A dry run only lists them.
     */
    async cleanupOldBackups({ dryRun }: TaskRequest) {
      const now = Date.now();
      const configs = await db.select().from(backupConfigs).orderBy(backupConfigs.name);
      const retention: Record<string, { keep_last: number | null; max_age_days: number | null; expired: number }> = {};
      const expired: ExpiredArchive[] = [];
      for (const config of configs) {
        const ofConfig = await expiredArchives(config, now);
        retention[config.name] = { ...policyOf(config), expired: ofConfig.length };
        expired.push(...ofConfig);
      }
      const leftovers = await abandonedLeftovers(configs, now);
      if (!dryRun) {
        for (const archive of expired) {
          await rm(archive.path, { force: true });
          await db.transaction(async (tx) => {
            const marked = await tx
              .update(backupRuns)
              .set({ deletedAt: new Date(now) })
              .where(and(eq(backupRuns.id, archive.backup_id), isNull(backupRuns.deletedAt)))
              .returning({ id: backupRuns.id });
            if (marked.length === 0) return;
            await recordAudit(tx, {
              action: 'BACKUP_DELETED',
              actor: 'system',
              entityType: 'backup',
              entityId: archive.backup_id,
              idempotencyKey: `backup-run:${archive.backup_id}:deleted`,
              details: { config: archive.config, path: archive.path, reason: archive.reason },
            });
          });
        }
        for (const leftover of leftovers) await rm(leftover, { recursive: true, force: true });
      }
      const leftoverNames = leftovers.map((file) => path.relative(settings.backupDir, file));
      return {
        dry_run: dryRun,
        retention,
        [dryRun ? 'would_delete' : 'deleted']: expired,
        deleted_count: dryRun ? 0 : expired.length,
        [dryRun ? 'would_remove_leftovers' : 'removed_leftovers']: leftoverNames,
        timestamp: new Date(now).toISOString(),
      };
    },
  };
}
