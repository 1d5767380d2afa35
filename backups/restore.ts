import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import postgres from 'postgres';
import {
  runTool,
  sha256Of,
  verifyArchive,
  type ArchiveManifest,
  type ArchiveVerification,
  type ToolRunControl,
} from './archive';
import type { ArchiveOnDisk, RestoreTransactionSummary } from './restore-sql';
import { PG_RESTORE_OPTIONS, runRestoreTransaction } from './restore-transaction';

export interface RestoreOptions {
  archive: string;
  databaseUrl: string;
  storageDir: string;
  pgBinDir?: string;
  /** EDMS_BACKUP_DIR: every archive under it stays listed in the catalogue after the restore. */
  backupDir?: string;
  /** Who restores (audited). */
  actor: string;
  /** The backup run the archive came from, when known (the audit names it). */
  backupId?: string;
  /** Makes BACKUP_RESTORED one entry however often a retried activity commits the restore. */
  idempotencyKey?: string;
  dryRun?: boolean;
  heartbeat?: () => void;
}

export interface RestoreReport {
  dry_run: boolean;
  archive: string;
  backup_type: string;
  backup_timestamp: string;
  verification: ArchiveVerification;
  storage_entries: number;
  /** Rows per table: in the backup, and as restored from it (before the evidence is re-appended). */
  tables: Record<string, { expected: number; restored?: number }>;
  mismatched_tables: string[];
  /** pg_restore's options: owners, grants and tablespaces of the archive's environment are not restored. */
  restore_options: string[];
  /** The point the database returned to: the backup, its time, its highest audit entry id. */
  point: RestoreTransactionSummary['point'];
  /**
   * What was written after that point and kept (a dry run: would be kept): audit entries re-appended
   * with their own ids, backup runs brought back or updated to their current state, archives on disk
   * added to the catalogue.
   */
  superseded: RestoreTransactionSummary['superseded'];
  /** Objects the database has and the archive has not, left as they are. */
  extra_objects: string[];
  /** The BACKUP_RESTORED entry (null for a dry run). */
  audit_entry_id: number | null;
}

const ARCHIVE_NAME = /^backup_\d{8}T\d{6}Z\.tar\.gz$/;

/** manifest.json of an archive, read without unpacking the rest. */
async function readManifest(archive: string): Promise<ArchiveManifest & Record<string, unknown>> {
  let text = '';
  await tar.list({
    file: archive,
    filter: (entry) => entry.replace(/^\.\//, '') === 'manifest.json',
    onReadEntry: (entry) => entry.on('data', (chunk: Buffer) => (text += chunk.toString())),
  });
  if (!text) throw new Error(`${path.basename(archive)} has no manifest.json`);
  return JSON.parse(text) as ArchiveManifest & Record<string, unknown>;
}

/** Archives published under EDMS_BACKUP_DIR (hidden directories hold unfinished work and are skipped). */
async function findArchives(directory: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) found.push(...(await findArchives(full)));
    else if (entry.isFile() && ARCHIVE_NAME.test(entry.name)) found.push(full);
  }
  return found;
}

/**
 * The archives on disk that the catalogue does not list now, described for the restore to add: a
 * restore must never leave a verified archive unlisted and so unrestorable through the API.
 */
async function unlistedArchives(databaseUrl: string, backupDir: string): Promise<ArchiveOnDisk[]> {
  const archives = await findArchives(backupDir);
  if (archives.length === 0) return [];
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  let listed: Set<string>;
  try {
    const [{ present } = { present: false }] = await sql<{ present: boolean }[]>`
      select to_regclass('public.backup_runs') is not null as present`;
    const rows = present ? await sql<{ path: string }[]>`select path from backup_runs where path is not null` : [];
    listed = new Set(rows.map((row) => row.path));
  } finally {
    await sql.end();
  }
  const described: ArchiveOnDisk[] = [];
  for (const archive of archives) {
    if (listed.has(archive)) continue;
    const manifest = await readManifest(archive).catch(() => undefined);
    if (!manifest) continue;
    const file = await stat(archive);
    described.push({
      path: archive,
      sha256: await sha256Of(archive),
      size_bytes: file.size,
      modified_at: file.mtime.toISOString(),
      backup_run_id: typeof manifest.backup_run_id === 'string' ? manifest.backup_run_id : null,
      backup_type: manifest.backup_type,
      config: manifest.config ?? null,
      timestamp: manifest.timestamp,
      manifest: { files: manifest.files, row_counts: manifest.row_counts, config: manifest.config },
    });
  }
  return described;
}

/**
 * Restores a backup archive: checks every checksum first (a corrupt archive is refused and nothing
 * changes), then in ONE transaction copies the evidence aside (audit trail, backup catalogue),
 * runs pg_restore's `--clean --if-exists` script without the archive's owners and grants, and puts
 * the evidence back: audit entries written after the backup keep their ids and times, every backup
 * run keeps its current status, archives on disk stay listed, and BACKUP_RESTORED names the point
 * returned to and what it superseded. Then the stored documents are swapped in.
 *
 * A dry run executes the same transaction and rolls it back: it fails where the real one would
 * (with PostgreSQL's reason) and reports what the real one would keep; nothing changes.
 */
export async function restoreArchive(options: RestoreOptions): Promise<RestoreReport> {
  const tool = (name: string) => (options.pgBinDir ? path.join(options.pgBinDir, name) : name);
  const archive = path.resolve(options.archive);
  const archiveFile = await stat(archive);
  const verification = await verifyArchive(archive, tool('pg_restore'));
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'edms-restore-'));
  try {
    await tar.extract({ file: archive, cwd: scratch });
    const manifest = JSON.parse(await readFile(path.join(scratch, 'manifest.json'), 'utf8')) as ArchiveManifest &
      Record<string, unknown>;
    let storageEntries = 0;
    await tar.list({ file: path.join(scratch, 'storage.tar.gz'), onReadEntry: () => void storageEntries++ });
    const dryRun = options.dryRun ?? false;

    const summary = await runRestoreTransaction({
      dumpFile: path.join(scratch, 'database.dump'),
      databaseUrl: options.databaseUrl,
      pgBinDir: options.pgBinDir,
      dryRun,
      heartbeat: options.heartbeat,
      params: {
        actor: options.actor,
        // The CLI is given a file: the manifest names the run it came from.
        backup_id: options.backupId ?? (typeof manifest.backup_run_id === 'string' ? manifest.backup_run_id : null),
        idempotency_key: options.idempotencyKey ?? null,
        archive: {
          path: archive,
          sha256: await sha256Of(archive),
          size_bytes: archiveFile.size,
          modified_at: archiveFile.mtime.toISOString(),
        },
        backup_run_id: typeof manifest.backup_run_id === 'string' ? manifest.backup_run_id : null,
        backup_type: manifest.backup_type,
        backup_timestamp: manifest.timestamp,
        manifest_summary: { files: manifest.files, row_counts: manifest.row_counts, config: manifest.config },
        row_counts: manifest.row_counts,
        storage_entries: storageEntries,
        archives_on_disk: options.backupDir ? await unlistedArchives(options.databaseUrl, options.backupDir) : [],
      },
    });
    const report: RestoreReport = {
      dry_run: dryRun,
      archive,
      backup_type: manifest.backup_type,
      backup_timestamp: manifest.timestamp,
      verification,
      storage_entries: storageEntries,
      tables: summary.tables,
      mismatched_tables: Object.entries(summary.tables)
        .filter(([, counts]) => counts.restored !== counts.expected)
        .map(([table]) => table)
        .sort(),
      restore_options: ['--clean', '--if-exists', ...PG_RESTORE_OPTIONS],
      point: summary.point,
      superseded: summary.superseded,
      extra_objects: summary.extra_objects,
      audit_entry_id: dryRun ? null : summary.restored_audit_id,
    };
    if (dryRun) return report;

    // The stored documents: unpacked beside the directory, then swapped in.
    const stamp = Date.now();
    const incoming = `${options.storageDir}.restoring-${stamp}`;
    const previous = `${options.storageDir}.before-restore-${stamp}`;
    await mkdir(incoming, { recursive: true });
    await tar.extract({ file: path.join(scratch, 'storage.tar.gz'), cwd: incoming });
    const hadStorage = await stat(options.storageDir).then(
      () => true,
      () => false,
    );
    if (hadStorage) await rename(options.storageDir, previous);
    await rename(incoming, options.storageDir);
    if (hadStorage) await rm(previous, { recursive: true, force: true });
    return report;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface ScratchRestoreCheck {
  restore_verified: boolean;
  scratch_database: string;
  tables_compared: number;
  mismatched_tables: { table: string; expected: number; restored: number }[];
}

/**
 * The real test of a dump: restore it into a scratch database beside the application's, compare
 * every table's row count with the manifest (taken in the dump's own snapshot, so they must be
 * equal), and drop the scratch database whatever happened.
 */
export async function restoreIntoScratchDatabase(options: {
  dumpFile: string;
  databaseUrl: string;
  scratchName: string;
  expectedRowCounts: Record<string, number>;
  pgRestore: string;
  control?: ToolRunControl;
}): Promise<ScratchRestoreCheck> {
  const { scratchName } = options;
  if (!/^[a-z0-9_]{1,63}$/.test(scratchName)) throw new Error(`unsafe scratch database name ${scratchName}`);
  const admin = postgres(options.databaseUrl, { max: 1, onnotice: () => undefined });
  const scratchUrl = new URL(options.databaseUrl);
  scratchUrl.pathname = `/${scratchName}`;
  try {
    await admin.unsafe(`drop database if exists "${scratchName}" with (force)`);
    await admin.unsafe(`create database "${scratchName}"`).catch((error: Error) => {
      throw new Error(
        `verify mode "restore" needs a database role allowed to CREATE DATABASE (${error.message}); use verify mode "checksums" otherwise`,
      );
    });
    await runTool(
      options.pgRestore,
      [
        ...PG_RESTORE_OPTIONS,
        '--exit-on-error',
        '--single-transaction',
        `--dbname=${scratchUrl.toString()}`,
        options.dumpFile,
      ],
      options.control,
    );
    const scratch = postgres(scratchUrl.toString(), { max: 1, onnotice: () => undefined });
    const mismatched: ScratchRestoreCheck['mismatched_tables'] = [];
    try {
      for (const [table, expected] of Object.entries(options.expectedRowCounts)) {
        const [row] = await scratch<{ n: number }[]>`select count(*)::int as n from ${scratch(table)}`;
        if (row?.n !== expected) mismatched.push({ table, expected, restored: row?.n ?? 0 });
      }
    } finally {
      await scratch.end();
    }
    if (mismatched.length > 0) {
      throw new Error(
        `restored row counts differ from the manifest: ${mismatched.map((m) => `${m.table} ${m.restored}/${m.expected}`).join(', ')}`,
      );
    }
    return {
      restore_verified: true,
      scratch_database: scratchName,
      tables_compared: Object.keys(options.expectedRowCounts).length,
      mismatched_tables: mismatched,
    };
  } finally {
    await admin.unsafe(`drop database if exists "${scratchName}" with (force)`).catch(() => undefined);
    await admin.end();
  }
}
