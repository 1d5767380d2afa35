import { eq } from 'drizzle-orm';
import { TASK_QUEUES } from '../common';
import { schema } from '../db';
import { uniqueName } from './helpers/api';
import { withWorkerUntilDelivered } from './helpers/temporal';
import { useTimeSkippingApi } from './helpers/suite';

const suite = useTimeSkippingApi();

const inWorker = <T>(body: () => Promise<T>) =>
  withWorkerUntilDelivered(suite.env, { taskQueue: TASK_QUEUES.documents, database: suite.api.database }, body);

interface Actor {
  authorization: string;
  username: string;
}

async function people() {
  return {
    author: await suite.api.as('author'),
    reviewer: await suite.api.as('reviewer'),
    approver: await suite.api.as('approver'),
    admin: await suite.api.as('admin'),
  };
}

const post = (url: string, who: Actor, payload?: object) =>
  suite.api.app.inject({ method: 'POST', url, headers: { authorization: who.authorization }, payload: payload ?? {} });

async function createDocument(author: Actor, reviewers: string[], approvers: string[], extra: object = {}) {
  const response = await post('/api/v1/documents', author, {
    title: uniqueName('Cleaning SOP'),
    reviewers,
    approvers,
    ...extra,
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

test('an author creates a DRAFT document whose workflow starts at once', async () => {
  const { author, reviewer, approver } = await people();
  await inWorker(async () => {
    const document = await createDocument(author, [reviewer.username], [approver.username], {
      description: 'Line 3 cleaning',
    });
    expect(document).toMatchObject({
      status: 'DRAFT',
      version: 1,
      author: author.username,
      reviewers: [reviewer.username],
      approvers: [approver.username],
      workflow_id: `document-${document.id}`,
      effective_at: null,
      supersedes_id: null,
    });
    expect(document.document_number).toMatch(/^DOC-\d{6}$/);
    const description = await suite.env.client.workflow.getHandle(document.workflow_id).describe();
    expect(description.status.name).toBe('RUNNING');
    const fetched = await suite.api.app.inject({
      url: `/api/v1/documents/${document.id}`,
      headers: { authorization: reviewer.authorization },
    });
    expect(fetched.json()).toMatchObject({ id: document.id, status: 'DRAFT' });
  });
});

test('bad input is refused with a 400 naming the problem, and nothing is created', async () => {
  const { author, reviewer } = await people();
  const title = uniqueName('never');
  const unknown = await post('/api/v1/documents', author, {
    title,
    reviewers: [reviewer.username],
    approvers: ['nobody-at-all'],
  });
  expect(unknown.statusCode).toBe(400);
  expect(unknown.json().error).toMatchObject({
    code: 'unknown_user',
    details: { field: 'approvers', usernames: ['nobody-at-all'] },
  });
  const empty = await post('/api/v1/documents', author, { title, reviewers: [], approvers: [] });
  expect(empty.statusCode).toBe(400);
  const rows = await suite.api.database.db.select().from(schema.documents).where(eq(schema.documents.title, title));
  expect(rows).toHaveLength(0);
  const viewer = await suite.api.as('viewer');
  expect(
    (await post('/api/v1/documents', viewer, { title, reviewers: [reviewer.username], approvers: [reviewer.username] }))
      .statusCode,
  ).toBe(403);
});

test('the lifecycle through HTTP: submit, review, approve with a calendar date, 409 for a wrong transition, history', async () => {
  const { author, reviewer, approver } = await people();
  await inWorker(async () => {
    const document = await createDocument(author, [reviewer.username], [approver.username]);
    const url = `/api/v1/documents/${document.id}`;

    const outsider = await suite.api.as('reviewer');
    expect((await post(`${url}/submit`, outsider)).statusCode).toBe(403);
    const submitted = await post(`${url}/submit`, author);
    expect(submitted.statusCode).toBe(200);
    expect(submitted.json()).toMatchObject({
      status: 'UNDER_REVIEW',
      open_tasks: [{ kind: 'review', assignee: reviewer.username }],
    });

    const again = await post(`${url}/submit`, author);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({
      code: 'invalid_transition',
      details: { current_status: 'UNDER_REVIEW' },
    });

    const notAssigned = await post(`${url}/review`, outsider, { decision: 'approve' });
    expect(notAssigned.statusCode).toBe(403);
    const reviewed = await post(`${url}/review`, reviewer, { decision: 'approve', comment: 'ok' });
    expect(reviewed.json()).toMatchObject({
      status: 'PENDING_APPROVAL',
      open_tasks: [{ kind: 'approval', assignee: approver.username }],
    });

    const bothDates = await post(`${url}/approve`, approver, {
      effective_date: '2031-01-01',
      effective_at: '2031-01-01T00:00:00Z',
    });
    expect(bothDates.statusCode).toBe(400);
    expect(bothDates.json().error.code).toBe('invalid_dates');
    const badDate = await post(`${url}/approve`, approver, { effective_date: '2031-02-30' });
    expect(badDate.statusCode).toBe(400);
    const approved = await post(`${url}/approve`, approver, { effective_date: '2031-01-01', comment: 'approved' });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({
      status: 'APPROVED_PENDING_EFFECTIVE',
      effective_at: '2031-01-01T00:00:00.000Z',
      open_tasks: [],
    });

    const moved = await post(`${url}/effective-date`, author, { effective_at: '2031-02-01T09:30:00+01:00' });
    expect(moved.json()).toMatchObject({ effective_at: '2031-02-01T08:30:00.000Z' });

    const early = await post(`${url}/obsolete`, author, { obsolescence_date: '2032-01-01', reason: 'x' });
    expect(early.statusCode).toBe(409);

    const history = await suite.api.app.inject({
      url: `${url}/history`,
      headers: { authorization: author.authorization },
    });
    const { transitions, audit } = history.json();
    expect(transitions.map((t: { to: string }) => t.to)).toEqual([
      'DRAFT',
      'PENDING_REVIEW',
      'UNDER_REVIEW',
      'REVIEWED',
      'PENDING_APPROVAL',
      'APPROVED_PENDING_EFFECTIVE',
      'APPROVED_PENDING_EFFECTIVE',
    ]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(
      expect.arrayContaining([
        'DOCUMENT_CREATED',
        'DOCUMENT_SUBMITTED',
        'DOCUMENT_APPROVED',
        'DOCUMENT_EFFECTIVE_DATE_CHANGED',
      ]),
    );
    const changed = audit.find((a: { action: string }) => a.action === 'DOCUMENT_EFFECTIVE_DATE_CHANGED');
    expect(changed.details.changes.effective_at).toEqual({
      from: '2031-01-01T00:00:00.000Z',
      to: '2031-02-01T08:30:00.000Z',
    });
  });
});

test('an admin reassigns an open review task; the new assignee can then decide', async () => {
  const { author, reviewer, approver, admin } = await people();
  const substitute = await suite.api.as('reviewer');
  await inWorker(async () => {
    const document = await createDocument(author, [reviewer.username], [approver.username]);
    const url = `/api/v1/documents/${document.id}`;
    const submitted = (await post(`${url}/submit`, author)).json();
    const taskId = submitted.open_tasks[0].task_id;
    expect((await post(`${url}/reassign`, author, { task_id: taskId, username: substitute.username })).statusCode).toBe(
      403,
    );
    const reassigned = await post(`${url}/reassign`, admin, { task_id: taskId, username: substitute.username });
    expect(reassigned.statusCode).toBe(200);
    expect(reassigned.json().open_tasks).toEqual([
      expect.objectContaining({ task_id: taskId, assignee: substitute.username }),
    ]);
    expect((await post(`${url}/review`, reviewer, { decision: 'approve' })).statusCode).toBe(403);
    expect((await post(`${url}/review`, substitute, { decision: 'approve' })).json().status).toBe('PENDING_APPROVAL');
  });
});

test('unknown documents are 404; a malformed id is 400', async () => {
  const { author } = await people();
  const missing = await post('/api/v1/documents/9b2f6a9e-2f55-4a43-9c1e-0a7d0c6f0c11/submit', author);
  expect(missing.statusCode).toBe(404);
  const malformed = await post('/api/v1/documents/not-a-uuid/submit', author);
  expect(malformed.statusCode).toBe(400);
});

test('a new version of an EFFECTIVE document starts as DRAFT, numbered like it, one version up', async () => {
  const { author, reviewer, approver } = await people();
  await inWorker(async () => {
    const document = await createDocument(author, [reviewer.username], [approver.username]);
    const url = `/api/v1/documents/${document.id}`;
    expect((await post(`${url}/versions`, author, {})).statusCode).toBe(409);
    await post(`${url}/submit`, author);
    await post(`${url}/review`, reviewer, { decision: 'approve' });
    const approved = await post(`${url}/approve`, approver, {
      effective_at: new Date(Date.UTC(2000, 0, 1)).toISOString(),
    });
    expect(approved.statusCode).toBe(200);
    for (
      let i = 0;
      i < 50 &&
      (await suite.api.app.inject({ url, headers: { authorization: author.authorization } })).json().status !==
        'EFFECTIVE';
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const version = await post(`${url}/versions`, author, { title: 'Cleaning SOP, revised' });
    expect(version.statusCode).toBe(201);
    expect(version.json()).toMatchObject({
      status: 'DRAFT',
      version: 2,
      document_number: document.document_number,
      supersedes_id: document.id,
      title: 'Cleaning SOP, revised',
      reviewers: [reviewer.username],
    });
  });
});

test('an action refused by a workflow that is behind the database (its change committed, not yet heard) is a 503 to retry, not a 409 naming a stale status', async () => {
  const { author, reviewer, approver } = await people();
  await inWorker(async () => {
    const document = await createDocument(author, [reviewer.username], [approver.username]);
    const url = `/api/v1/documents/${document.id}`;
    await post(`${url}/submit`, author);
    await post(`${url}/review`, reviewer, { decision: 'approve' });
    const approved = await post(`${url}/approve`, approver, { effective_date: '2040-01-01' });
    expect(approved.json()).toMatchObject({ status: 'APPROVED_PENDING_EFFECTIVE' });
    // As after a worker killed between the EFFECTIVE transition's commit and Temporal hearing of it.
    await suite.api.database.db
      .update(schema.documents)
      .set({ status: 'EFFECTIVE' })
      .where(eq(schema.documents.id, document.id));
    const refused = await post(`${url}/obsolete`, author, { obsolescence_date: '2041-01-01', reason: 'replaced' });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toEqual({
      error: {
        code: 'document_catching_up',
        message: 'The document is EFFECTIVE but its workflow has not caught up with that change yet; retry shortly',
        details: { current_status: 'EFFECTIVE', workflow_status: 'APPROVED_PENDING_EFFECTIVE' },
      },
    });
    // A refusal the database agrees with stays a 409.
    await suite.api.database.db
      .update(schema.documents)
      .set({ status: 'APPROVED_PENDING_EFFECTIVE' })
      .where(eq(schema.documents.id, document.id));
    const conflict = await post(`${url}/obsolete`, author, { obsolescence_date: '2041-01-01', reason: 'replaced' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({
      code: 'invalid_transition',
      details: { current_status: 'APPROVED_PENDING_EFFECTIVE' },
    });
  });
});
