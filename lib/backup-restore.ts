import { mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { connectDatabase, recordAudit } from '../db';
import { runTool, verifyArchive, type ArchiveVerification, type BackupFile } from './backup-archive';

export interface RestoreOptions {
  archive: string;
  databaseUrl: string;
  storageDir: string;
  pgBinDir?: string;
  /** Who restores (audited). */
  actor: string;
  dryRun?: boolean;
}

interface Manifest {
  timestamp: string;
  backup_type: string;
  files: BackupFile[];
  row_counts: Record<string, number>;
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
    const manifest = JSON.parse(await readFile(path.join(scratch, 'manifest.json'), 'utf8')) as Manifest;
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
        entityId: path.basename(archive),
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
