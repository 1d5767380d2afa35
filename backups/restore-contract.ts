/**
 * The JSON the restore transaction is given and gives back: what ./restore.ts sends through
 * ./restore-transaction.ts and the SQL of ./restore-sql.ts reads and reports.
 */

/** An archive found under EDMS_BACKUP_DIR, described from its manifest, that the catalogue must list. */
export interface ArchiveOnDisk {
  path: string;
  sha256: string;
  size_bytes: number;
  modified_at: string;
  backup_run_id: string | null;
  backup_type: string;
  config: string | null;
  timestamp: string;
  manifest: Record<string, unknown>;
}

/** What the transaction is told: who restores which archive, and what the catalogue must list. */
export interface RestoreTransactionParams {
  actor: string;
  backup_id: string | null;
  idempotency_key: string | null;
  archive: { path: string; sha256: string; size_bytes: number; modified_at: string };
  backup_run_id: string | null;
  backup_type: string;
  backup_timestamp: string;
  manifest_summary: Record<string, unknown>;
  row_counts: Record<string, number>;
  storage_entries: number;
  archives_on_disk: ArchiveOnDisk[];
}

/** What the transaction did (or, rolled back as a dry run, would do). */
export interface RestoreTransactionSummary {
  tables: Record<string, { expected: number; restored: number }>;
  point: { backup_id: string | null; backup_timestamp: string; highest_audit_id: number };
  superseded: {
    audit_entries: number;
    first_audit_id: number | null;
    last_audit_id: number | null;
    backup_runs_brought_back: string[];
    backup_runs_updated: string[];
    archives_catalogued: string[];
  };
  extra_objects: string[];
  restored_audit_id: number | null;
}
