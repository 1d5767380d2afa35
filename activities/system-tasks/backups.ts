import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, sql as sqlFragment } from 'drizzle-orm';
import * as tar from 'tar';
import { BACKUP_TYPES, type BackupType } from '../../common';
import { recordAudit, schema } from '../../db';

const { backupConfigs, backupRuns } = schema;
import {
  checkPgDump,
  compactUtc,
  describeFile,
  runTool,
  sha256Of,
  verifyArchive,
  type ToolRunControl,
} from '../../lib/backup-archive';
import type { SystemTaskDeps, TaskRequest } from './settings';

/** An activity's heartbeat and cancellation, for the tools it runs. */
function activityControl(): ToolRunControl {
  const context = Context.current();
  return { heartbeat: () => context.heartbeat(), signal: context.cancellationSignal };
}

/** A backup's temporary files untouched this long belong to a run that was killed. */
const STALE_WORK_MS = 6 * 60 * 60 * 1000;

const ARCHIVE_PATTERN = /^backup_(\d{8}T\d{6}Z)\.tar\.gz$/;

/** The instant in an archive's name (its backup's start). */
function archiveTime(name: string): number {
  const [, stamp] = ARCHIVE_PATTERN.exec(name) ?? [];
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp ?? '');
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Date.now();
}

/** Scheduled backups and their retention. Verification, configurations and restore build on this. */
export function createBackupTasks({
  database,
  settings,
  dispatchNotifications,
}: Pick<SystemTaskDeps, 'database' | 'settings' | 'dispatchNotifications'>) {
  const { db, sql } = database;
  const tool = (name: string) => (settings.pgBinDir ? path.join(settings.pgBinDir, name) : name);
  const typeDir = (type: BackupType) => path.join(settings.backupDir, 'backups', type);
  const workRoot = () => path.join(settings.backupDir, 'backups', '.work');

  async function rowCounts(): Promise<Record<string, number>> {
    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
    const counts: Record<string, number> = {};
    for (const { table_name } of tables) {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(table_name)}`;
      counts[table_name] = row?.n ?? 0;
    }
    return counts;
  }

  async function archivesOf(type: BackupType): Promise<string[]> {
    const names = await readdir(typeDir(type)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    return names.filter((name) => ARCHIVE_PATTERN.test(name)).sort();
  }

  /**
   * One backup: pg_dump (custom format) and the storage directory, described by a manifest, packed
   * into `backups/<type>/backup_<UTC start>.tar.gz`. The archive appears under its final name only
   * once complete; a retry of the same run finds it and does not back up twice.
   */
  async function makeArchive(executionId: string, type: BackupType, execution: { startedAt: Date }) {
    const finalName = `backup_${compactUtc(execution.startedAt)}.tar.gz`;
    const finalPath = path.join(typeDir(type), finalName);
    const already = await stat(finalPath).catch(() => undefined);
    if (already) {
      return { type, path: finalPath, size_bytes: already.size, sha256: await sha256Of(finalPath), reused: true };
    }

    const [server] = await sql<{ version: string; num: string }[]>`
      select current_setting('server_version') as version, current_setting('server_version_num') as num`;
    const pgDumpVersion = await checkPgDump(tool('pg_dump'), Number(server!.num));
    const work = path.join(workRoot(), executionId);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    try {
      await runTool(
        tool('pg_dump'),
        [
          '--format=custom',
          `--compress=${settings.backupCompressionLevel}`,
          '--no-owner',
          `--file=${path.join(work, 'database.dump')}`,
          `--dbname=${settings.databaseUrl}`,
        ],
        activityControl(),
      );
      await mkdir(settings.storageDir, { recursive: true });
      await tar.create(
        { gzip: true, file: path.join(work, 'storage.tar.gz'), cwd: settings.storageDir, portable: true },
        ['.'],
      );
      const files = [await describeFile(work, 'database.dump'), await describeFile(work, 'storage.tar.gz')];
      const manifest = {
        format: 1,
        timestamp: execution.startedAt.toISOString(),
        backup_type: type,
        app_version: settings.appVersion,
        postgresql_server_version: server!.version,
        pg_dump_version: pgDumpVersion,
        files,
        row_counts: await rowCounts(),
      };
      await writeFile(path.join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      await mkdir(typeDir(type), { recursive: true });
      const partial = path.join(typeDir(type), `.${finalName}.partial`);
      await tar.create({ gzip: true, file: partial, cwd: work, portable: true }, [
        'manifest.json',
        'database.dump',
        'storage.tar.gz',
      ]);
      // Verified before it takes its final name: an archive under that name is complete and readable.
      const verification = await verifyArchive(partial, tool('pg_restore'), activityControl()).catch(
        async (error: unknown) => {
          await rm(partial, { force: true });
          throw error;
        },
      );
      await rename(partial, finalPath);
      const archive = await describeFile(typeDir(type), finalName);
      return {
        type,
        path: finalPath,
        size_bytes: archive.size_bytes,
        sha256: archive.sha256,
        files,
        row_counts: manifest.row_counts,
        verification,
        reused: false,
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  return {
    /**
     * One backup (see makeArchive), recorded as a backup run with its manifest and verification and
     * audited BACKUP_COMPLETED or BACKUP_FAILED. A retry of the same task run reuses its row.
     */
    async runScheduledBackup({ executionId, options }: TaskRequest) {
      const type: BackupType = options?.backupType ?? 'full';
      if (!BACKUP_TYPES.includes(type)) {
        throw ApplicationFailure.nonRetryable(`unknown backup type ${String(type)}`, 'InvalidBackupType');
      }
      const [execution] = await db
        .select({ startedAt: schema.taskExecutions.startedAt, triggeredBy: schema.taskExecutions.triggeredBy })
        .from(schema.taskExecutions)
        .where(eq(schema.taskExecutions.id, executionId));
      if (!execution) throw ApplicationFailure.nonRetryable(`no task execution ${executionId}`, 'UnknownExecution');
      const [config] = await db
        .select({ id: backupConfigs.id })
        .from(backupConfigs)
        .where(and(eq(backupConfigs.backupType, type), eq(backupConfigs.enabled, true)))
        .orderBy(sqlFragment`${backupConfigs.scheduleId} is null`, backupConfigs.name)
        .limit(1);
      const [runRow] = await db
        .insert(backupRuns)
        .values({ executionId, configId: config?.id ?? null, backupType: type })
        .onConflictDoUpdate({
          target: backupRuns.executionId,
          set: { status: 'running', error: null, finishedAt: null },
        })
        .returning({ id: backupRuns.id });
      const runId = runRow!.id;
      const attempt = Context.current().info.attempt;
      const finish = sqlFragment`extract(epoch from now() - ${backupRuns.startedAt})`;
      try {
        const result = await makeArchive(executionId, type, execution);
        await db.transaction(async (tx) => {
          await tx
            .update(backupRuns)
            .set({
              status: 'succeeded',
              finishedAt: sqlFragment`now()`,
              durationSeconds: finish,
              sizeBytes: result.size_bytes,
              path: result.path,
              sha256: result.sha256,
              manifest: result.files ? { files: result.files, row_counts: result.row_counts } : null,
              verification: (result.verification as Record<string, unknown> | undefined) ?? null,
            })
            .where(eq(backupRuns.id, runId));
          await recordAudit(tx, {
            action: 'BACKUP_COMPLETED',
            actor: execution.triggeredBy,
            entityType: 'backup',
            entityId: runId,
            idempotencyKey: `backup-run:${runId}:completed`,
            details: { backup_type: type, path: result.path, size_bytes: result.size_bytes, sha256: result.sha256 },
          });
        });
        return { ...result, backup_run_id: runId };
      } catch (error) {
        const message = (error as Error).message;
        const alertKeys: string[] = [];
        await db.transaction(async (tx) => {
          await tx
            .update(backupRuns)
            .set({
              status: 'failed',
              finishedAt: sqlFragment`now()`,
              durationSeconds: finish,
              error: message.slice(0, 4000),
            })
            .where(eq(backupRuns.id, runId));
          await recordAudit(tx, {
            action: 'BACKUP_FAILED',
            actor: execution.triggeredBy,
            entityType: 'backup',
            entityId: runId,
            idempotencyKey: `backup-run:${runId}:failed:${attempt}`,
            details: { backup_type: type, error: message, attempt },
          });
          // The admins hear of every failed attempt, once each.
          const admins = await tx
            .select({ email: schema.users.email })
            .from(schema.users)
            .where(and(eq(schema.users.role, 'admin'), eq(schema.users.active, true)));
          for (const admin of admins) {
            const key = `backup-run:${runId}:failed:${attempt}:${admin.email}`;
            alertKeys.push(key);
            await tx
              .insert(schema.notificationOutbox)
              .values({
                idempotencyKey: key,
                kind: 'backup_failed',
                recipient: admin.email,
                variables: {
                  backup_type: type,
                  started_at: execution.startedAt.toISOString(),
                  attempt,
                  error: message.slice(0, 1000),
                },
              })
              .onConflictDoNothing({ target: schema.notificationOutbox.idempotencyKey });
          }
        });
        await dispatchNotifications(alertKeys);
        throw error;
      }
    },

    /** Keeps the newest `backupRetention[type]` archives of each type (always at least the newest). */
    async cleanupOldBackups({ dryRun }: TaskRequest) {
      const removed: { type: BackupType; name: string }[] = [];
      const kept: Record<string, number> = {};
      const retention: Record<string, { keep_last: number; max_age_days: number | null }> = {};
      const configs = await db.select().from(backupConfigs).where(eq(backupConfigs.enabled, true));
      for (const type of BACKUP_TYPES) {
        // The most generous enabled configuration of a type decides; without one, the defaults.
        const ofType = configs.filter((config) => config.backupType === type);
        const keepLasts = ofType.map((config) => config.keepLast).filter((n): n is number => n !== null);
        const maxAges = ofType.map((config) => config.maxAgeDays);
        const keep = Math.max(1, keepLasts.length > 0 ? Math.max(...keepLasts) : settings.backupRetention[type]);
        const maxAgeDays =
          maxAges.length > 0 && maxAges.every((n) => n !== null) ? Math.max(...(maxAges as number[])) : null;
        retention[type] = { keep_last: keep, max_age_days: maxAgeDays };
        const archives = await archivesOf(type);
        const newest = archives.at(-1);
        const tooOld = (name: string) =>
          maxAgeDays !== null && Date.now() - archiveTime(name) > maxAgeDays * 24 * 60 * 60 * 1000;
        const expired = archives.filter(
          (name, index) => name !== newest && (index < archives.length - keep || tooOld(name)),
        );
        kept[type] = archives.length - expired.length;
        for (const name of expired) {
          if (!dryRun) await rm(path.join(typeDir(type), name));
          removed.push({ type, name });
        }
      }
      // Leftovers of backups killed mid-way (never under an archive's name), once surely abandoned.
      const abandoned: string[] = [];
      const stale = Date.now() - STALE_WORK_MS;
      const leftovers = [
        ...(
          await Promise.all(
            BACKUP_TYPES.map(async (type) =>
              (await readdir(typeDir(type)).catch(() => [] as string[]))
                .filter((name) => name.endsWith('.partial'))
                .map((name) => path.join(typeDir(type), name)),
            ),
          )
        ).flat(),
        ...(await readdir(workRoot()).catch(() => [] as string[])).map((name) => path.join(workRoot(), name)),
      ];
      for (const leftover of leftovers) {
        const info = await stat(leftover).catch(() => undefined);
        if (!info || info.mtimeMs > stale) continue;
        if (!dryRun) await rm(leftover, { recursive: true, force: true });
        abandoned.push(path.relative(settings.backupDir, leftover));
      }
      return {
        dry_run: dryRun,
        [dryRun ? 'would_remove_leftovers' : 'removed_leftovers']: abandoned,
        retention,
        kept,
        [dryRun ? 'would_delete' : 'deleted']: removed,
        deleted_count: dryRun ? 0 : removed.length,
        timestamp: new Date().toISOString(),
      };
    },
  };
}
