import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { schema } from '../db';
import { buildTestApi, type TestApi } from './helpers/api';
import { seedDocument, type SeededDocument } from './helpers/documents';

const { documents, documentAssignees, reviewTasks, users } = schema;

let api: TestApi;
let viewer: { authorization: string };

beforeAll(async () => {
  api = await buildTestApi();
  viewer = await api.as('viewer');
});
afterAll(() => api.close());

/**
 * The document as the API showed it before its reads were merged into one query: read table by
 * table, one query each. Tasks due at the same instant are ordered by assignee.
 */
async function referenceView(id: string) {
  const { db } = api.database;
  const [row] = await db
    .select({ document: documents, author: users.username })
    .from(documents)
    .innerJoin(users, eq(users.id, documents.authorId))
    .where(eq(documents.id, id));
  if (!row) throw new Error(`no document ${id}`);
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
    .orderBy(asc(reviewTasks.dueAt), asc(users.username), asc(reviewTasks.id));
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
    effective_at: document.effectiveAt?.toISOString() ?? null,
    obsolete_at: document.obsoleteAt?.toISOString() ?? null,
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

/** Opens a pending task for each given user, all due at `dueAt` (SQL text, microseconds kept). */
async function openTasks(documentId: string, kind: 'review' | 'approval', userIds: string[], dueAt: string) {
  for (const userId of userIds) {
    await api.database.db.execute(sql`
      insert into review_tasks (id, document_id, round, kind, assignee_id, due_at)
      values (${randomUUID()}, ${documentId}, 1, ${kind}, ${userId}, ${dueAt}::timestamptz)`);
  }
}

const get = async (url: string) => {
  const response = await api.app.inject({ url, headers: viewer });
  expect(response.statusCode).toBe(200);
  return response.json();
};

/** Documents seeded for this suite, all created at one instant so only their ids order them. */
let seeded: SeededDocument[];
const createdAt = '2031-05-06T07:08:09.123456Z';

beforeAll(async () => {
  seeded = [];
  for (let i = 0; i < 5; i++) seeded.push(await seedDocument(api.database, { reviewers: 3, approvers: 2 }));
  const ids = seeded.map((document) => document.id);
  await api.database.db
    .update(documents)
    .set({ createdAt: sql`${createdAt}::timestamptz`, effectiveAt: sql`'2031-06-01T00:00:00.987654Z'::timestamptz` })
    .where(inArray(documents.id, ids));
  // Every reviewer of the first document has a task due at the same microsecond, the second
  // document's approvers likewise: only the assignee orders them.
  await openTasks(
    seeded[0]!.id,
    'review',
    seeded[0]!.reviewers.map((user) => user.id),
    '2031-05-10T12:00:00.000999Z',
  );
  await openTasks(
    seeded[1]!.id,
    'approval',
    seeded[1]!.approvers.map((user) => user.id),
    '2031-05-11T12:00:00.5Z',
  );
});

test('one document answers the same body as reading its tables one by one, instants cut to milliseconds', async () => {
  for (const document of seeded) {
    expect(await get(`/api/v1/documents/${document.id}`)).toEqual(await referenceView(document.id));
  }
  const first = await get(`/api/v1/documents/${seeded[0]!.id}`);
  expect(first.created_at).toBe('2031-05-06T07:08:09.123Z');
  expect(first.effective_at).toBe('2031-06-01T00:00:00.987Z');
  expect(first.open_tasks.map((task: { due_at: string }) => task.due_at)).toEqual([
    '2031-05-10T12:00:00.000Z',
    '2031-05-10T12:00:00.000Z',
    '2031-05-10T12:00:00.000Z',
  ]);
  const assignees = first.open_tasks.map((task: { assignee: string }) => task.assignee);
  expect(assignees).toEqual([...assignees].sort());
  expect(first.reviewers).toEqual(seeded[0]!.reviewers.map((user) => user.username).sort());
});

test('a page lists each document exactly as its own view does, newest first and then by id, whatever the page size', async () => {
  const expected = await Promise.all(
    [...seeded].sort((a, b) => (a.id < b.id ? 1 : -1)).map((document) => referenceView(document.id)),
  );
  // The seeded documents are the newest (created in 2031), so they open the list.
  for (const pageSize of [1, 2, 5, 200]) {
    const pages = Math.ceil(expected.length / pageSize);
    const items = [];
    for (let page = 1; page <= pages; page++) {
      const body = await get(`/api/v1/documents?page=${page}&page_size=${pageSize}`);
      expect(body).toMatchObject({ page, page_size: pageSize });
      items.push(...body.items);
    }
    expect(items.slice(0, expected.length)).toEqual(expected);
  }
  const [count] = await api.database.db.select({ n: sql<number>`count(*)::int` }).from(documents);
  expect((await get('/api/v1/documents?page_size=1')).total).toBe(count?.n);
});

test('the filters narrow both the page and its total', async () => {
  const target = seeded[2]!;
  const [row] = await api.database.db.select().from(documents).where(eq(documents.id, target.id));
  const byNumber = await get(`/api/v1/documents?q=${encodeURIComponent(row!.documentNumber)}&status=DRAFT`);
  expect(byNumber).toEqual({ items: [await referenceView(target.id)], page: 1, page_size: 50, total: 1 });
  const byTitle = await get(`/api/v1/documents?q=${encodeURIComponent(row!.title)}`);
  expect(byTitle.total).toBe(1);
  expect(byTitle.items).toEqual([await referenceView(target.id)]);
  const nothing = await get(`/api/v1/documents?q=${encodeURIComponent(row!.title)}&status=EFFECTIVE`);
  expect(nothing).toEqual({ items: [], page: 1, page_size: 50, total: 0 });
  const pastTheEnd = await get(`/api/v1/documents?q=${encodeURIComponent(row!.title)}&page=2`);
  expect(pastTheEnd).toEqual({ items: [], page: 2, page_size: 50, total: 1 });
});

test('the history of an unknown document is a 404, of a known one its transitions', async () => {
  const missing = await api.app.inject({ url: `/api/v1/documents/${randomUUID()}/history`, headers: viewer });
  expect(missing.statusCode).toBe(404);
  expect(missing.json().error.code).toBe('not_found');
  const history = await get(`/api/v1/documents/${seeded[0]!.id}/history`);
  expect(history.transitions).toEqual([
    expect.objectContaining({ from: null, to: 'DRAFT', actor: seeded[0]!.author.username }),
  ]);
  expect(history.audit.map((entry: { action: string }) => entry.action)).toEqual(['DOCUMENT_CREATED']);
});
