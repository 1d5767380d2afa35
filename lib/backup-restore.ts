import { mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { connectDatabase, recordAudit } from '../db';
import postgres from 'postgres';
import {
  runTool,
  verifyArchive,
  type ArchiveManifest,
  type ArchiveVerification,
  type ToolRunControl,
} from './backup-archive';

export interface RestoreOptions {
  archive: string;
  databaseUrl: string;
  storageDir: string;
  pgBinDir?: string;
  /** Who restores (audited). */
  actor: string;
  /** The backup run the archive came from, when known (the audit names it). */
  backupId?: string;
  dryRun?: boolean;
}

export interface RestoreReport {
  dry_run: boolean;
  archive: string;
  backup_type: string;
  backup_timestamp: string;
  verification: ArchiveVerification;
  storage_entries: number;
  /** Rows per table: in the backup, and (after a restore) in the database. */
  tables: Record<string, { expected: number; restored?: number }>;
  mismatched_tables: string[];
}

/**
 * Restores a backup archive: checks every checksum first (a corrupt archive is refused and nothing
 * changes), then `pg_restore --clean --if-exists` into the database in one transaction, then swaps
 * in the stored documents, audits BACKUP_RESTORED and compares row counts with the manifest. A dry
 * run stops after the checks and says what would be restored.
 */
export async function restoreArchive(options: RestoreOptions): Promise<RestoreReport> {
  const tool = (name: string) => (options.pgBinDir ? path.join(options.pgBinDir, name) : name);
  const archive = path.resolve(options.archive);
  await stat(archive);
  const verification = await verifyArchive(archive, tool('pg_restore'));
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'edms-restore-'));
  try {
    await tar.extract({ file: archive, cwd: scratch });
    const manifest = JSON.parse(await readFile(path.join(scratch, 'manifest.json'), 'utf8')) as ArchiveManifest;
    let storageEntries = 0;
    await tar.list({ file: path.join(scratch, 'storage.tar.gz'), onReadEntry: () => void storageEntries++ });
    const report: RestoreReport = {
      dry_run: options.dryRun ?? false,
      archive,
      backup_type: manifest.backup_type,
      backup_timestamp: manifest.timestamp,
      verification,
      storage_entries: storageEntries,
      tables: Object.fromEntries(Object.entries(manifest.row_counts).map(([table, n]) => [table, { expected: n }])),
      mismatched_tables: [],
    };
    if (options.dryRun) return report;

    await runTool(tool('pg_restore'), [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--single-transaction',
      '--exit-on-error',
      `--dbname=${options.databaseUrl}`,
      path.join(scratch, 'database.dump'),
    ]);

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

    const database = connectDatabase(options.databaseUrl, { applicationName: 'edms-restore' });
    try {
      for (const [table, counts] of Object.entries(report.tables)) {
        const [row] = await database.sql<{ n: number }[]>`select count(*)::int as n from ${database.sql(table)}`;
        counts.restored = row?.n ?? 0;
        if (counts.restored !== counts.expected) report.mismatched_tables.push(table);
      }
      await recordAudit(database.db, {
        action: 'BACKUP_RESTORED',
        actor: options.actor,
        entityType: 'backup',
        entityId: options.backupId ?? path.basename(archive),
        details: {
          archive,
          backup_type: manifest.backup_type,
          backup_timestamp: manifest.timestamp,
          storage_entries: storageEntries,
          mismatched_tables: report.mismatched_tables,
        },
      });
    } finally {
      await database.close();
    }
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
      ['--no-owner', '--exit-on-error', '--single-transaction', `--dbname=${scratchUrl.toString()}`, options.dumpFile],
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
