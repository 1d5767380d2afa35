import { eq, like } from 'drizzle-orm';
import type { NotificationKind, OverdueTaskKind } from '../common';
import { schema, type Database, type DocumentRow } from '../db';
import { activeAdminEmails, authorEmail, enqueueEmails, overdueTaskEmail } from '../outbox';
import { TaskNotFound } from './errors';
import { activityIdempotencyKey } from './idempotency';
import { commitThenDispatch, type EmailWriterDeps } from './notification-dispatch';
import { recordTimedEvent, reportTimedEvent, type TimedEventRecord, type TimedEventSettings } from './timed-events';

const { documents, reviewTasks, users, notificationOutbox } = schema;

type Executor = Pick<Database, 'select' | 'insert' | 'update' | 'execute'>;

/** The key of the author's email about a transition: one per transition, found again by its retry. */
const authorEmailKey = (transitionKey: string) => `${transitionKey}:notify`;

/**
 * Writes the email telling the author of `document` (as it is after the transition) about it,
 * unless the author is no longer active. Returns the keys written.
 */
export async function notifyAuthor(
  tx: Executor,
  transitionKey: string,
  kind: NotificationKind,
  document: DocumentRow,
  change: { actor: string; comment?: string },
): Promise<string[]> {
  const [author] = await tx.select().from(users).where(eq(users.id, document.authorId));
  if (!author?.active) return [];
  const email = authorEmail(authorEmailKey(transitionKey), kind, document, author, {
    actor: change.actor,
    comment: change.comment ?? null,
  });
  return enqueueEmails(tx, [email]);
}

/** The author's email a committed transition wrote (none if it wrote none), for its retry to dispatch again. */
export async function authorEmailWritten(tx: Executor, transitionKey: string): Promise<string[]> {
  const written = await tx
    .select({ key: notificationOutbox.idempotencyKey })
    .from(notificationOutbox)
    .where(eq(notificationOutbox.idempotencyKey, authorEmailKey(transitionKey)));
  return written.map((row) => row.key);
}

/** Escalations go to the assignee's manager, or to every active admin when there is none. */
async function escalationRecipients(executor: Executor, assigneeManagerId: string | null): Promise<string[]> {
  if (assigneeManagerId) {
    const [manager] = await executor.select().from(users).where(eq(users.id, assigneeManagerId));
    if (manager?.active) return [manager.email];
  }
  return activeAdminEmails(executor);
}

/** The review timers' emails about a task still open past its due instant. */
export function createDocumentNotificationActivities(deps: EmailWriterDeps, timedEvents: TimedEventSettings) {
  return {
    /**
     * A reminder to the assignee, or an escalation to their manager (or the admins), for a task
     * still pending. `at` is the workflow's clock, so the email says when it was due to be sent.
     * Answers `closed` for a task no longer pending, which writes nothing.
     */
    async notifyOverdueTask(request: {
      taskId: string;
      kind: OverdueTaskKind;
      at: string;
    }): Promise<{ notificationKeys: string[]; closed?: true }> {
      const key = activityIdempotencyKey();
      let timed: TimedEventRecord | undefined;
      const write = async (tx: Executor) => {
        // A retry after the commit finds its emails written and counts nothing twice.
        const written = await tx
          .select({ key: notificationOutbox.idempotencyKey })
          .from(notificationOutbox)
          .where(like(notificationOutbox.idempotencyKey, `${key}:%`));
        if (written.length > 0) return { notificationKeys: written.map((row) => row.key) };
        const [row] = await tx
          .select({ task: reviewTasks, assignee: users, document: documents })
          .from(reviewTasks)
          .innerJoin(users, eq(users.id, reviewTasks.assigneeId))
          .innerJoin(documents, eq(documents.id, reviewTasks.documentId))
          .where(eq(reviewTasks.id, request.taskId));
        if (!row) throw new TaskNotFound(request.taskId);
        // Its watcher stops: a task closed behind the workflow's back (a cleanup) is not reminded.
        if (row.task.status !== 'pending') return { notificationKeys: [], closed: true as const };
        const recipients =
          request.kind === 'review_reminder'
            ? [row.assignee.email]
            : await escalationRecipients(tx, row.assignee.managerId);
        const overdue = { ...row, assignee: row.assignee.username, sentFor: request.at };
        const notificationKeys = await enqueueEmails(
          tx,
          recipients.map((recipient) => overdueTaskEmail(`${key}:${recipient}`, request.kind, recipient, overdue)),
        );
        await tx
          .update(reviewTasks)
          .set(
            request.kind === 'review_reminder'
              ? { remindersSent: row.task.remindersSent + 1 }
              : { escalatedAt: new Date(request.at) },
          )
          .where(eq(reviewTasks.id, request.taskId));
        timed = await recordTimedEvent(tx, timedEvents, {
          event: request.kind === 'review_reminder' ? 'reminder' : 'escalation',
          documentId: row.document.id,
          documentNumber: row.document.documentNumber,
          taskId: row.task.id,
          instant: new Date(request.at),
          idempotencyKey: key,
        });
        return { notificationKeys };
      };
      const result = await commitThenDispatch(deps, write, (written) => written.notificationKeys);
      if (timed) reportTimedEvent(timedEvents, timed);
      return result;
    },
  };
}
