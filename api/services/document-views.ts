import { and, asc, count, desc, eq, ilike, or, type SQL } from 'drizzle-orm';
import type { DocumentStatus } from '../../common';
import { containsPattern, schema, type Database } from '../../db';
import { isoOrNull } from '../../lib/dates';
import { notFound } from '../errors';

const { documents, documentAssignees, documentTransitions, users, auditTrail, reviewTasks } = schema;

/** A document as the API shows it: its people by username, its open review and approval tasks. */
export interface DocumentView {
  id: string;
  document_number: string;
  version: number;
  title: string;
  description: string | null;
  status: DocumentStatus;
  author: string;
  reviewers: string[];
  approvers: string[];
  effective_at: string | null;
  obsolete_at: string | null;
  obsolescence_reason: string | null;
  supersedes_id: string | null;
  workflow_id: string;
  open_tasks: { task_id: string; kind: string; assignee: string; due_at: string; round: number }[];
  created_at: string;
  updated_at: string;
}

export async function getDocument(db: Database, id: string): Promise<DocumentView> {
  const [row] = await db
    .select({ document: documents, author: users.username })
    .from(documents)
    .innerJoin(users, eq(users.id, documents.authorId))
    .where(eq(documents.id, id));
  if (!row) throw notFound(`Document '${id}' not found`);
  const assignees = await db
    .select({ kind: documentAssignees.kind, username: users.username })
    .from(documentAssignees)
    .innerJoin(users, eq(users.id, documentAssignees.userId))
    .where(eq(documentAssignees.documentId, id))
    .orderBy(asc(users.username));
  const tasks = await db
    .select({ task: reviewTasks, assignee: users.username })
    .from(reviewTasks)
    .innerJoin(users, eq(users.id, reviewTasks.assigneeId))
    .where(and(eq(reviewTasks.documentId, id), eq(reviewTasks.status, 'pending')))
    .orderBy(asc(reviewTasks.dueAt));
  const { document } = row;
  return {
    id: document.id,
    document_number: document.documentNumber,
    version: document.version,
    title: document.title,
    description: document.description,
    status: document.status,
    author: row.author,
    reviewers: assignees.filter((a) => a.kind === 'review').map((a) => a.username),
    approvers: assignees.filter((a) => a.kind === 'approval').map((a) => a.username),
    effective_at: isoOrNull(document.effectiveAt),
    obsolete_at: isoOrNull(document.obsoleteAt),
    obsolescence_reason: document.obsolescenceReason,
    supersedes_id: document.supersedesId,
    workflow_id: document.workflowId,
    open_tasks: tasks.map(({ task, assignee }) => ({
      task_id: task.id,
      kind: task.kind,
      assignee,
      due_at: task.dueAt.toISOString(),
      round: task.round,
    })),
    created_at: document.createdAt.toISOString(),
    updated_at: document.updatedAt.toISOString(),
  };
}

export interface DocumentFilter {
  status?: DocumentStatus;
  q?: string;
  page: number;
  pageSize: number;
}

export async function listDocuments(db: Database, filter: DocumentFilter) {
  const conditions: SQL[] = [];
  if (filter.status) conditions.push(eq(documents.status, filter.status));
  if (filter.q) {
    const pattern = containsPattern(filter.q);
    conditions.push(or(ilike(documents.title, pattern), ilike(documents.documentNumber, pattern))!);
  }
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const [total] = await db.select({ n: count() }).from(documents).where(where);
  const rows = await db
    .select({ id: documents.id })
    .from(documents)
    .where(where)
    .orderBy(desc(documents.createdAt), desc(documents.id))
    .limit(filter.pageSize)
    .offset((filter.page - 1) * filter.pageSize);
  return {
    items: await Promise.all(rows.map((row) => getDocument(db, row.id))),
    page: filter.page,
    page_size: filter.pageSize,
    total: total?.n ?? 0,
  };
}

/** Transitions and audit entries of a document, oldest first. */
export async function documentHistory(db: Database, id: string) {
  await getDocument(db, id);
  const transitions = await db
    .select()
    .from(documentTransitions)
    .where(eq(documentTransitions.documentId, id))
    .orderBy(asc(documentTransitions.occurredAt), asc(documentTransitions.id));
  const audit = await db
    .select()
    .from(auditTrail)
    .where(and(eq(auditTrail.entityType, 'document'), eq(auditTrail.entityId, id)))
    .orderBy(asc(auditTrail.occurredAt), asc(auditTrail.id));
  return {
    transitions: transitions.map((t) => ({
      from: t.fromStatus,
      to: t.toStatus,
      actor: t.actor,
      comment: t.comment,
      at: t.occurredAt.toISOString(),
    })),
    audit: audit.map((a) => ({ action: a.action, actor: a.actor, details: a.details, at: a.occurredAt.toISOString() })),
  };
}
