import type { Client } from '@temporalio/client';
import {
  ALL_TASK_QUEUES,
  DEFAULT_LIFECYCLE_SETTINGS,
  TASK_QUEUES,
  type BackupType,
  type LifecycleSettings,
  type SystemTaskInput,
} from '../../common';
import type { DatabaseHandle } from '../../db';
import type { DispatchNotifications } from '../notification-dispatch';

/** What the system tasks need besides the database. */
export interface SystemTaskSettings {
  /** Task queue document workflows are started on (by the date safety nets). */
  documentsTaskQueue: string;
  lifecycle: LifecycleSettings;
  /** Document storage the health check verifies (EDMS_STORAGE_DIR). */
  storageDir: string;
  /** Task executions older than this are pruned (EDMS_TASK_RETENTION_DAYS). */
  taskRetentionDays: number;
  /** Delivered notifications older than this are pruned by the weekly cleanup. */
  notificationRetentionDays: number;
  timezone: string;
  /** The application database, as pg_dump connects to it. */
  databaseUrl: string;
  /** Backups go to `<backupDir>/backups/<type>/` or a configuration's destination under it (EDMS_BACKUP_DIR). */
  backupDir: string;
  /** Archives kept per backup type when a configuration sets no retention of its own. */
  backupRetention: Record<BackupType, number>;
  /** pg_dump compression, 0-9 (EDMS_BACKUP_COMPRESSION). */
  backupCompressionLevel: number;
  /** `pg_dump` and `pg_restore` are looked up here first (EDMS_PG_BIN_DIR), then on PATH. */
  pgBinDir: string | undefined;
  appVersion: string;
  /** The running code's commit, when known (backup manifests). */
  gitCommit?: string;
  /** Task queues whose pollers the health check counts. */
  monitoredTaskQueues: readonly string[];
}

export const DEFAULT_BACKUP_RETENTION: Record<BackupType, number> = { full: 7, export: 4, archive: 12 };

export const defaultSystemTaskSettings = (
  storageDir: string,
  databaseUrl: string,
  backupDir: string,
): SystemTaskSettings => ({
  databaseUrl,
  backupDir,
  backupRetention: DEFAULT_BACKUP_RETENTION,
  backupCompressionLevel: 9,
  pgBinDir: undefined,
  appVersion: '0.0.0',
  documentsTaskQueue: TASK_QUEUES.documents,
  lifecycle: DEFAULT_LIFECYCLE_SETTINGS,
  storageDir,
  taskRetentionDays: 7,
  notificationRetentionDays: 90,
  timezone: 'UTC',
  monitoredTaskQueues: ALL_TASK_QUEUES,
});

export interface SystemTaskDeps {
  database: DatabaseHandle;
  temporal: Client;
  dispatchNotifications: DispatchNotifications;
  settings: SystemTaskSettings;
}

/** Every task activity takes this and answers a JSON result. */
export interface TaskRequest {
  executionId: string;
  dryRun: boolean;
  options?: SystemTaskInput['options'];
}
