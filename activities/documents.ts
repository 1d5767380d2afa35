import { createHash } from 'node:crypto';
import { and, eq, inArray, like } from 'drizzle-orm';
import {
  assignmentNotificationKey,
  type DocumentFacts,
  type DocumentStatus,
  type NotificationKind,
  type OpenTask,
  type ReviewKind,
} from '../common';
import { documentFacts, recordAudit, schema, type Database, type DatabaseHandle } from '../db';
import { DocumentNotFound, DocumentStateConflict, TaskNotFound, UnknownAssignee } from './errors';
import { activityIdempotencyKey } from './idempotency';
import type { DispatchNotifications } from './notification-dispatch';
import { isoOrNull } from '../lib/dates';

const { documents, documentAssignees, documentTransitions, reviewTasks, users, notificationOutbox } = schema;

type Executor = Pick<Database, 'select' | 'insert' | 'update'>;

export interface TransitionRequest {
  documentId: string;
  from: DocumentStatus[];
  to: DocumentStatus;
  actor: string;
  comment?: string;
  auditAction: string;
  changes?: { effectiveAt?: string | null; obsoleteAt?: string | null; obsolescenceReason?: string | null };
  /** An email to the author about this change. */
  notifyAuthor?: NotificationKind;
}

export interface TransitionResult {
  status: DocumentStatus;
  /** Outbox emails this transition wrote (their delivery is already started). */
  notificationKeys: string[];
}

export interface TaskDecision {
  taskId: string;
  status: 'approved' | 'rejected' | 'cancelled';
  actor: string;
  comment?: string;
}

/** undefined leaves the column alone; null clears it. */
const toDateChange = (value: string | null | undefined) => (value == null ? value : new Date(value));

/** A stable task id, so that a retried round opening inserts each task once. */
function taskId(documentId: string, round: number, kind: ReviewKind, userId: string): string {
  const hex = createHash('sha256').update(`${documentId}:${round}:${kind}:${userId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

async function enqueueNotification(
  executor: Executor,
  notification: {
    key: string;
    kind: NotificationKind;
    recipient: string;
    documentId: string;
    variables: Record<string, unknown>;
  },
): Promise<void> {
  await executor
    .insert(notificationOutbox)
    .values({
      idempotencyKey: notification.key,
      kind: notification.kind,
      recipient: notification.recipient,
      documentId: notification.documentId,
      variables: notification.variables,
    })
    .onConflictDoNothing({ target: notificationOutbox.idempotencyKey });
}

async function findDocument(executor: Executor, documentId: string) {
  const [row] = await executor.select().from(documents).where(eq(documents.id, documentId));
  if (!row) throw new DocumentNotFound(documentId);
  return row;
}

async function activeUser(executor: Executor, username: string) {
  const [user] = await executor
    .select()
    .from(users)
    .where(and(eq(users.username, username), eq(users.active, true)));
  if (!user) throw new UnknownAssignee(username);
  return user;
}

/** Escalations go to the assignee's manager, or to every active admin when there is none. */
async function escalationRecipients(executor: Executor, assigneeManagerId: string | null): Promise<string[]> {
  if (assigneeManagerId) {
    const [manager] = await executor.select().from(users).where(eq(users.id, assigneeManagerId));
    if (manager?.active) return [manager.email];
  }
  const admins = await executor
    .select({ email: users.email })
    .from(users)
    .where(and(eq(users.role, 'admin'), eq(users.active, true)));
  return admins.map((admin) => admin.email);
}

export interface DocumentActivityDeps {
  database: DatabaseHandle;
  dispatchNotifications: DispatchNotifications;
}

export function createDocumentActivities({ database, dispatchNotifications }: DocumentActivityDeps) {
  const { db } = database;

  /** Emails are dispatched only once the transaction that wrote them has committed. */
  async function thenDeliver<T>(result: T, notificationKeys: readonly string[]): Promise<T> {
    await dispatchNotifications(notificationKeys);
    return result;
  }

  return {
    async loadDocument(documentId: string): Promise<DocumentFacts> {
      return documentFacts(await findDocument(db, documentId));
    },

    /**
     * Moves the document to `to` only if it is still in one of `from`, and in the same transaction
     * writes the transition row, the audit entry and the author's notification. A retry of the same
     * activity finds its transition row and writes nothing again.
     */
    async transitionDocument(request: TransitionRequest): Promise<TransitionResult> {
      const key = activityIdempotencyKey();
      const result = await db.transaction(async (tx): Promise<TransitionResult> => {
        const [done] = await tx
          .select({ to: documentTransitions.toStatus })
          .from(documentTransitions)
          .where(eq(documentTransitions.idempotencyKey, key));
        if (done) {
          const sent = await tx
            .select({ key: notificationOutbox.idempotencyKey })
            .from(notificationOutbox)
            .where(eq(notificationOutbox.idempotencyKey, `${key}:notify`));
          return { status: done.to, notificationKeys: sent.map((row) => row.key) };
        }

        const before = await findDocument(tx, request.documentId);
        const changes = request.changes ?? {};
        const [updated] = await tx
          .update(documents)
          .set({
            status: request.to,
            effectiveAt: toDateChange(changes.effectiveAt),
            obsoleteAt: toDateChange(changes.obsoleteAt),
            obsolescenceReason: changes.obsolescenceReason,
            updatedAt: new Date(),
          })
          .where(and(eq(documents.id, request.documentId), inArray(documents.status, request.from)))
          .returning();
        if (!updated) throw new DocumentStateConflict(request.documentId, request.from, before.status);

        await tx.insert(documentTransitions).values({
          documentId: request.documentId,
          fromStatus: before.status,
          toStatus: request.to,
          actor: request.actor,
          comment: request.comment ?? null,
          idempotencyKey: key,
        });
        const fieldChanges: Record<string, { from: unknown; to: unknown }> = {
          status: { from: before.status, to: request.to },
        };
        if (isoOrNull(before.effectiveAt) !== isoOrNull(updated.effectiveAt)) {
          fieldChanges.effective_at = { from: isoOrNull(before.effectiveAt), to: isoOrNull(updated.effectiveAt) };
        }
        if (isoOrNull(before.obsoleteAt) !== isoOrNull(updated.obsoleteAt)) {
          fieldChanges.obsolete_at = { from: isoOrNull(before.obsoleteAt), to: isoOrNull(updated.obsoleteAt) };
        }
        await recordAudit(tx, {
          action: request.auditAction,
          actor: request.actor,
          entityType: 'document',
          entityId: request.documentId,
          idempotencyKey: `${key}:audit`,
          details: {
            document_number: updated.documentNumber,
            version: updated.version,
            comment: request.comment ?? null,
            changes: fieldChanges,
          },
        });
        const notificationKeys: string[] = [];
        if (request.notifyAuthor) {
          const [author] = await tx.select().from(users).where(eq(users.id, updated.authorId));
          if (author?.active) {
            notificationKeys.push(`${key}:notify`);
            await enqueueNotification(tx, {
              key: `${key}:notify`,
              kind: request.notifyAuthor,
              recipient: author.email,
              documentId: updated.id,
              variables: {
                document_number: updated.documentNumber,
                title: updated.title,
                version: updated.version,
                status: updated.status,
                effective_at: isoOrNull(updated.effectiveAt),
                obsolete_at: isoOrNull(updated.obsoleteAt),
                actor: request.actor,
                comment: request.comment ?? null,
              },
            });
          }
        }
        return { status: updated.status, notificationKeys };
      });
      return thenDeliver(result, result.notificationKeys);
    },

    /** Opens one task per assigned reviewer (or approver), each with a review-assigned email. */
    async openReviewRound(request: {
      documentId: string;
      round: number;
      kind: ReviewKind;
      dueAt: string;
    }): Promise<OpenTask[]> {
      const tasks = await db.transaction(async (tx) => {
        const document = await findDocument(tx, request.documentId);
        const assignees = await tx
          .select({ id: users.id, username: users.username, email: users.email })
          .from(documentAssignees)
          .innerJoin(users, eq(users.id, documentAssignees.userId))
          .where(and(eq(documentAssignees.documentId, request.documentId), eq(documentAssignees.kind, request.kind)));
        const tasks: OpenTask[] = [];
        for (const assignee of assignees) {
          const id = taskId(request.documentId, request.round, request.kind, assignee.id);
          await tx
            .insert(reviewTasks)
            .values({
              id,
              documentId: request.documentId,
              round: request.round,
              kind: request.kind,
              assigneeId: assignee.id,
              dueAt: new Date(request.dueAt),
            })
            .onConflictDoNothing({ target: reviewTasks.id });
          await enqueueNotification(tx, {
            key: assignmentNotificationKey(id, assignee.username),
            kind: 'review_assigned',
            recipient: assignee.email,
            documentId: request.documentId,
            variables: {
              document_number: document.documentNumber,
              title: document.title,
              kind: request.kind,
              due_at: request.dueAt,
              assignee: assignee.username,
            },
          });
          tasks.push({ taskId: id, kind: request.kind, assignee: assignee.username, dueAt: request.dueAt });
        }
        return tasks;
      });
      return thenDeliver(
        tasks,
        tasks.map((task) => assignmentNotificationKey(task.taskId, task.assignee)),
      );
    },

    /** Closes a pending task with its decision; a task already closed is left as it is. */
    async closeTask(decision: TaskDecision): Promise<void> {
      await db.transaction(async (tx) => {
        const [task] = await tx
          .update(reviewTasks)
          .set({ status: decision.status, decidedAt: new Date(), comment: decision.comment ?? null })
          .where(and(eq(reviewTasks.id, decision.taskId), eq(reviewTasks.status, 'pending')))
          .returning();
        if (!task) return;
        await recordAudit(tx, {
          action: decision.status === 'cancelled' ? 'REVIEW_TASK_CANCELLED' : 'REVIEW_TASK_DECIDED',
          actor: decision.actor,
          entityType: 'review_task',
          entityId: task.id,
          details: {
            document_id: task.documentId,
            kind: task.kind,
            round: task.round,
            decision: decision.status,
            comment: decision.comment ?? null,
          },
        });
      });
    },

    /** Hands a pending task to another user with a new due instant, and tells the new assignee. */
    async reassignTask(request: { taskId: string; assignee: string; dueAt: string; actor: string }): Promise<OpenTask> {
      const task = await db.transaction(async (tx): Promise<OpenTask> => {
        const [task] = await tx.select().from(reviewTasks).where(eq(reviewTasks.id, request.taskId));
        if (!task) throw new TaskNotFound(request.taskId);
        const assignee = await activeUser(tx, request.assignee);
        const document = await findDocument(tx, task.documentId);
        if (task.assigneeId !== assignee.id) {
          await tx
            .update(reviewTasks)
            .set({ assigneeId: assignee.id, dueAt: new Date(request.dueAt), remindersSent: 0, escalatedAt: null })
            .where(and(eq(reviewTasks.id, request.taskId), eq(reviewTasks.status, 'pending')));
          await recordAudit(tx, {
            action: 'REVIEW_TASK_REASSIGNED',
            actor: request.actor,
            entityType: 'review_task',
            entityId: task.id,
            details: {
              document_id: task.documentId,
              from: task.assigneeId,
              to: assignee.username,
              due_at: request.dueAt,
            },
          });
        }
        await enqueueNotification(tx, {
          key: assignmentNotificationKey(task.id, assignee.username),
          kind: 'review_assigned',
          recipient: assignee.email,
          documentId: task.documentId,
          variables: {
            document_number: document.documentNumber,
            title: document.title,
            kind: task.kind,
            due_at: request.dueAt,
            assignee: assignee.username,
          },
        });
        return { taskId: task.id, kind: task.kind, assignee: assignee.username, dueAt: request.dueAt };
      });
      return thenDeliver(task, [assignmentNotificationKey(task.taskId, task.assignee)]);
    },

    /**
     * A reminder to the assignee, or an escalation to their manager (or the admins), for a task
     * still pending. `at` is the workflow's clock, so the email says when it was due to be sent.
     */
    async notifyOverdueTask(request: {
      taskId: string;
      kind: 'review_reminder' | 'review_escalated';
      at: string;
    }): Promise<{ notificationKeys: string[] }> {
      const key = activityIdempotencyKey();
      const result = await db.transaction(async (tx) => {
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
        if (row.task.status !== 'pending') return { notificationKeys: [] };
        const recipients =
          request.kind === 'review_reminder'
            ? [row.assignee.email]
            : await escalationRecipients(tx, row.assignee.managerId);
        const notificationKeys = recipients.map((recipient) => `${key}:${recipient}`);
        for (const recipient of recipients) {
          await enqueueNotification(tx, {
            key: `${key}:${recipient}`,
            kind: request.kind,
            recipient,
            documentId: row.document.id,
            variables: {
              document_number: row.document.documentNumber,
              title: row.document.title,
              kind: row.task.kind,
              assignee: row.assignee.username,
              due_at: row.task.dueAt.toISOString(),
              sent_for: request.at,
            },
          });
        }
        await tx
          .update(reviewTasks)
          .set(
            request.kind === 'review_reminder'
              ? { remindersSent: row.task.remindersSent + 1 }
              : { escalatedAt: new Date(request.at) },
          )
          .where(eq(reviewTasks.id, request.taskId));
        return { notificationKeys };
      });
      return thenDeliver(result, result.notificationKeys);
    },
  };
}
