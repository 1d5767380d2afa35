import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Context, ApplicationFailure } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import * as tar from 'tar';
import { BACKUP_TYPES, type BackupType } from '../../common';
import { schema } from '../../db';
import type { SystemTaskDeps, TaskRequest } from './settings';

/** A backup's temporary files untouched this long belong to a run that was killed. */
const STALE_WORK_MS = 6 * 60 * 60 * 1000;

const ARCHIVE_PATTERN = /^backup_(\d{8}T\d{6}Z)\.tar\.gz$/;

export interface BackupFile {
  name: string;
  size_bytes: number;
  sha256: string;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function describeFile(directory: string, name: string): Promise<BackupFile> {
  const file = path.join(directory, name);
  return { name, size_bytes: (await stat(file)).size, sha256: await sha256Of(file) };
}

/** `20261123T180000Z`: sortable, and safe in file names on every system. */
const compactUtc = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');

/** Runs a program, heartbeating while it works and killing it if the activity is cancelled. */
function runTool(program: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const context = Context.current();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const heartbeat = setInterval(() => context.heartbeat({ tool: path.basename(program) }), 5000);
    const onCancel = () => child.kill('SIGTERM');
    context.cancellationSignal.addEventListener('abort', onCancel);
    const done = () => {
      clearInterval(heartbeat);
      context.cancellationSignal.removeEventListener('abort', onCancel);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      done();
      if (error.code === 'ENOENT') {
        reject(
          ApplicationFailure.nonRetryable(
            `${program} was not found: install the PostgreSQL client tools (Debian: postgresql-client) matching the server, or set EDMS_PG_BIN_DIR`,
            'PgToolMissing',
          ),
        );
      } else reject(error);
    });
    child.once('exit', (code, signal) => {
      done();
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(`${path.basename(program)} failed (${signal ?? `exit ${code}`}): ${stderr.trim().slice(-2000)}`),
        );
    });
  });
}

/** pg_dump refuses servers newer than itself; say so before trying, naming what to install. */
async function checkPgDump(program: string, serverVersionNum: number): Promise<string> {
  const version = (await runTool(program, ['--version'])).trim();
  const major = Number(/(\d+)(?:\.\d+)?/.exec(version.replace(/^\D+/, ''))?.[1]);
  const serverMajor = Math.floor(serverVersionNum / 10000);
  if (!Number.isFinite(major) || major < serverMajor) {
    throw ApplicationFailure.nonRetryable(
      `${version} is older than the PostgreSQL ${serverMajor} server: install postgresql-client-${serverMajor} or newer, or set EDMS_PG_BIN_DIR`,
      'PgToolTooOld',
    );
  }
  return version;
}

export interface ArchiveVerification {
  checksums_ok: boolean;
  files_checked: number;
  pg_restore_entries: number;
}

/**
 * Re-reads a finished archive: every file the manifest lists must be there with its size and
 * SHA-256, and pg_restore must be able to list the dump. Throws naming the first problem.
 */
export async function verifyArchive(archive: string, pgRestore: string): Promise<ArchiveVerification> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'edms-verify-'));
  try {
    await tar.extract({ file: archive, cwd: scratch });
    const manifest = JSON.parse(await readFile(path.join(scratch, 'manifest.json'), 'utf8')) as {
      files: BackupFile[];
    };
    for (const expected of manifest.files) {
      const actual = await describeFile(scratch, expected.name).catch(() => undefined);
      if (!actual) throw new Error(`${path.basename(archive)}: ${expected.name} is missing`);
      if (actual.sha256 !== expected.sha256 || actual.size_bytes !== expected.size_bytes) {
        throw new Error(`${path.basename(archive)}: ${expected.name} does not match its checksum`);
      }
    }
    const listing = await runTool(pgRestore, ['--list', path.join(scratch, 'database.dump')]);
    return {
      checksums_ok: true,
      files_checked: manifest.files.length,
      pg_restore_entries: listing.split('\n').filter((line) => line && !line.startsWith(';')).length,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Scheduled backups and their retention. Verification, configurations and restore build on this. */
export function createBackupTasks({ database, settings }: SystemTaskDeps) {
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
        await runTool(tool('pg_dump'), [
          '--format=custom',
          `--compress=${settings.backupCompressionLevel}`,
          '--no-owner',
          `--file=${path.join(work, 'database.dump')}`,
          `--dbname=${settings.databaseUrl}`,
        ]);
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
        const verification = await verifyArchive(partial, tool('pg_restore')).catch(async (error: unknown) => {
          await rm(partial, { force: true });
          throw error;
        });
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
