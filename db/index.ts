export * from './client';
export * from './migrate';
export * as schema from './schema';
export type { UserRow, NewAuditEntry } from './schema';
export * from './audit';
export * from './errors';
