import { and, eq } from 'drizzle-orm';
import { schema, type Database } from '../db';

const { notificationOutbox, users } = schema;

/** The database or an open transaction: emails are written with the change that causes them. */
export type OutboxExecutor = Pick<Database, 'select' | 'insert'>;

/** One email to write to the outbox. */
export interface OutboxEmail {
  /** Unique per email: a retried writer finds its row and writes nothing again. */
  key: string;
  /** A NotificationKind, or a kind a job composed itself (JOB_COMPOSED_KINDS). */
  kind: string;
  recipient: string;
  /** The document it is about, if any (its link in the email, and the document's notification list). */
  documentId?: string;
  variables: Record<string, unknown>;
}

/**
 * Writes emails to the outbox, each once: a key already there keeps its first row (what was recorded
 * first is what is sent, whatever a retry composes). Returns every key, new or not, because the
 * caller dispatches them all once its transaction has committed: a retry after a commit whose
 * dispatch was lost must still start their delivery.
 */
export async function enqueueEmails(executor: OutboxExecutor, emails: readonly OutboxEmail[]): Promise<string[]> {
  if (emails.length === 0) return [];
  await executor
    .insert(notificationOutbox)
    .values(
      emails.map((email) => ({
        idempotencyKey: email.key,
        kind: email.kind,
        recipient: email.recipient,
        documentId: email.documentId ?? null,
        variables: email.variables,
      })),
    )
    .onConflictDoNothing({ target: notificationOutbox.idempotencyKey });
  return emails.map((email) => email.key);
}

/** Who is told when no one in particular is: every active admin (escalations without a manager, alerts). */
export async function activeAdminEmails(executor: OutboxExecutor): Promise<string[]> {
  const admins = await executor
    .select({ email: users.email })
    .from(users)
    .where(and(eq(users.role, 'admin'), eq(users.active, true)));
  return admins.map((admin) => admin.email);
}
