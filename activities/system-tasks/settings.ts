import type { Client } from '@temporalio/client';
import { ALL_TASK_QUEUES, DEFAULT_LIFECYCLE_SETTINGS, TASK_QUEUES, type LifecycleSettings } from '../../common';
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
  /** Task queues whose pollers the health check counts. */
  monitoredTaskQueues: readonly string[];
}

export const defaultSystemTaskSettings = (storageDir: string): SystemTaskSettings => ({
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
}
