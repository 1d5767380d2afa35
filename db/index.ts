export * from './client';
export * from './migrate';
export * as schema from './schema';
export type {
  UserRow,
  NewAuditEntry,
  DocumentRow,
  TaskExecutionRow,
  BackupRunRow,
  BackupConfigRow,
  SchedulerJobRow,
  SchedulerJobExecutionRow,
} from './schema';
export * from './audit';
export * from './errors';
export * from './like';
export * from './review-tasks';
export * from './document-facts';
export * from './backup-runs';
export * from './worker-heartbeats';
