import { and, asc, count, desc, eq, ilike, or, sql, type Placeholder, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
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

/** An open task as the view query returns it: `due_at` in PostgreSQL's JSON form of an instant. */
interface OpenTaskRow {
  task_id: string;
  kind: string;
  assignee: string;
  due_at: string;
  round: number;
}

const authors = alias(users, 'author');

/**
 * The documents `page` selects (a subquery over `documents`), each as one row carrying its people
 * and open tasks, newest first. A page is one query whatever its size: the assignees and tasks are
 * aggregated per row by the database instead of fetched row by row. Tasks due at the same instant
 * (every task of a round) are ordered by assignee, so the order is stable from one call to the next.
 */
function selectViews(db: Database, page: ReturnType<typeof pageOf>) {
  const usernames = (kind: 'review' | 'approval') => sql<string[]>`coalesce((
      select json_agg(${users.username} order by ${users.username})
      from ${documentAssignees} join ${users} on ${users.id} = ${documentAssignees.userId}
      where ${documentAssignees.documentId} = ${page.id} and ${documentAssignees.kind} = ${kind}
    ), '[]'::json)`;
  const openTasks = sql<OpenTaskRow[]>`coalesce((
      select json_agg(json_build_object(
          'task_id', ${reviewTasks.id}, 'kind', ${reviewTasks.kind}, 'assignee', ${users.username},
          'due_at', ${reviewTasks.dueAt}, 'round', ${reviewTasks.round})
        order by ${reviewTasks.dueAt}, ${users.username}, ${reviewTasks.id})
      from ${reviewTasks} join ${users} on ${users.id} = ${reviewTasks.assigneeId}
      where ${reviewTasks.documentId} = ${page.id} and ${reviewTasks.status} = 'pending'
    ), '[]'::json)`;
  return db
    .select({
      id: page.id,
      documentNumber: page.documentNumber,
      version: page.version,
      title: page.title,
      description: page.description,
      status: page.status,
      author: authors.username,
      reviewers: usernames('review'),
      approvers: usernames('approval'),
      effectiveAt: page.effectiveAt,
      obsoleteAt: page.obsoleteAt,
      obsolescenceReason: page.obsolescenceReason,
      supersedesId: page.supersedesId,
      workflowId: page.workflowId,
      openTasks,
      createdAt: page.createdAt,
      updatedAt: page.updatedAt,
    })
    .from(page)
    .innerJoin(authors, eq(authors.id, page.authorId))
    .orderBy(desc(page.createdAt), desc(page.id));
}

/** The rows of `documents` a view shows, as the subquery `selectViews` decorates. */
function pageOf(db: Database, where: SQL | undefined, window?: { limit: Placeholder; offset: Placeholder }) {
  const rows = db.select().from(documents).where(where);
  if (!window) return rows.as('d');
  return rows.orderBy(desc(documents.createdAt), desc(documents.id)).limit(window.limit).offset(window.offset).as('d');
}

type ViewRow = Awaited<ReturnType<ReturnType<typeof selectViews>['execute']>>[number];

function toView(row: ViewRow): DocumentView {
  return {
    id: row.id,
    document_number: row.documentNumber,
    version: row.version,
    title: row.title,
    description: row.description,
    status: row.status,
    author: row.author,
    reviewers: row.reviewers,
    approvers: row.approvers,
    effective_at: isoOrNull(row.effectiveAt),
    obsolete_at: isoOrNull(row.obsoleteAt),
    obsolescence_reason: row.obsolescenceReason,
    supersedes_id: row.supersedesId,
    workflow_id: row.workflowId,
    open_tasks: row.openTasks.map((task) => ({ ...task, due_at: new Date(task.due_at).toISOString() })),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** Which of the list's optional filters a request uses: each combination is its own prepared statement. */
type FilterShape = `${boolean}:${boolean}`;

function listStatements(db: Database, shape: FilterShape) {
  const [byStatus, byText] = shape.split(':').map((flag) => flag === 'true');
  const conditions: SQL[] = [];
  if (byStatus) conditions.push(eq(documents.status, sql.placeholder('status')));
  if (byText) {
    const pattern = sql.placeholder('pattern');
    conditions.push(or(ilike(documents.title, pattern), ilike(documents.documentNumber, pattern))!);
  }
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const window = { limit: sql.placeholder('limit'), offset: sql.placeholder('offset') };
  return {
    page: selectViews(db, pageOf(db, where, window)).prepare(`documents_page_${shape}`),
    total: db.select({ n: count() }).from(documents).where(where).prepare(`documents_total_${shape}`),
  };
}

/**
 * The read queries of one database handle, built once: a request then only binds its values (no
 * query building per request), and PostgreSQL parses and plans each statement once per connection.
 */
function statementsFor(db: Database) {
  return {
    one: selectViews(db, pageOf(db, eq(documents.id, sql.placeholder('id')))).prepare('document_view'),
    exists: db
      .select({ id: documents.id })
      .from(documents)
      .where(eq(documents.id, sql.placeholder('id')))
      .prepare('document_exists'),
    lists: new Map<FilterShape, ReturnType<typeof listStatements>>(),
  };
}

const statementsByDatabase = new WeakMap<Database, ReturnType<typeof statementsFor>>();

function statements(db: Database) {
  let prepared = statementsByDatabase.get(db);
  if (!prepared) {
    prepared = statementsFor(db);
    statementsByDatabase.set(db, prepared);
  }
  return prepared;
}

/**
 * One document with its people and open tasks (one query).
 * @throws ApiError 404 for an unknown id
 */
export async function getDocument(db: Database, id: string): Promise<DocumentView> {
  const [row] = await statements(db).one.execute({ id });
  if (!row) throw notFound(`Document '${id}' not found`);
  return toView(row);
}

export interface DocumentFilter {
  status?: DocumentStatus;
  q?: string;
  /** 1-based. */
  page: number;
  pageSize: number;
}

/**
 * One page of documents, newest first, with the number matching the filter: two queries, run
 * side by side, whatever the page size.
 */
export async function listDocuments(db: Database, filter: DocumentFilter) {
  const shape: FilterShape = `${filter.status !== undefined}:${filter.q !== undefined}`;
  const { lists } = statements(db);
  let list = lists.get(shape);
  if (!list) {
    list = listStatements(db, shape);
    lists.set(shape, list);
  }
  const values = {
    status: filter.status,
    pattern: filter.q === undefined ? undefined : containsPattern(filter.q),
    limit: filter.pageSize,
    offset: (filter.page - 1) * filter.pageSize,
  };
  const [[total], rows] = await Promise.all([list.total.execute(values), list.page.execute(values)]);
  return {
    items: rows.map(toView),
    page: filter.page,
    page_size: filter.pageSize,
    total: total?.n ?? 0,
  };
}

/** Transitions and audit entries of a document, oldest first. */
export async function documentHistory(db: Database, id: string) {
  const [[found], transitions, audit] = await Promise.all([
    statements(db).exists.execute({ id }),
    db
      .select()
      .from(documentTransitions)
      .where(eq(documentTransitions.documentId, id))
      .orderBy(asc(documentTransitions.occurredAt), asc(documentTransitions.id)),
    db
      .select()
      .from(auditTrail)
      .where(and(eq(auditTrail.entityType, 'document'), eq(auditTrail.entityId, id)))
      .orderBy(asc(auditTrail.occurredAt), asc(auditTrail.id)),
  ]);
  if (!found) throw notFound(`Document '${id}' not found`);
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
