import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import * as tar from 'tar';
import { schema } from '../../db';
import {
  checkPgDump,
  describeFile,
  publishArchive,
  runTool,
  verifyArchive,
  type ArchiveManifest,
  type BackupFile,
  type ToolRunControl,
  pgTool,
} from '../../backups/archive';
import { manifestSummary } from '../../backups/manifest';
import { restoreIntoScratchDatabase } from '../../backups/scratch-restore';
import { backupDestination, backupWorkDir } from '../../backups/paths';
import { createBackupRunTasks, loadBackupRun, recordingFailures, type BackupStepRequest } from './backup-runs';
import { createScheduledBackupTask } from './scheduled-backup';
import type { SystemTaskDeps } from './settings';

const { backupRuns } = schema;

/** An activity's heartbeat and cancellation, for the tools it runs. */
function activityControl(): ToolRunControl {
  const context = Context.current();
  return { heartbeat: () => context.heartbeat(), signal: context.cancellationSignal };
}

/** Heartbeats while work that reports no progress of its own (gzip of the storage) runs. */
async function heartbeating<T>(work: Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), 5000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

export interface DatabaseDump {
  file: BackupFile;
  postgresql_server_version: string;
  pg_dump_version: string;
  row_counts: Record<string, number>;
}

/**
 * The steps of one backup, each an activity of the `backup` workflow: the run row is begun, the
 * database dumped, the storage archived, everything packed, verified and published, the run
 * finished (the bookkeeping around the steps is in ./backup-runs.ts). Steps share a work directory
 * under EDMS_BACKUP_DIR, so every worker that polls the maintenance queue must see the same
 * EDMS_BACKUP_DIR.
 */
export function createBackupTasks(deps: Pick<SystemTaskDeps, 'database' | 'settings' | 'dispatchNotifications'>) {
  const { settings } = deps;
  const { db, sql } = deps.database;
  const tool = (name: string) => pgTool(settings.pgBinDir, name);
  const loadRun = (backupRunId: string) => loadBackupRun(db, backupRunId);

  const tasks = {
    ...createBackupRunTasks(deps),

    /**
     * `pg_dump --format=custom` of the application database, and its row counts taken in the same
     * snapshot (a repeatable-read transaction exports it, pg_dump imports it), so a restore must
     * reproduce exactly those counts.
     */
    async dumpDatabase({ backupRunId }: BackupStepRequest): Promise<DatabaseDump> {
      return recordingFailures(db, 'dump', backupRunId, async () => {
        const [server] = await sql<{ version: string; num: string }[]>`
          select current_setting('server_version') as version, current_setting('server_version_num') as num`;
        const pgDumpVersion = await checkPgDump(tool('pg_dump'), Number(server!.num));
        const work = backupWorkDir(settings, backupRunId);
        await rm(work, { recursive: true, force: true });
        await mkdir(work, { recursive: true });
        const rowCounts = await sql.begin('isolation level repeatable read read only', async (tx) => {
          const [snapshot] = await tx<{ id: string }[]>`select pg_export_snapshot() as id`;
          const tables = await tx<{ table_name: string }[]>`
            select table_name from information_schema.tables
            where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
          const counts: Record<string, number> = {};
          for (const { table_name } of tables) {
            const [row] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx(table_name)}`;
            counts[table_name] = row?.n ?? 0;
          }
          await runTool(
            tool('pg_dump'),
            [
              '--format=custom',
              `--compress=${settings.backupCompressionLevel}`,
              '--no-owner',
              `--snapshot=${snapshot!.id}`,
              `--file=${path.join(work, 'database.dump')}`,
              `--dbname=${settings.databaseUrl}`,
            ],
            activityControl(),
          );
          return counts;
        });
        return {
          file: await describeFile(work, 'database.dump'),
          postgresql_server_version: server!.version,
          pg_dump_version: pgDumpVersion,
          row_counts: rowCounts,
        };
      });
    },

    /** The document storage directory as storage.tar.gz (gzip streams; no tar binary needed). */
    async archiveStorage({ backupRunId }: BackupStepRequest): Promise<BackupFile> {
      return recordingFailures(db, 'storage', backupRunId, async () => {
        const work = backupWorkDir(settings, backupRunId);
        await mkdir(settings.storageDir, { recursive: true });
        await mkdir(work, { recursive: true });
        await heartbeating(
          tar.create(
            { gzip: true, file: path.join(work, 'storage.tar.gz'), cwd: settings.storageDir, portable: true },
            ['.'],
          ),
        );
        return describeFile(work, 'storage.tar.gz');
      });
    },

    /**
     * Writes the manifest, packs the three files under a temporary name, verifies the archive
     * (checksums and `pg_restore --list`, and with verify mode `restore` a restore into a scratch
     * database), and only then gives it its final name: an archive under a final name is complete
     * and verified. A retry after publishing finds the published archive instead of packing again.
     */
    async packageBackup({
      backupRunId,
      dump,
      storage,
    }: BackupStepRequest & { dump: DatabaseDump; storage: BackupFile }) {
      return recordingFailures(db, 'package', backupRunId, async () => {
        const { run, config } = await loadRun(backupRunId);
        if (run.path && run.sha256 && (await stat(run.path).catch(() => undefined))) {
          return {
            path: run.path,
            size_bytes: run.sizeBytes ?? 0,
            sha256: run.sha256,
            verification: run.verification ?? {},
          };
        }
        const work = backupWorkDir(settings, backupRunId);
        const manifest: ArchiveManifest & Record<string, unknown> = {
          format: 1,
          timestamp: run.startedAt.toISOString(),
          backup_type: run.backupType,
          config: config?.name,
          backup_run_id: run.id,
          app_version: settings.appVersion,
          git_commit: settings.gitCommit ?? null,
          postgresql_server_version: dump.postgresql_server_version,
          pg_dump_version: dump.pg_dump_version,
          files: [dump.file, storage],
          row_counts: dump.row_counts,
        };
        await writeFile(path.join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
        const destination = backupDestination(settings, run.backupType, config?.destination ?? null);
        await mkdir(destination, { recursive: true });
        const partial = path.join(destination, `.backup_${run.id}.tar.gz.partial`);
        try {
          await heartbeating(
            tar.create({ gzip: true, file: partial, cwd: work, portable: true }, [
              'manifest.json',
              'database.dump',
              'storage.tar.gz',
            ]),
          );
          const verifyMode = run.verifyMode ?? config?.verifyMode ?? 'checksums';
          const restoreCheck =
            verifyMode === 'restore'
              ? (unpacked: string, packed: ArchiveManifest) =>
                  restoreIntoScratchDatabase({
                    dumpFile: path.join(unpacked, 'database.dump'),
                    databaseUrl: settings.databaseUrl,
                    scratchName: `edms_verify_${run.id.replace(/-/g, '').slice(0, 16)}`,
                    expectedRowCounts: packed.row_counts,
                    pgRestore: tool('pg_restore'),
                    control: activityControl(),
                  })
              : undefined;
          const verification = {
            mode: verifyMode,
            ...(await verifyArchive(partial, tool('pg_restore'), activityControl(), restoreCheck)),
          };
          const name = await publishArchive(partial, destination, run.startedAt);
          const archive = await describeFile(destination, name);
          const published = {
            path: path.join(destination, name),
            size_bytes: archive.size_bytes,
            sha256: archive.sha256,
            verification,
          };
          await db
            .update(backupRuns)
            .set({
              path: published.path,
              sizeBytes: published.size_bytes,
              sha256: published.sha256,
              verification,
              manifest: manifestSummary(manifest),
            })
            .where(eq(backupRuns.id, backupRunId));
          return published;
        } finally {
          await rm(partial, { force: true });
        }
      });
    },
  };

  return { ...tasks, ...createScheduledBackupTask(db, tasks) };
}
