import { mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { pgTool, sha256Of, verifyArchive, type ArchiveVerification } from './archive';
import { manifestRunId, manifestSummary, type ManifestOnDisk } from './manifest';
import type { RestoreTransactionSummary } from './restore-contract';
import { PG_RESTORE_OPTIONS, runRestoreTransaction } from './restore-transaction';
import { unlistedArchives } from './unlisted-archives';

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
  const tool = (name: string) => pgTool(options.pgBinDir, name);
  const archive = path.resolve(options.archive);
  const archiveFile = await stat(archive);
  const verification = await verifyArchive(archive, tool('pg_restore'));
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'edms-restore-'));
  try {
    await tar.extract({ file: archive, cwd: scratch });
    const manifest = JSON.parse(await readFile(path.join(scratch, 'manifest.json'), 'utf8')) as ManifestOnDisk;
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
        backup_id: options.backupId ?? manifestRunId(manifest),
        idempotency_key: options.idempotencyKey ?? null,
        archive: {
          path: archive,
          sha256: await sha256Of(archive),
          size_bytes: archiveFile.size,
          modified_at: archiveFile.mtime.toISOString(),
        },
        backup_run_id: manifestRunId(manifest),
        backup_type: manifest.backup_type,
        backup_timestamp: manifest.timestamp,
        manifest_summary: manifestSummary(manifest),
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
