import {
  assignmentNotificationKey,
  type NotificationKind,
  type OpenTask,
  type OverdueTaskKind,
  type ReviewKind,
} from '../common';
import type { DocumentRow } from '../db';
import { isoOrNull } from '../lib/dates';
import type { OutboxEmail } from './enqueue';

// What the document and review emails carry: the variables their templates (templates.ts) read.

type DocumentLabel = Pick<DocumentRow, 'id' | 'documentNumber' | 'title'>;

/** The email telling a document's author about a change of its status (the document_* templates). */
export function authorEmail(
  key: string,
  kind: NotificationKind,
  document: DocumentRow,
  author: { email: string },
  change: { actor: string; comment: string | null },
): OutboxEmail {
  return {
    key,
    kind,
    recipient: author.email,
    documentId: document.id,
    variables: {
      document_number: document.documentNumber,
      title: document.title,
      version: document.version,
      status: document.status,
      effective_at: isoOrNull(document.effectiveAt),
      obsolete_at: isoOrNull(document.obsoleteAt),
      actor: change.actor,
      comment: change.comment,
    },
  };
}

/**
 * The email asking an assignee for their review or approval. Its key names the task and the
 * assignee, so a reassignment to someone else is a new email and a retried one is not.
 */
export function assignmentEmail(
  document: DocumentLabel,
  task: { id: string; kind: ReviewKind; dueAt: string },
  assignee: { username: string; email: string },
): OutboxEmail {
  return {
    key: assignmentNotificationKey(task.id, assignee.username),
    kind: 'review_assigned',
    recipient: assignee.email,
    documentId: document.id,
    variables: {
      document_number: document.documentNumber,
      title: document.title,
      kind: task.kind,
      due_at: task.dueAt,
      assignee: assignee.username,
    },
  };
}

/** The keys of the assignment emails of these tasks (the review workflow derives them too). */
export const assignmentKeys = (tasks: readonly OpenTask[]) =>
  tasks.map((task) => assignmentNotificationKey(task.taskId, task.assignee));

/**
 * A reminder to the assignee, or an escalation to their manager (or the admins), of a task still
 * open. `sentFor` is the workflow's clock, so the email says when it was due to be sent.
 */
export function overdueTaskEmail(
  key: string,
  kind: OverdueTaskKind,
  recipient: string,
  overdue: { document: DocumentLabel; task: { kind: ReviewKind; dueAt: Date }; assignee: string; sentFor: string },
): OutboxEmail {
  return {
    key,
    kind,
    recipient,
    documentId: overdue.document.id,
    variables: {
      document_number: overdue.document.documentNumber,
      title: overdue.document.title,
      kind: overdue.task.kind,
      assignee: overdue.assignee,
      due_at: overdue.task.dueAt.toISOString(),
      sent_for: overdue.sentFor,
    },
  };
}
