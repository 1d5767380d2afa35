import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import * as tar from 'tar';
import { BACKUP_TYPES, type BackupType } from '../../common';
import { schema } from '../../db';
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

/** Scheduled backups and their retention. Verification, configurations and restore build on this. */
export function createBackupTasks({ database, settings }: Pick<SystemTaskDeps, 'database' | 'settings'>) {
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

  return {
    /**
     * One backup: pg_dump (custom format) and the storage directory, described by a manifest, packed
     * into `backups/<type>/backup_<UTC start>.tar.gz`. The archive appears under its final name only
     * once complete; a retry of the same run finds it and does not back up twice.
     */
    async runScheduledBackup({ executionId, options }: TaskRequest) {
      const type: BackupType = options?.backupType ?? 'full';
      if (!BACKUP_TYPES.includes(type)) {
        throw ApplicationFailure.nonRetryable(`unknown backup type ${String(type)}`, 'InvalidBackupType');
      }
      const [execution] = await db
        .select({ startedAt: schema.taskExecutions.startedAt })
        .from(schema.taskExecutions)
        .where(eq(schema.taskExecutions.id, executionId));
      if (!execution) throw ApplicationFailure.nonRetryable(`no task execution ${executionId}`, 'UnknownExecution');
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
    },

    /** Keeps the newest `backupRetention[type]` archives of each type (always at least the newest). */
    async cleanupOldBackups({ dryRun }: TaskRequest) {
      const removed: { type: BackupType; name: string }[] = [];
      const kept: Record<string, number> = {};
      for (const type of BACKUP_TYPES) {
        const archives = await archivesOf(type);
        const keep = Math.max(1, settings.backupRetention[type]);
        const expired = archives.slice(0, Math.max(0, archives.length - keep));
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
        retention: settings.backupRetention,
        kept,
        [dryRun ? 'would_delete' : 'deleted']: removed,
        deleted_count: dryRun ? 0 : removed.length,
        timestamp: new Date().toISOString(),
      };
    },
  };
}
