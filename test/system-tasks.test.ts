import { WorkflowFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { and, eq, sql } from 'drizzle-orm';
import {
  documentWorkflowId,
  stateQuery,
  type DocumentStatus,
  type SystemTaskInput,
  type SystemTaskOutcome,
} from '../common';
import { documentFacts, schema } from '../db';
import { documentLifecycle, systemTask } from '../workflows';
import { documentRow, notificationsOf, seedDocument, seedUser } from './helpers/documents';
import { testMailSink } from './helpers/mail';
import {
  deliveriesSettled,
  systemTasksWithoutDatabase,
  TEST_BACKUP_DIR,
  type WorkerOptions,
  withWorkerUntilDelivered,
} from './helpers/temporal';
import { useTimeSkipping } from './helpers/suite';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

const suite = useTimeSkipping({ taskQueuePrefix: 'system' });
afterAll(() => rm(TEST_BACKUP_DIR, { recursive: true, force: true }));

const inWorker = <T>(body: () => Promise<T>, options: Partial<WorkerOptions> = {}) =>
  withWorkerUntilDelivered(
    suite.env,
    { taskQueue: suite.taskQueue, database: suite.database, queueKind: 'scheduler', ...options },
    body,
  );

function runTask(input: SystemTaskInput): Promise<SystemTaskOutcome> {
  return suite.env.client.workflow.execute(systemTask, {
    taskQueue: suite.taskQueue,
    workflowId: `test-${input.taskName}-${randomUUID()}`,
    args: [input],
  });
}

async function execution(executionId: string) {
  const [row] = await suite.database.db
    .select()
    .from(schema.taskExecutions)
    .where(eq(schema.taskExecutions.id, executionId));
  return row!;
}

async function auditOf(executionId: string) {
  return suite.database.db
    .select()
    .from(schema.auditTrail)
    .where(eq(schema.auditTrail.entityId, executionId))
    .orderBy(schema.auditTrail.id);
}

/** A document put into `status` by hand, as an import or a repair would, with no workflow of its own. */
async function documentSetBehindTheWorkflow(
  status: DocumentStatus,
  dates: { effectiveAt?: Date; obsoleteAt?: Date } = {},
): Promise<string> {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await suite.database.db
    .update(schema.documents)
    .set({ status, effectiveAt: dates.effectiveAt ?? null, obsoleteAt: dates.obsoleteAt ?? null })
    .where(eq(schema.documents.id, document.id));
  return document.id;
}

async function statusBecomes(documentId: string, status: DocumentStatus): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await documentRow(suite.database, documentId)).status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`document ${documentId} did not become ${status}`);
}

test('every run is recorded with its trigger, result and duration, and audited at start and end', async () => {
  await inWorker(async () => {
    const outcome = await runTask({
      taskName: 'perform_system_health_check',
      trigger: 'manual',
      triggeredBy: 'admin',
    });
    expect(outcome.result).toMatchObject({
      status: expect.stringMatching(/^(HEALTHY|UNHEALTHY|CRITICAL)$/),
      checks: {
        database: { status: 'HEALTHY' },
        audit: { status: 'HEALTHY' },
        storage: { status: 'HEALTHY' },
        host: { status: expect.any(String), cpus: expect.any(Number) },
        workflows: { status: expect.any(String) },
      },
    });
    const row = await execution(outcome.executionId);
    expect(row).toMatchObject({
      taskName: 'perform_system_health_check',
      trigger: 'manual',
      triggeredBy: 'admin',
      dryRun: false,
      status: 'succeeded',
      error: null,
      result: outcome.result,
    });
    expect(row.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(row.finishedAt!.getTime()).toBeGreaterThanOrEqual(row.startedAt.getTime());
    expect((await auditOf(outcome.executionId)).map((a) => [a.action, a.actor])).toEqual([
      ['TASK_EXECUTION_STARTED', 'admin'],
      ['TASK_EXECUTION_COMPLETED', 'admin'],
    ]);
    const [stored] = await suite.database.db
      .select()
      .from(schema.systemHealthChecks)
      .where(eq(schema.systemHealthChecks.executionId, outcome.executionId));
    expect(stored?.status).toBe((outcome.result as { status: string }).status);
  });
});

test('a failing task is recorded as failed with its error and audited TASK_EXECUTION_FAILED', async () => {
  const broken = await systemTasksWithoutDatabase(suite.env);
  await inWorker(
    async () => {
      const run = runTask({ taskName: 'check_workflow_timeouts' });
      await expect(run).rejects.toThrow(WorkflowFailedError);
      const [row] = await suite.database.db
        .select()
        .from(schema.taskExecutions)
        .where(
          and(
            eq(schema.taskExecutions.taskName, 'check_workflow_timeouts'),
            eq(schema.taskExecutions.status, 'failed'),
          ),
        )
        .orderBy(sql`${schema.taskExecutions.startedAt} desc`)
        .limit(1);
      expect(row).toMatchObject({ trigger: 'schedule', triggeredBy: 'system_scheduler', result: null });
      expect(row!.error).toMatch(/^write CONNECTION_ENDED .*\(Failed query: select /);
      expect((await auditOf(row!.id)).map((a) => a.action)).toEqual([
        'TASK_EXECUTION_STARTED',
        'TASK_EXECUTION_FAILED',
      ]);
    },
    { activities: { checkWorkflowTimeouts: broken.checkWorkflowTimeouts } },
  );
});

test('a dry run of a task that cannot dry-run is refused before anything is recorded', async () => {
  await inWorker(async () => {
    const run = runTask({ taskName: 'send_daily_summary', dryRun: true });
    await expect(run).rejects.toThrow(WorkflowFailedError);
    await run.catch((error: WorkflowFailedError) => expect(error.cause).toMatchObject({ type: 'DryRunUnsupported' }));
  });
});

test('the effective-date safety net starts a missing workflow, which makes the document EFFECTIVE; dry run changes nothing', async () => {
  const documentId = await documentSetBehindTheWorkflow('APPROVED_PENDING_EFFECTIVE', {
    effectiveAt: new Date(Date.now() - 2 * HOUR),
  });
  await inWorker(async () => {
    const dry = await runTask({ taskName: 'process_document_effective_dates', dryRun: true });
    expect(dry.result).toMatchObject({ dry_run: true, error_count: 0 });
    expect(
      (dry.result.processed_documents as { id: string; action: string }[]).find((d) => d.id === documentId),
    ).toMatchObject({ action: 'would_start_workflow' });
    await expect(suite.env.client.workflow.getHandle(documentWorkflowId(documentId)).describe()).rejects.toThrow();
    expect((await documentRow(suite.database, documentId)).status).toBe('APPROVED_PENDING_EFFECTIVE');

    const real = await runTask({ taskName: 'process_document_effective_dates' });
    expect(real.result).toMatchObject({
      processed_count: expect.any(Number),
      success_count: expect.any(Number),
      error_count: 0,
      errors: [],
      timestamp: expect.any(String),
    });
    expect(
      (real.result.processed_documents as { id: string; action: string }[]).find((d) => d.id === documentId),
    ).toMatchObject({ action: 'workflow_started' });
    await statusBecomes(documentId, 'EFFECTIVE');
  });
});

test('a running workflow that missed a change made in the database is told to reload, and acts on it', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  await inWorker(async () => {
    const row = await documentRow(suite.database, document.id);
    const handle = await suite.env.client.workflow.start(documentLifecycle, {
      taskQueue: suite.taskQueue,
      workflowId: documentWorkflowId(document.id),
      args: [{ documentId: document.id, document: documentFacts(row) }],
    });
    expect((await handle.query(stateQuery)).status).toBe('DRAFT');
    // A repair puts the document straight into SCHEDULED_FOR_OBSOLESCENCE with a past instant.
    await suite.database.db
      .update(schema.documents)
      .set({
        status: 'SCHEDULED_FOR_OBSOLESCENCE',
        effectiveAt: new Date(Date.now() - 30 * DAY),
        obsoleteAt: new Date(Date.now() - HOUR),
      })
      .where(eq(schema.documents.id, document.id));
    const outcome = await runTask({ taskName: 'process_document_obsoletion_dates' });
    expect(
      (outcome.result.processed_documents as { id: string; action: string }[]).find((d) => d.id === document.id),
    ).toMatchObject({ action: 'workflow_signalled' });
    await statusBecomes(document.id, 'OBSOLETE');
    expect((await handle.query(stateQuery)).status).toBe('OBSOLETE');
  });
});

test('cleanup of workflow tasks cancels orphaned tasks; its dry run only lists them', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  const taskId = randomUUID();
  await suite.database.db.insert(schema.reviewTasks).values({
    id: taskId,
    documentId: document.id,
    round: 1,
    kind: 'review',
    assigneeId: document.reviewers[0]!.id,
    dueAt: new Date(Date.now() - DAY),
  });
  const taskStatus = async () =>
    (await suite.database.db.select().from(schema.reviewTasks).where(eq(schema.reviewTasks.id, taskId)))[0]!.status;
  await inWorker(async () => {
    const report = await runTask({ taskName: 'check_workflow_timeouts' });
    expect((report.result.overdue_tasks as { task_id: string }[]).find((t) => t.task_id === taskId)).toMatchObject({
      document_id: document.id,
      assignee: document.reviewers[0]!.username,
      workflow_running: false,
    });

    const dry = await runTask({ taskName: 'cleanup_workflow_tasks', dryRun: true });
    expect((dry.result.orphaned as { task_id: string }[]).map((t) => t.task_id)).toContain(taskId);
    expect(dry.result.cancelled_count).toBe(0);
    expect(await taskStatus()).toBe('pending');

    const real = await runTask({ taskName: 'cleanup_workflow_tasks' });
    expect(real.result.cancelled_count).toBeGreaterThanOrEqual(1);
    expect(await taskStatus()).toBe('cancelled');
    const audit = await suite.database.db
      .select()
      .from(schema.auditTrail)
      .where(eq(schema.auditTrail.entityId, taskId));
    expect(audit.map((a) => [a.action, a.actor])).toEqual([['REVIEW_TASK_CANCELLED', 'system_scheduler']]);
  });
});

test('the notification queue resends an email whose delivery never ran; dry run only lists it', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  const key = `test:${randomUUID()}`;
  await suite.database.db.insert(schema.notificationOutbox).values({
    idempotencyKey: key,
    kind: 'document_effective',
    recipient: document.author.email,
    documentId: document.id,
    variables: { document_number: 'DOC-QUEUE', title: 'Stranded', version: 1, effective_at: new Date().toISOString() },
    createdAt: new Date(Date.now() - 10 * 60_000),
  });
  await inWorker(async () => {
    const dry = await runTask({ taskName: 'process_notification_queue', dryRun: true });
    expect(dry.result.would_resend).toContain(key);
    expect(dry.result.resent_count).toBe(0);
    expect((await notificationsOf(suite.database, document.id))[0]!.status).toBe('pending');

    const real = await runTask({ taskName: 'process_notification_queue' });
    expect(real.result.would_resend).toContain(key);
    await deliveriesSettled(suite.env);
    expect((await notificationsOf(suite.database, document.id))[0]!.status).toBe('sent');
    expect((await testMailSink()).messages.filter((mail) => mail.subject.includes('DOC-QUEUE'))).toHaveLength(1);
  });
});

test('the daily summary goes to every active admin once a day', async () => {
  const admin = await seedUser(suite.database, 'admin');
  await inWorker(async () => {
    const first = await runTask({ taskName: 'send_daily_summary' });
    expect(first.result.recipients).toContain(admin.email);
    await deliveriesSettled(suite.env);
    await runTask({ taskName: 'send_daily_summary' });
    await deliveriesSettled(suite.env);
    const mails = (await testMailSink()).messages.filter(
      (mail) => mail.to.includes(admin.email) && mail.subject.startsWith('[EDMS] Daily summary'),
    );
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('Documents created:');
  });
});

test('execution history past its retention is pruned; the dry run counts it and keeps it', async () => {
  const oldId = randomUUID();
  await suite.database.db.insert(schema.taskExecutions).values({
    id: oldId,
    taskName: 'perform_system_health_check',
    workflowId: `old-${oldId}`,
    runId: oldId,
    trigger: 'schedule',
    triggeredBy: 'system_scheduler',
    status: 'succeeded',
    startedAt: new Date(Date.now() - 10 * DAY),
  });
  const exists = async () =>
    (await suite.database.db.select().from(schema.taskExecutions).where(eq(schema.taskExecutions.id, oldId))).length ===
    1;
  await inWorker(async () => {
    const dry = await runTask({ taskName: 'cleanup_execution_history', dryRun: true });
    expect(dry.result).toMatchObject({ dry_run: true, executions: { retention_days: 7, deleted_count: 0 } });
    expect((dry.result.executions as { would_delete_count: number }).would_delete_count).toBeGreaterThanOrEqual(1);
    expect(await exists()).toBe(true);

    const weeklyDry = await runTask({ taskName: 'weekly_comprehensive_cleanup', dryRun: true });
    expect(weeklyDry.result).toMatchObject({ dry_run: true, executions: { deleted_count: 0 } });
    expect(await exists()).toBe(true);

    const real = await runTask({ taskName: 'cleanup_execution_history' });
    expect((real.result.executions as { deleted_count: number }).deleted_count).toBeGreaterThanOrEqual(1);
    expect(await exists()).toBe(false);
    // This run's own record (and every recent one) stays.
    expect((await execution(real.executionId)).status).toBe('succeeded');

    const weekly = await runTask({ taskName: 'weekly_comprehensive_cleanup' });
    expect(weekly.result).toMatchObject({
      dry_run: false,
      workflow_tasks: { dry_run: false },
      notifications: { retention_days: 90 },
      executions: { retention_days: 7, deleted_count: 0 },
    });
  });
});
