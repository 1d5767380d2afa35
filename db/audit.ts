import { auditTrail, type NewAuditEntry } from './schema';
import type { Database } from './client';

/** Anything that can insert: the database or an open transaction. */
type Executor = Pick<Database, 'insert'>;

/**
 * Appends one audit entry. With an idempotency key a retried caller inserts it once; without one,
 * every call is a new entry (an HTTP request is never retried behind the user's back).
 */
export async function recordAudit(executor: Executor, entry: NewAuditEntry): Promise<void> {
  await executor.insert(auditTrail).values(entry).onConflictDoNothing({ target: auditTrail.idempotencyKey });
}
