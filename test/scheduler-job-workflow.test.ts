import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { and, asc, eq } from 'drizzle-orm';
import { DEFAULT_JOB_RETRY_POLICY, type JobRunOutcome, type SchedulerJobInput } from '../common';
import { schema, type SchedulerJobRow } from '../db';
import { schedulerJob } from '../workflows';
import { recordHistories } from './helpers/histories';
import { testMailSink } from './helpers/mail';
import { deliveriesSettled, TEST_BACKUP_DIR, TEST_EXPORTS_DIR, withWorker } from './helpers/temporal';
import { useTimeSkipping } from './helpers/suite';

const { schedulerJobs, schedulerJobExecutions, backupRuns, notificationOutbox, auditTrail } = schema;

const suite = useTimeSkipping({ taskQueuePrefix: 'job' });
let hooks: http.Server;
let hookUrl: string;
/** Requests the webhook server received, by path. */
const received = new Map<string, number>();

beforeAll(async () => {
  // /ok answers 200, /fail 500, /flaky 500 then 200, /hang never answers.
  hooks = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const seen = (received.get(path) ?? 0) + 1;
    received.set(path, seen);
    if (path.startsWith('/hang')) return;
    const ok = path.startsWith('/ok') || (path.startsWith('/flaky') && seen > 1);
    response.writeHead(ok ? 200 : 500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ ok }));
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
});
afterAll(async () => {
  hooks?.closeAllConnections();
  await new Promise((resolve) => hooks?.close(resolve));
  await rm(TEST_EXPORTS_DIR, { recursive: true, force: true });
  await rm(TEST_BACKUP_DIR, { recursive: true, force: true });
});

async function insertJob(fields: Partial<SchedulerJobRow> & Pick<SchedulerJobRow, 'templateType' | 'parameters'>) {
  const [row] = await suite.database.db
    .insert(schedulerJobs)
    .values({
      name: `job-${randomUUID().slice(0, 8)}`,
      timeoutSeconds: 60,
      retryPolicy: DEFAULT_JOB_RETRY_POLICY,
      notifications: { on_failure: [], on_success: [] },
      schedule: { interval_seconds: 3600 },
      createdBy: 'alice',
      ...fields,
    })
    .returning();
  return row!;
}

const webhookJob = (path: string, fields: Partial<SchedulerJobRow> = {}) =>
  insertJob({ templateType: 'webhook_trigger', parameters: { url: `${hookUrl}${path}`, method: 'POST' }, ...fields });

const executionsOf = (jobId: string) =>
  suite.database.db
    .select()
    .from(schedulerJobExecutions)
    .where(eq(schedulerJobExecutions.jobId, jobId))
    .orderBy(asc(schedulerJobExecutions.attempt));

/** Runs the job's workflow to its end, as a schedule or a run-now would start it. */
function runJob(input: Omit<SchedulerJobInput, 'trigger'> & Partial<SchedulerJobInput>, workflowId?: string) {
  const id = workflowId ?? `job-${input.jobId}-test-${randomUUID().slice(0, 8)}`;
  return withWorker(
    suite.env,
    { taskQueue: suite.taskQueue, database: suite.database, queueKind: 'maintenance' },
    async () => {
      const outcome = await suite.env.client.workflow.execute(schedulerJob, {
        taskQueue: suite.taskQueue,
        workflowId: id,
        args: [{ trigger: 'manual', triggeredBy: 'alice', ...input }],
      });
      await deliveriesSettled(suite.env);
      return { outcome, workflowId: id };
    },
  );
}

const mailsTo = async (address: string) => (await testMailSink()).messages.filter((m) => m.to.includes(address));

test('a failing run is retried by its policy, one execution row per attempt, exhausted at the last, and the failure is emailed once', async () => {
  const ops = `ops-${randomUUID().slice(0, 8)}@example.test`;
  const job = await webhookJob(`/fail-${randomUUID()}`, {
    retryPolicy: { max_attempts: 3, initial_interval_seconds: 60, backoff_coefficient: 2 },
    notifications: { on_failure: [ops], on_success: [] },
  });
  const { outcome, workflowId } = await runJob({ jobId: job.id }, 'scheduler-job-exhausted');

  expect(outcome).toMatchObject<Partial<JobRunOutcome>>({ status: 'exhausted', attempts: 3 });
  const rows = await executionsOf(job.id);
  expect(rows.map((row) => [row.attempt, row.status])).toEqual([
    [1, 'failed'],
    [2, 'failed'],
    [3, 'exhausted'],
  ]);
  for (const row of rows) {
    expect(row).toMatchObject({
      jobName: job.name,
      templateType: 'webhook_trigger',
      triggeredBy: 'manual:alice',
      trigger: 'manual',
      workflowId,
      executionHost: expect.stringMatching(/^\d+@/),
    });
    expect(row.error).toContain('500');
    expect(row.completedAt).not.toBeNull();
    expect(row.durationSeconds).toBeGreaterThanOrEqual(0);
  }
  expect(outcome.executionIds).toEqual(rows.map((row) => row.id));

  const mails = await mailsTo(ops);
  expect(mails).toHaveLength(1);
  expect(mails[0]!.subject).toBe(`[EDMS] Job exhausted: ${job.name}`);
  expect(mails[0]!.text).toContain('after 3 attempt(s)');
  const [audit] = await suite.database.db
    .select()
    .from(auditTrail)
    .where(and(eq(auditTrail.entityId, job.id), eq(auditTrail.action, 'JOB_EXECUTION_FAILED')));
  expect(audit).toMatchObject({
    actor: 'alice',
    details: expect.objectContaining({ status: 'exhausted', attempts: 3 }),
  });
  await recordHistories(suite.env, { 'scheduler-job-exhausted': workflowId });
});

test('a run that fails once and then succeeds is completed, and on_success is emailed', async () => {
  const team = `team-${randomUUID().slice(0, 8)}@example.test`;
  const job = await webhookJob(`/flaky-${randomUUID()}`, {
    retryPolicy: { max_attempts: 3, initial_interval_seconds: 30, backoff_coefficient: 1 },
    notifications: { on_failure: [], on_success: [team] },
  });
  const { outcome } = await runJob({ jobId: job.id });
  expect(outcome).toMatchObject({ status: 'completed', attempts: 2 });
  const rows = await executionsOf(job.id);
  expect(rows.map((row) => row.status)).toEqual(['failed', 'completed']);
  expect(rows[1]!.result).toMatchObject({ status: 200 });
  expect(rows[1]!.logs.length).toBeGreaterThan(0);
  expect(rows[1]!.error).toBeNull();
  const mails = await mailsTo(team);
  expect(mails.map((m) => m.subject)).toEqual([`[EDMS] Job succeeded: ${job.name}`]);
});

test('an attempt that outlives timeout_seconds ends the run as timeout, without further attempts', async () => {
  const path = `/hang-${randomUUID()}`;
  const job = await insertJob({
    templateType: 'webhook_trigger',
    parameters: { url: `${hookUrl}${path}`, timeout_seconds: 60 },
    timeoutSeconds: 2,
    retryPolicy: { max_attempts: 3, initial_interval_seconds: 1, backoff_coefficient: 1 },
  });
  const { outcome } = await runJob({ jobId: job.id });
  expect(outcome).toMatchObject({ status: 'timeout', attempts: 1 });
  const rows = await executionsOf(job.id);
  expect(rows.map((row) => row.status)).toEqual(['timeout']);
  expect(rows[0]!.error).toContain('timeout_seconds');
  expect(received.get(path)).toBe(1);
});

test('an error no retry can fix ends the run failed at once', async () => {
  const job = await insertJob({
    templateType: 'webhook_trigger',
    // Loopback is allowed in tests; a URL with credentials is refused by the outbound policy.
    parameters: { url: 'http://user:secret@127.0.0.1:1/hook' },
    retryPolicy: { max_attempts: 5, initial_interval_seconds: 1, backoff_coefficient: 1 },
  });
  const { outcome } = await runJob({ jobId: job.id });
  expect(outcome.status).toBe('failed');
  const rows = await executionsOf(job.id);
  expect(rows.map((row) => row.status)).toEqual(['failed']);
});

test('a once job is completed by its scheduled run, and ends failed when its run is exhausted', async () => {
  const once = { recurrenceType: 'once', recurrenceConfig: { run_at: '2099-01-01T00:00:00Z' }, schedule: null };
  const good = await webhookJob(`/ok-${randomUUID()}`, once);
  expect((await runJob({ jobId: good.id, trigger: 'schedule' })).outcome.status).toBe('completed');
  const [afterGood] = await suite.database.db.select().from(schedulerJobs).where(eq(schedulerJobs.id, good.id));
  expect(afterGood!.status).toBe('completed');
  expect((await executionsOf(good.id))[0]).toMatchObject({ triggeredBy: 'schedule', trigger: 'schedule' });

  const bad = await webhookJob(`/fail-${randomUUID()}`, {
    ...once,
    retryPolicy: { max_attempts: 2, initial_interval_seconds: 5, backoff_coefficient: 1 },
  });
  expect((await runJob({ jobId: bad.id, trigger: 'schedule' })).outcome.status).toBe('exhausted');
  const [afterBad] = await suite.database.db.select().from(schedulerJobs).where(eq(schedulerJobs.id, bad.id));
  expect(afterBad!.status).toBe('failed');

  // An admin's run-now of a once job does not use up its scheduled run.
  const manual = await webhookJob(`/ok-${randomUUID()}`, once);
  await runJob({ jobId: manual.id });
  const [afterManual] = await suite.database.db.select().from(schedulerJobs).where(eq(schedulerJobs.id, manual.id));
  expect(afterManual!.status).toBe('active');
});

test('runs the schedule starts are skipped while the job is paused or deleted; an admin may still run a paused job', async () => {
  const path = `/ok-${randomUUID()}`;
  const job = await webhookJob(path, { status: 'paused', pauseNote: 'maintenance window' });
  const skipped = await runJob({ jobId: job.id, trigger: 'schedule' });
  expect(skipped.outcome).toMatchObject({ status: 'skipped', attempts: 0, summary: expect.stringContaining('paused') });
  expect(await executionsOf(job.id)).toEqual([]);
  expect(received.get(path)).toBeUndefined();

  expect((await runJob({ jobId: job.id })).outcome.status).toBe('completed');
  await suite.database.db
    .update(schedulerJobs)
    .set({ status: 'deleted', deletedAt: new Date() })
    .where(eq(schedulerJobs.id, job.id));
  expect((await runJob({ jobId: job.id })).outcome.status).toBe('skipped');
  expect(received.get(path)).toBe(1);
});

test('a dry run reports what the job would do, sends nothing and emails nobody', async () => {
  const to = `reader-${randomUUID().slice(0, 8)}@example.test`;
  const ops = `ops-${randomUUID().slice(0, 8)}@example.test`;
  const job = await insertJob({
    templateType: 'email_notification',
    parameters: { recipients: [to], subject: 'Quarterly review', body: 'Please review the SOPs.' },
    notifications: { on_failure: [ops], on_success: [ops] },
  });
  const { outcome } = await runJob({ jobId: job.id, dryRun: true });
  expect(outcome.status).toBe('completed');
  const [row] = await executionsOf(job.id);
  expect(row).toMatchObject({ dryRun: true, status: 'completed' });
  expect(row!.result).toMatchObject({ subject: 'Quarterly review', recipients: [to] });
  expect(await mailsTo(to)).toEqual([]);
  expect(await mailsTo(ops)).toEqual([]);

  // For real: the message is sent once, and a retried run of the same workflow would not resend it.
  await runJob({ jobId: job.id });
  expect((await mailsTo(to)).map((m) => m.subject)).toEqual(['Quarterly review']);
  const outbox = await suite.database.db.select().from(notificationOutbox).where(eq(notificationOutbox.recipient, to));
  expect(outbox).toEqual([expect.objectContaining({ kind: 'job_message', status: 'sent' })]);
});

test('a backup job runs the backup workflow of its configuration, with the verification it asks for', async () => {
  const job = await insertJob({
    templateType: 'backup',
    parameters: { config: 'on-demand-full', verify: 'checksums' },
    timeoutSeconds: 1800,
  });
  const { outcome } = await runJob({ jobId: job.id });
  expect(outcome).toMatchObject({ status: 'completed', attempts: 1 });
  const [row] = await executionsOf(job.id);
  expect(row!.result).toMatchObject({ skipped: false, workflow_id: 'backup-on-demand-full', config: 'on-demand-full' });
  const backupRunId = (row!.result as { backup_run_id: string }).backup_run_id;
  const [run] = await suite.database.db.select().from(backupRuns).where(eq(backupRuns.id, backupRunId));
  expect(run).toMatchObject({
    status: 'succeeded',
    triggeredBy: `job:${job.name}`,
    verifyMode: 'checksums',
    workflowId: 'backup-on-demand-full',
  });
});
