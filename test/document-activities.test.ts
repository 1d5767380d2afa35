import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { createDocumentActivities, type TransitionRequest } from '../activities/documents';
import { DocumentStateConflict } from '../activities/errors';
import { connectDatabase, schema, type DatabaseHandle } from '../db';
import { documentRow, notificationsOf, seedDocument, transitionsOf } from './helpers/documents';
import { testDatabaseUrl } from './helpers/resources';

let database: DatabaseHandle;
let activities: ReturnType<typeof createDocumentActivities>;

beforeAll(() => {
  database = connectDatabase(testDatabaseUrl());
  activities = createDocumentActivities({ database });
});
afterAll(() => database.close());

/** The same activity execution, as Temporal would retry it: same run id, same activity id. */
function execution() {
  return new MockActivityEnvironment({
    activityId: '7',
    workflowExecution: { workflowId: `document-${randomUUID()}`, runId: randomUUID() },
  });
}

const auditFor = (documentId: string) =>
  database.db.select().from(schema.auditTrail).where(eq(schema.auditTrail.entityId, documentId));

test('a retried transition activity writes its transition, audit entry and email once', async () => {
  const document = await seedDocument(database, { reviewers: 1, approvers: 1 });
  await database.db
    .update(schema.documents)
    .set({ status: 'APPROVED_PENDING_EFFECTIVE' })
    .where(eq(schema.documents.id, document.id));
  const request: TransitionRequest = {
    documentId: document.id,
    from: ['APPROVED_PENDING_EFFECTIVE'],
    to: 'EFFECTIVE',
    actor: 'system_scheduler',
    auditAction: 'DOC_EFFECTIVE_PROCESSED',
    notifyAuthor: 'document_effective',
  };
  const env = execution();
  const first = await env.run(activities.transitionDocument, request);
  // The first attempt committed but its completion was lost; Temporal runs it again.
  const retry = await env.run(activities.transitionDocument, request);
  expect(first).toEqual({ status: 'EFFECTIVE' });
  expect(retry).toEqual({ status: 'EFFECTIVE' });

  const transitions = (await transitionsOf(database, document.id)).filter((t) => t.toStatus === 'EFFECTIVE');
  expect(transitions).toHaveLength(1);
  expect((await auditFor(document.id)).filter((a) => a.action === 'DOC_EFFECTIVE_PROCESSED')).toHaveLength(1);
  expect((await notificationsOf(database, document.id)).filter((n) => n.kind === 'document_effective')).toHaveLength(1);
});

test('a transition from an unexpected state fails without retry and changes nothing', async () => {
  const document = await seedDocument(database, { reviewers: 1, approvers: 1 });
  const before = {
    row: await documentRow(database, document.id),
    transitions: await transitionsOf(database, document.id),
    audit: await auditFor(document.id),
  };
  const request: TransitionRequest = {
    documentId: document.id,
    from: ['SCHEDULED_FOR_OBSOLESCENCE'],
    to: 'OBSOLETE',
    actor: 'system_scheduler',
    auditAction: 'DOC_OBSOLETE_PROCESSED',
    changes: { obsoleteAt: new Date().toISOString() },
    notifyAuthor: 'document_obsolete',
  };
  const attempt = execution().run(activities.transitionDocument, request);
  await expect(attempt).rejects.toThrow(DocumentStateConflict);
  await expect(attempt).rejects.toThrow(`document ${document.id} is DRAFT, expected SCHEDULED_FOR_OBSOLESCENCE`);
  expect(await documentRow(database, document.id)).toEqual(before.row);
  expect(await transitionsOf(database, document.id)).toEqual(before.transitions);
  expect(await auditFor(document.id)).toEqual(before.audit);
  expect(await notificationsOf(database, document.id)).toHaveLength(0);
});

test('opening a review round twice (a retry) creates each task and assignment email once', async () => {
  const document = await seedDocument(database, { reviewers: 2, approvers: 1 });
  const request = {
    documentId: document.id,
    round: 1,
    kind: 'review' as const,
    dueAt: new Date(Date.now() + 86_400_000).toISOString(),
  };
  const first = await execution().run(activities.openReviewRound, request);
  const again = await execution().run(activities.openReviewRound, request);
  expect(again).toEqual(first);
  const tasks = await database.db
    .select()
    .from(schema.reviewTasks)
    .where(eq(schema.reviewTasks.documentId, document.id));
  expect(tasks).toHaveLength(2);
  expect((await notificationsOf(database, document.id)).filter((n) => n.kind === 'review_assigned')).toHaveLength(2);
});
