import { and, asc, count, desc, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import { documentWorkflowId, type DocumentStatus } from '../../common';
import { recordAudit, schema, type Database, containsPattern } from '../../db';
import { badRequest, notFound } from '../errors';
import type { Actor } from './users';
import { isoOrNull } from '../../lib/dates';

const { documents, documentAssignees, documentTransitions, users, auditTrail, reviewTasks } = schema;

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface NewDocument {
  title: string;
  document_number?: string;
  description?: string;
  reviewers: string[];
  approvers: string[];
}

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

async function userIdsByName(executor: Transaction, usernames: string[], field: string): Promise<Map<string, string>> {
  const unique = [...new Set(usernames)];
  if (unique.length === 0) return new Map();
  const rows = await executor
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(and(inArray(users.username, unique), eq(users.active, true)));
  const found = new Map(rows.map((row) => [row.username, row.id]));
  const missing = unique.filter((name) => !found.has(name));
  if (missing.length > 0) {
    throw badRequest('unknown_user', `${field}: no active user named ${missing.join(', ')}`, {
      field,
      usernames: missing,
    });
  }
  return found;
}

/**
 * Inserts a DRAFT document (or a new version of one) with its reviewers and approvers, its first
 * transition and its audit entry, inside the caller's transaction.
 */
export async function insertDocument(
  tx: Transaction,
  input: NewDocument & { supersedes?: { id: string; documentNumber: string; version: number } },
  author: { id: string; username: string },
  actor: Actor,
): Promise<string> {
  const reviewers = await userIdsByName(tx, input.reviewers, 'reviewers');
  const approvers = await userIdsByName(tx, input.approvers, 'approvers');
  const documentNumber =
    input.supersedes?.documentNumber ??
    input.document_number ??
    (await tx.execute<{ n: string }>(sql`select nextval('document_number_seq')::text as n`)).map(
      (row) => `DOC-${row.n.padStart(6, '0')}`,
    )[0]!;
  const id = crypto.randomUUID();
  await tx.insert(documents).values({
    id,
    documentNumber,
    version: input.supersedes ? input.supersedes.version + 1 : 1,
    title: input.title,
    description: input.description ?? null,
    authorId: author.id,
    supersedesId: input.supersedes?.id ?? null,
    workflowId: documentWorkflowId(id),
  });
  const assignees = [
    ...[...reviewers.values()].map((userId) => ({ documentId: id, userId, kind: 'review' as const })),
    ...[...approvers.values()].map((userId) => ({ documentId: id, userId, kind: 'approval' as const })),
  ];
  if (assignees.length > 0) await tx.insert(documentAssignees).values(assignees);
  await tx.insert(documentTransitions).values({
    documentId: id,
    fromStatus: null,
    toStatus: 'DRAFT',
    actor: actor.username,
    comment: input.supersedes ? `new version of ${input.supersedes.id}` : null,
    idempotencyKey: `create:${id}`,
  });
  await recordAudit(tx, {
    action: input.supersedes ? 'DOCUMENT_VERSION_CREATED' : 'DOCUMENT_CREATED',
    actor: actor.username,
    entityType: 'document',
    entityId: id,
    requestId: actor.requestId,
    details: {
      document_number: documentNumber,
      title: input.title,
      reviewers: input.reviewers,
      approvers: input.approvers,
      supersedes_id: input.supersedes?.id ?? null,
    },
  });
  return id;
}

/** The facts a document workflow starts from. */
export { documentFacts } from '../../db';

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
