import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { createDocumentActivities, type DocumentChangeStep, type TransitionRequest } from '../activities/documents';
import { DocumentStateConflict } from '../activities/errors';
import { dispatchThroughTemporal } from '../activities/notification-dispatch';
import { notificationDeliveryWorkflowId } from '../common';
import { schema } from '../db';
import { documentRow, notificationsOf, seedDocument, seedUser, transitionsOf } from './helpers/documents';
import { useTimeSkipping } from './helpers/suite';
import { uniqueTaskQueue } from './helpers/temporal';

// No worker polls this queue: the delivery workflows the activities start stay queued for inspection.
const suite = useTimeSkipping({ keepOpenWorkflows: true });
const taskQueue = uniqueTaskQueue('activities');
let activities: ReturnType<typeof createDocumentActivities>;

beforeAll(() => {
  activities = createDocumentActivities({
    database: suite.database,
    dispatchNotifications: dispatchThroughTemporal(suite.env.client),
  });
});

// Expected failures are asserted, not logged.
const QUIET = { logger: new DefaultLogger('ERROR') };

/** The same activity execution, as Temporal would retry it: same run id, same activity id. */
function execution() {
  return new MockActivityEnvironment(
    {
      activityId: '7',
      taskQueue,
      workflowExecution: { workflowId: `document-${randomUUID()}`, runId: randomUUID() },
    },
    QUIET,
  );
}

/** Runs an activity in `attempt`, keeping its types (MockActivityEnvironment.run widens them). */
function run<A extends unknown[], R>(
  attempt: MockActivityEnvironment,
  activity: (...args: A) => Promise<R>,
  ...args: A
) {
  return attempt.run(activity, ...args) as Promise<R>;
}

/** The run ids of the delivery workflows of these emails (one each, or the test fails). */
async function deliveryRuns(notificationKeys: string[]): Promise<string[]> {
  return Promise.all(
    notificationKeys.map(async (key) => {
      const description = await suite.env.client.workflow.getHandle(notificationDeliveryWorkflowId(key)).describe();
      expect(description.type).toBe('notificationDelivery');
      expect(description.taskQueue).toBe(taskQueue);
      return description.runId;
    }),
  );
}

const auditFor = (documentId: string) =>
  suite.database.db
    .select()
    .from(schema.auditTrail)
    .where(eq(schema.auditTrail.entityId, documentId))
    .orderBy(schema.auditTrail.occurredAt, schema.auditTrail.id);

test('a retried transition activity writes its transition, audit entry and email once', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await suite.database.db
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
  const attempt = execution();
  const first = await run(attempt, activities.transitionDocument, request);
  const deliveries = await deliveryRuns(first.notificationKeys);
  // The first attempt committed but its completion was lost; Temporal runs it again.
  const retry = await run(attempt, activities.transitionDocument, request);
  expect(first).toEqual({ status: 'EFFECTIVE', notificationKeys: [expect.stringMatching(/:notify$/)] });
  expect(retry).toEqual(first);
  // The retry found the delivery already started and started no second one.
  expect(await deliveryRuns(retry.notificationKeys)).toEqual(deliveries);

  const transitions = (await transitionsOf(suite.database, document.id)).filter((t) => t.toStatus === 'EFFECTIVE');
  expect(transitions).toHaveLength(1);
  expect((await auditFor(document.id)).filter((a) => a.action === 'DOC_EFFECTIVE_PROCESSED')).toHaveLength(1);
  expect(
    (await notificationsOf(suite.database, document.id)).filter((n) => n.kind === 'document_effective'),
  ).toHaveLength(1);
});

test('a transition from an unexpected state fails without retry and changes nothing', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  const before = {
    row: await documentRow(suite.database, document.id),
    transitions: await transitionsOf(suite.database, document.id),
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
  expect(await documentRow(suite.database, document.id)).toEqual(before.row);
  expect(await transitionsOf(suite.database, document.id)).toEqual(before.transitions);
  expect(await auditFor(document.id)).toEqual(before.audit);
  expect(await notificationsOf(suite.database, document.id)).toHaveLength(0);
});

test('opening a review round twice (a retry) creates each task and assignment email once', async () => {
  const document = await seedDocument(suite.database, { reviewers: 2, approvers: 1 });
  const request = {
    documentId: document.id,
    round: 1,
    kind: 'review' as const,
    dueAt: new Date(Date.now() + 86_400_000).toISOString(),
  };
  const first = await run(execution(), activities.openReviewRound, request);
  const again = await run(execution(), activities.openReviewRound, request);
  expect(again).toEqual(first);
  const assignments = (await notificationsOf(suite.database, document.id)).map((n) => n.idempotencyKey);
  expect(await deliveryRuns(assignments)).toHaveLength(2);
  const tasks = await suite.database.db
    .select()
    .from(schema.reviewTasks)
    .where(eq(schema.reviewTasks.documentId, document.id));
  expect(tasks).toHaveLength(2);
  expect((await notificationsOf(suite.database, document.id)).filter((n) => n.kind === 'review_assigned')).toHaveLength(
    2,
  );
});

/** A submission's database steps, as the document workflow holds them for one transaction. */
const submission = (author: string): DocumentChangeStep[] => [
  { step: 'transition', from: ['DRAFT'], to: 'PENDING_REVIEW', actor: author, auditAction: 'DOCUMENT_SUBMITTED' },
  { step: 'openRound', round: 1, kind: 'review', dueAt: new Date(Date.now() + 86_400_000).toISOString() },
  {
    step: 'transition',
    from: ['PENDING_REVIEW'],
    to: 'UNDER_REVIEW',
    actor: 'system_scheduler',
    auditAction: 'DOCUMENT_REVIEW_STARTED',
  },
];

test("a change's steps are written in order in one transaction, and its retry writes nothing again", async () => {
  const document = await seedDocument(suite.database, { reviewers: 2, approvers: 1 });
  const steps = submission(document.author.username);
  const attempt = execution();
  const first = await run(attempt, activities.recordChanges, { documentId: document.id, steps });
  expect(first.results).toEqual([
    { status: 'PENDING_REVIEW' },
    { tasks: expect.arrayContaining(document.reviewers.map((r) => expect.objectContaining({ assignee: r.username }))) },
    { status: 'UNDER_REVIEW' },
  ]);
  // The assignment emails are written, for the workflow to deliver: none is started here.
  expect(first.notificationKeys).toHaveLength(2);
  expect(
    await Promise.all(
      first.notificationKeys.map((key) =>
        suite.env.client.workflow
          .getHandle(notificationDeliveryWorkflowId(key))
          .describe()
          .then(
            () => 'started',
            () => 'none',
          ),
      ),
    ),
  ).toEqual(['none', 'none']);

  // The first attempt committed but its completion was lost; Temporal runs it again.
  const retry = await run(attempt, activities.recordChanges, { documentId: document.id, steps });
  expect(retry).toEqual(first);
  expect((await transitionsOf(suite.database, document.id)).map((t) => `${t.fromStatus}>${t.toStatus}`)).toEqual([
    'null>DRAFT',
    'DRAFT>PENDING_REVIEW',
    'PENDING_REVIEW>UNDER_REVIEW',
  ]);
  expect((await auditFor(document.id)).map((a) => a.action).sort()).toEqual(
    ['DOCUMENT_CREATED', 'DOCUMENT_REVIEW_STARTED', 'DOCUMENT_SUBMITTED'].sort(),
  );
  expect((await notificationsOf(suite.database, document.id)).filter((n) => n.kind === 'review_assigned')).toHaveLength(
    2,
  );
});

test('a step the database refuses undoes every step of its change, the ones before it included', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await run(execution(), activities.recordChanges, {
    documentId: document.id,
    steps: submission(document.author.username),
  });
  const [task] = await suite.database.db
    .select()
    .from(schema.reviewTasks)
    .where(eq(schema.reviewTasks.documentId, document.id));
  const before = {
    row: await documentRow(suite.database, document.id),
    transitions: await transitionsOf(suite.database, document.id),
    audit: await auditFor(document.id),
    tasks: await suite.database.db
      .select()
      .from(schema.reviewTasks)
      .where(eq(schema.reviewTasks.documentId, document.id)),
    notifications: await notificationsOf(suite.database, document.id),
  };
  // The review's decision, then a transition from a status the document is not in.
  const steps: DocumentChangeStep[] = [
    { step: 'closeTask', taskId: task!.id, status: 'approved', actor: document.reviewers[0]!.username },
    {
      step: 'transition',
      from: ['PENDING_APPROVAL'],
      to: 'APPROVED_PENDING_EFFECTIVE',
      actor: document.reviewers[0]!.username,
      auditAction: 'DOCUMENT_APPROVED',
      changes: { effectiveAt: new Date(Date.now() + 86_400_000).toISOString() },
      notifyAuthor: 'document_approved',
    },
  ];
  const attempt = run(execution(), activities.recordChanges, { documentId: document.id, steps });
  await expect(attempt).rejects.toThrow(DocumentStateConflict);
  await expect(attempt).rejects.toThrow(`document ${document.id} is UNDER_REVIEW, expected PENDING_APPROVAL`);
  expect(await documentRow(suite.database, document.id)).toEqual(before.row);
  expect(await transitionsOf(suite.database, document.id)).toEqual(before.transitions);
  expect(await auditFor(document.id)).toEqual(before.audit);
  expect(
    await suite.database.db.select().from(schema.reviewTasks).where(eq(schema.reviewTasks.documentId, document.id)),
  ).toEqual(before.tasks);
  expect(before.tasks.map((t) => t.status)).toEqual(['pending']);
  expect(await notificationsOf(suite.database, document.id)).toEqual(before.notifications);
});

test('a retried overdue notice writes its emails and counts its reminder once', async () => {
  const manager = await seedUser(suite.database, 'admin');
  const document = await seedDocument(suite.database, {
    reviewers: 1,
    approvers: 1,
    reviewerManager: manager.username,
  });
  const [task] = await run(execution(), activities.openReviewRound, {
    documentId: document.id,
    round: 1,
    kind: 'review',
    dueAt: new Date(Date.now() - 86_400_000).toISOString(),
  });
  const request = { taskId: task!.taskId, at: new Date().toISOString() };
  const reminder = execution();
  const first = await run(reminder, activities.notifyOverdueTask, { ...request, kind: 'review_reminder' });
  const retry = await run(reminder, activities.notifyOverdueTask, { ...request, kind: 'review_reminder' });
  expect(retry).toEqual(first);
  const escalation = await run(execution(), activities.notifyOverdueTask, { ...request, kind: 'review_escalated' });

  const emails = await notificationsOf(suite.database, document.id);
  expect(emails.filter((e) => e.kind === 'review_reminder').map((e) => e.recipient)).toEqual([
    document.reviewers[0]!.email,
  ]);
  expect(emails.filter((e) => e.kind === 'review_escalated').map((e) => e.recipient)).toEqual([manager.email]);
  await deliveryRuns([...first.notificationKeys, ...escalation.notificationKeys]);
  const [row] = await suite.database.db
    .select()
    .from(schema.reviewTasks)
    .where(eq(schema.reviewTasks.id, task!.taskId));
  expect(row).toMatchObject({ remindersSent: 1, escalatedAt: new Date(request.at) });
});

test('an overdue notice for a task already closed sends nothing and says so, so that its watcher stops', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  const [task] = await run(execution(), activities.openReviewRound, {
    documentId: document.id,
    round: 1,
    kind: 'review',
    dueAt: new Date().toISOString(),
  });
  await run(execution(), activities.closeTask, { taskId: task!.taskId, status: 'approved', actor: 'someone' });
  const result = await run(execution(), activities.notifyOverdueTask, {
    taskId: task!.taskId,
    kind: 'review_reminder',
    at: new Date().toISOString(),
  });
  expect(result).toEqual({ notificationKeys: [], closed: true });
  expect((await notificationsOf(suite.database, document.id)).map((e) => e.kind)).toEqual(['review_assigned']);
});
