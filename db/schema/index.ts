/**
 * The drizzle schema, one file per domain; table, column, index, enum and constraint names are the
 * database's and are changed only with a generated migration (`npm run db:generate`).
 */
export * from './users-auth';
export * from './audit-trail';
export * from './documents';
export * from './outbox';
export * from './system-tasks';
export * from './backups';
export * from './scheduler-jobs';
export * from './worker-heartbeats';
export * from './timed-events';
