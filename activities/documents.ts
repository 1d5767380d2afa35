import { createHash } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import {
  type DocumentFacts,
  type DocumentStatus,
  type NotificationKind,
  type OpenTask,
  type ReviewKind,
  type ClosedReviewTaskStatus,
  type TimedEvent,
  DEFAULT_LATENESS_SLA_SECONDS,
} from '../common';
import { documentFacts, recordAudit, schema, type Database, type DocumentRow } from '../db';
import { isoOrNull } from '../lib/dates';
import { assignmentEmail, assignmentKeys, enqueueEmails } from '../outbox';
import { authorEmailWritten, createDocumentNotificationActivities, notifyAuthor } from './document-notifications';
import { DocumentNotFound, DocumentStateConflict, TaskNotFound, UnknownAssignee } from './errors';
import { activityIdempotencyKey, auditIfChanged } from './idempotency';
import { commitThenDispatch, type EmailWriterDeps } from './notification-dispatch';
import { recordTimedEvent, reportTimedEvent, type TimedEventRecord, type TimedEventSettings } from './timed-events';

const { documents, documentAssignees, documentTransitions, reviewTasks, users } = schema;

type Executor = Pick<Database, 'select' | 'insert' | 'update' | 'execute'>;

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
  status: ClosedReviewTaskStatus;
  actor: string;
  comment?: string;
}

/** The opening of a review round: one task per assigned reviewer (or approver), each with its email. */
export interface RoundRequest {
  documentId: string;
  round: number;
  kind: ReviewKind;
  dueAt: string;
}

/**
 * One database change of a document, as the workflow asks for it within a change of its own (an
 * update, a signal, an instant): a transition, a task closed with its decision, a round opened.
 */
export type DocumentChangeStep =
  | ({ step: 'transition' } & Omit<TransitionRequest, 'documentId'>)
  | ({ step: 'closeTask' } & TaskDecision)
  | ({ step: 'openRound' } & Omit<RoundRequest, 'documentId'>);

/** What each step did, in the steps' order: the status a transition left, the tasks a round opened. */
export type DocumentChangeResult = { status: DocumentStatus } | { closed: true } | { tasks: OpenTask[] };

export interface RecordedChanges {
  results: DocumentChangeResult[];
  /** Outbox emails the steps wrote, for the caller to deliver (none is delivered here). */
  notificationKeys: string[];
}

/**
 * The transitions the document workflow makes when an instant it slept for has come, by their audit
 * action, and the instant each was due at.
 */
const TIMED_TRANSITIONS: Record<string, { event: TimedEvent; instant: (row: DocumentRow) => Date | null }> = {
  DOC_EFFECTIVE_PROCESSED: { event: 'effective', instant: (row) => row.effectiveAt },
  DOC_OBSOLETE_PROCESSED: { event: 'obsolete', instant: (row) => row.obsoleteAt },
};

/** undefined leaves the column alone; null clears it. */
const toDateChange = (value: string | null | undefined) => (value == null ? value : new Date(value));

/** A stable task id, so that a retried round opening inserts each task once. */
function taskId(documentId: string, round: number, kind: ReviewKind, userId: string): string {
  const hex = createHash('sha256').update(`${documentId}:${round}:${kind}:${userId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
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

/**
 * Moves the document to `to` only if it is still in one of `from`, and writes the transition row,
 * the audit entry and the author's notification, in the caller's transaction. `key` names the
 * transition across retries: one that finds its row wrote everything already, and writes nothing
 * again. Returns the timed event to report once committed, when the transition is one.
 */
async function writeTransition(
  tx: Executor,
  request: TransitionRequest,
  key: string,
  timedEvents: TimedEventSettings,
): Promise<{ result: TransitionResult; timed?: TimedEventRecord }> {
  let timed: TimedEventRecord | undefined;
  const [done] = await tx
    .select({ to: documentTransitions.toStatus })
    .from(documentTransitions)
    .where(eq(documentTransitions.idempotencyKey, key));
  if (done) return { result: { status: done.to, notificationKeys: await authorEmailWritten(tx, key) } };

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
  const timedTransition = TIMED_TRANSITIONS[request.auditAction];
  const instant = timedTransition?.instant(before);
  if (timedTransition && instant) {
    // The instant was last set by the change that put the document in its current status.
    timed = await recordTimedEvent(tx, timedEvents, {
      event: timedTransition.event,
      documentId: updated.id,
      documentNumber: updated.documentNumber,
      instant,
      requestedAt: before.updatedAt,
      idempotencyKey: key,
    });
  }
  const notificationKeys = request.notifyAuthor
    ? await notifyAuthor(tx, key, request.notifyAuthor, updated, request)
    : [];
  return { result: { status: updated.status, notificationKeys }, ...(timed ? { timed } : {}) };
}

/**
 * Opens one task per assigned reviewer (or approver), each with a review-assigned email, in the
 * caller's transaction. Task ids are derived from the round, so a retry inserts each task once.
 */
async function writeRound(tx: Executor, request: RoundRequest): Promise<OpenTask[]> {
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
    await enqueueEmails(tx, [assignmentEmail(document, { id, kind: request.kind, dueAt: request.dueAt }, assignee)]);
    tasks.push({ taskId: id, kind: request.kind, assignee: assignee.username, dueAt: request.dueAt });
  }
  return tasks;
}

/** Closes a pending task with its decision and audits it; a task already closed is left as it is. */
async function writeTaskClose(tx: Executor, decision: TaskDecision): Promise<void> {
  await auditIfChanged(
    tx,
    tx
      .update(reviewTasks)
      .set({ status: decision.status, decidedAt: new Date(), comment: decision.comment ?? null })
      .where(and(eq(reviewTasks.id, decision.taskId), eq(reviewTasks.status, 'pending')))
      .returning(),
    (task) => ({
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
    }),
  );
}

/**
 * The document workflows' activities: transitions and review tasks here, each writing its emails in
 * its own transaction; the overdue-task emails in document-notifications.ts.
 */
export function createDocumentActivities(deps: EmailWriterDeps & { timedEvents?: TimedEventSettings }) {
  const { db } = deps.database;
  const timedEvents = deps.timedEvents ?? { slaSeconds: DEFAULT_LATENESS_SLA_SECONDS };

  return {
    ...createDocumentNotificationActivities(deps, timedEvents),

    async loadDocument(documentId: string): Promise<DocumentFacts> {
      return documentFacts(await findDocument(db, documentId));
    },

    /**
     * Moves the document to `to` only if it is still in one of `from`, and in the same transaction
     * writes the transition row, the audit entry and the author's notification. A retry of the same
     * activity finds its transition row and writes nothing again.
     */
    async transitionDocument(request: TransitionRequest): Promise<TransitionResult> {
      let timed: TimedEventRecord | undefined;
      const write = async (tx: Executor) => {
        const written = await writeTransition(tx, request, activityIdempotencyKey(), timedEvents);
        timed = written.timed;
        return written.result;
      };
      const result = await commitThenDispatch(deps, write, (written) => written.notificationKeys);
      if (timed) reportTimedEvent(timedEvents, timed);
      return result;
    },

    /**
     * Every database change of one change of the document workflow (an update, a signal, an
     * instant), in its order and in one transaction: all of them or none. Each step is named across
     * retries by this activity's key and its position, so a retry of a committed batch finds its
     * transitions and tasks and writes nothing again. Delivers no email: returns the keys of those
     * written, for the workflow to deliver once committed. A step the database refuses
     * (DocumentStateConflict, TaskNotFound, DocumentNotFound) undoes the batch.
     */
    async recordChanges(request: { documentId: string; steps: DocumentChangeStep[] }): Promise<RecordedChanges> {
      const key = activityIdempotencyKey();
      const timed: TimedEventRecord[] = [];
      const recorded = await db.transaction(async (tx) => {
        const results: DocumentChangeResult[] = [];
        const notificationKeys: string[] = [];
        for (const [index, change] of request.steps.entries()) {
          if (change.step === 'transition') {
            const written = await writeTransition(
              tx,
              { ...change, documentId: request.documentId },
              `${key}:${index}`,
              timedEvents,
            );
            if (written.timed) timed.push(written.timed);
            results.push({ status: written.result.status });
            notificationKeys.push(...written.result.notificationKeys);
          } else if (change.step === 'closeTask') {
            await writeTaskClose(tx, change);
            results.push({ closed: true });
          } else {
            const tasks = await writeRound(tx, { ...change, documentId: request.documentId });
            results.push({ tasks });
            notificationKeys.push(...assignmentKeys(tasks));
          }
        }
        return { results, notificationKeys };
      });
      for (const record of timed) reportTimedEvent(timedEvents, record);
      return recorded;
    },

    /** Opens one task per assigned reviewer (or approver), each with a review-assigned email. */
    async openReviewRound(request: RoundRequest): Promise<OpenTask[]> {
      return commitThenDispatch(deps, (tx) => writeRound(tx, request), assignmentKeys);
    },

    /** Closes a pending task with its decision; a task already closed is left as it is. */
    async closeTask(decision: TaskDecision): Promise<void> {
      await db.transaction((tx) => writeTaskClose(tx, decision));
    },

    /** Hands a pending task to another user with a new due instant, and tells the new assignee. */
    async reassignTask(request: { taskId: string; assignee: string; dueAt: string; actor: string }): Promise<OpenTask> {
      const write = async (tx: Executor): Promise<OpenTask> => {
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
        await enqueueEmails(tx, [
          assignmentEmail(document, { id: task.id, kind: task.kind, dueAt: request.dueAt }, assignee),
        ]);
        return { taskId: task.id, kind: task.kind, assignee: assignee.username, dueAt: request.dueAt };
      };
      return commitThenDispatch(deps, write, (task) => assignmentKeys([task]));
    },
  };
}
