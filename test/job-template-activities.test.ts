import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { eq, inArray, like } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTransport } from 'nodemailer';
import { createJobTemplateActivities, type JobTemplateActivities, type JobTemplateResult } from '../activities/jobs';
import { connectDatabase, schema, type DatabaseHandle } from '../db';
import type { OutboundPolicy } from '../lib/outbound-policy';
import { startSmtpSink, type SmtpSink } from '../launcher/smtp-sink';
import { seedDocument } from './helpers/documents';
import { TEST_MAIL_SETTINGS } from './helpers/mail';
import { testDatabaseUrl } from './helpers/resources';

const { taskExecutions, notificationOutbox, reviewTasks, backupRuns } = schema;

interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let database: DatabaseHandle;
let sink: SmtpSink;
let exportsDir: string;
let server: http.Server;
let serverUrl: string;
const received: ReceivedRequest[] = [];

beforeAll(async () => {
  database = connectDatabase(testDatabaseUrl());
  sink = await startSmtpSink();
  exportsDir = await mkdtemp(path.join(os.tmpdir(), 'edms-job-exports-'));
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (req.url?.startsWith('/fail')) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":true}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await sink?.close();
  await database?.close();
  if (exportsDir) await rm(exportsDir, { recursive: true, force: true });
});

const LOCAL_NETWORK: OutboundPolicy = { allowedHosts: [], allowPrivateNetworks: true };
const DEFAULT_POLICY: OutboundPolicy = { allowedHosts: [], allowPrivateNetworks: false };

function activities(outboundPolicy: OutboundPolicy = LOCAL_NETWORK): JobTemplateActivities {
  return createJobTemplateActivities({
    database,
    mailer: createTransport(sink.url),
    mail: TEST_MAIL_SETTINGS,
    settings: { exportsDir, outboundPolicy, timezone: 'Europe/Berlin' },
  });
}

// Expected failures are asserted, not logged.
const QUIET = { logger: new DefaultLogger('ERROR') };

/** Runs one activity as Temporal would, in an activity context of a job workflow. */
function run<P>(
  activity: (request: {
    params: P;
    dryRun: boolean;
    jobId: string;
    executionKey: string;
  }) => Promise<JobTemplateResult>,
  params: P,
  options: { dryRun?: boolean; executionKey?: string } = {},
): Promise<JobTemplateResult> {
  const env = new MockActivityEnvironment(
    { activityId: '1', workflowExecution: { workflowId: `job-${randomUUID()}`, runId: randomUUID() } },
    QUIET,
  );
  return env.run(activity, {
    params,
    dryRun: options.dryRun ?? false,
    jobId: randomUUID(),
    executionKey: options.executionKey ?? `job-${randomUUID()}:run-1`,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

/** Task executions of one test, told apart from every other test's by their task name. */
async function seedExecutions(
  taskName: string,
  rows: { status: 'running' | 'succeeded' | 'failed'; startedAt: Date; error?: string; result?: object }[],
) {
  await database.db.insert(taskExecutions).values(
    rows.map((row) => ({
      taskName,
      workflowId: `wf-${randomUUID()}`,
      runId: randomUUID(),
      trigger: 'schedule' as const,
      triggeredBy: 'system_scheduler',
      status: row.status,
      startedAt: row.startedAt,
      finishedAt: row.status === 'running' ? null : row.startedAt,
      error: row.error ?? null,
      result: (row.result as Record<string, unknown>) ?? null,
    })),
  );
}

const countExecutions = async (taskName: string) =>
  (await database.db.select().from(taskExecutions).where(eq(taskExecutions.taskName, taskName))).length;

/** RFC 4180 records, enough to read back what the export wrote. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 1;
    } else field += c;
  }
  return records;
}

describe('database_cleanup', () => {
  test('deletes only old finished rows that match the conditions, in batches, never running ones', async () => {
    const name = `cleanup-${randomUUID()}`;
    const other = `cleanup-other-${randomUUID()}`;
    await seedExecutions(name, [
      ...Array.from({ length: 230 }, () => ({ status: 'succeeded' as const, startedAt: daysAgo(40) })),
      { status: 'failed', startedAt: daysAgo(40) },
      // onlyWhere keeps a running execution however old, even if the job's conditions would match it.
      { status: 'running', startedAt: daysAgo(40) },
      { status: 'succeeded', startedAt: daysAgo(5) },
    ]);
    await seedExecutions(other, [{ status: 'succeeded', startedAt: daysAgo(40) }]);
    const params = {
      table: 'task_executions' as const,
      older_than_days: 30,
      batch_size: 100,
      conditions: [
        { column: 'task_name', operator: 'eq' as const, value: name },
        { column: 'status', operator: 'in' as const, value: ['succeeded', 'running'] },
      ],
    };

    const dry = await run(activities().runDatabaseCleanup, params, { dryRun: true });
    expect(dry.result).toMatchObject({ table: 'task_executions', would_delete_count: 230, older_than_days: 30 });
    expect(await countExecutions(name)).toBe(233);

    const done = await run(activities().runDatabaseCleanup, params);
    expect(done.result).toEqual({
      table: 'task_executions',
      older_than_days: 30,
      date_column: 'started_at',
      deleted_count: 230,
      batches: 3,
    });
    expect(done.logs).toContain('batch 3: deleted 30 rows');
    const left = await database.db.select().from(taskExecutions).where(eq(taskExecutions.taskName, name));
    expect(left.map((row) => row.status).sort()).toEqual(['failed', 'running', 'succeeded']);
    expect(left.find((row) => row.status === 'succeeded')!.startedAt.getTime()).toBeGreaterThan(daysAgo(6).getTime());
    expect(await countExecutions(other)).toBe(1);

    // Nothing left to delete: a rerun (a retry after a crash) is a no-op.
    const again = await run(activities().runDatabaseCleanup, params);
    expect(again.result).toMatchObject({ deleted_count: 0, batches: 0 });
  });

  test('cleans the history of scheduled jobs, keeping executions still running', async () => {
    const [job] = await database.db
      .insert(schema.schedulerJobs)
      .values({
        name: `cleanup-target-${randomUUID().slice(0, 8)}`,
        templateType: 'webhook_trigger',
        parameters: { url: 'https://hooks.example.com/x' },
        timeoutSeconds: 60,
        retryPolicy: { max_attempts: 1, initial_interval_seconds: 1, backoff_coefficient: 1 },
        notifications: { on_failure: [], on_success: [] },
        createdBy: 'test',
      })
      .returning();
    const execution = (status: 'running' | 'completed' | 'exhausted', days: number) => ({
      jobId: job!.id,
      jobName: job!.name,
      templateType: 'webhook_trigger',
      status,
      attempt: 1,
      trigger: 'schedule' as const,
      triggeredBy: 'schedule',
      workflowId: `job-${job!.id}-${randomUUID()}`,
      runId: randomUUID(),
      startedAt: daysAgo(days),
    });
    await database.db
      .insert(schema.schedulerJobExecutions)
      .values([
        execution('completed', 40),
        execution('exhausted', 40),
        execution('running', 40),
        execution('completed', 2),
      ]);
    const done = await run(activities().runDatabaseCleanup, {
      table: 'scheduler_job_executions',
      older_than_days: 30,
      conditions: [{ column: 'job_id', operator: 'eq', value: job!.id }],
    });
    expect(done.result).toMatchObject({ deleted_count: 2 });
    const left = await database.db
      .select({ status: schema.schedulerJobExecutions.status })
      .from(schema.schedulerJobExecutions)
      .where(eq(schema.schedulerJobExecutions.jobId, job!.id));
    expect(left.map((row) => row.status).sort()).toEqual(['completed', 'running']);
  });

  test('parameters the template refuses fail without retries, naming the field', async () => {
    const failure = await failureOf(
      run(activities().runDatabaseCleanup, {
        table: 'task_executions',
        older_than_days: 30,
        conditions: [{ column: 'workflow_id; drop table users', operator: 'eq', value: 'x' }],
      } as never),
    );
    expect(failure).toMatchObject({ type: 'InvalidJobParameters', nonRetryable: true });
    expect(failure.message).toContain('parameters.conditions.0.column');
  });
});

describe('data_export', () => {
  const window = { from: '2001-02-03T00:00:00.000Z', to: '2001-02-04T00:00:00.000Z' };
  let taskName: string;

  beforeAll(async () => {
    taskName = `export-${randomUUID()}`;
    await seedExecutions(taskName, [
      {
        status: 'failed',
        startedAt: new Date('2001-02-03T10:00:00.000Z'),
        error: 'disk full, "sda1"\nsecond line',
        result: { note: 'a,b' },
      },
      { status: 'succeeded', startedAt: new Date('2001-02-03T11:00:00.000Z') },
      { status: 'succeeded', startedAt: new Date('2001-02-03T12:00:00.000Z') },
      // Outside the window.
      { status: 'succeeded', startedAt: new Date('2001-02-05T12:00:00.000Z') },
    ]);
  });

  test('writes an RFC 4180 CSV with a header, and a rerun of the same execution returns the same file', async () => {
    const params = { dataset: 'task_executions' as const, filters: window, file_name_prefix: 'ops-history' };
    const executionKey = `job-${randomUUID()}:run-7`;
    const first = await run(activities().runDataExport, params, { executionKey });
    const file = first.result.path as string;
    expect(path.dirname(file)).toBe(exportsDir);
    expect(path.basename(file)).toMatch(/^ops-history_\d{8}T\d{6}Z_[0-9a-f]{12}\.csv$/);
    expect(first.result).toMatchObject({ dataset: 'task_executions', format: 'csv', rows: 3 });

    const content = await readFile(file, 'utf8');
    expect(content).toContain('"disk full, ""sda1""\nsecond line"');
    expect(content).toContain('"{""note"":""a,b""}"');
    const [header, ...records] = parseCsv(content);
    expect(header).toEqual(expect.arrayContaining(['id', 'task_name', 'status', 'started_at', 'error']));
    expect(records).toHaveLength(3);
    const column = (name: string) => header!.indexOf(name);
    expect(records.map((r) => r[column('started_at')])).toEqual([
      '2001-02-03T10:00:00.000Z',
      '2001-02-03T11:00:00.000Z',
      '2001-02-03T12:00:00.000Z',
    ]);
    expect(records[0]![column('error')]).toBe('disk full, "sda1"\nsecond line');
    expect(records.every((r) => r.length === header!.length)).toBe(true);
    expect(first.result.size_bytes).toBe(Buffer.byteLength(content));

    // Temporal retries the activity (same execution key) a second later: same file, not a second one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await run(activities().runDataExport, params, { executionKey });
    expect(second.result).toEqual(first.result);
    const files = (await readdir(exportsDir)).filter((name) => name.startsWith('ops-history_'));
    expect(files).toEqual([path.basename(file)]);

    const another = await run(activities().runDataExport, params);
    expect(another.result.path).not.toBe(file);
    expect(another.result.sha256).toBe(first.result.sha256);
  });

  test('writes JSON with the status filter, and a dry run only counts', async () => {
    const params = {
      dataset: 'task_executions' as const,
      format: 'json' as const,
      filters: { ...window, status: 'succeeded' },
    };
    const dry = await run(activities().runDataExport, params, { dryRun: true });
    expect(dry.result).toEqual({ dataset: 'task_executions', format: 'json', rows: 2 });
    expect((await readdir(exportsDir)).filter((name) => name.endsWith('.json'))).toEqual([]);

    const done = await run(activities().runDataExport, params);
    const rows = JSON.parse(await readFile(done.result.path as string, 'utf8')) as Record<string, unknown>[];
    expect(rows).toHaveLength(2);
    expect(done.result.rows).toBe(2);
    expect(rows.every((row) => row.status === 'succeeded' && row.task_name === taskName)).toBe(true);
  });

  test('streams a table larger than one cursor batch into one well-formed JSON array', async () => {
    const name = `export-large-${randomUUID()}`;
    const start = Date.parse('2002-06-01T00:00:00.000Z');
    await seedExecutions(
      name,
      Array.from({ length: 2345 }, (_, i) => ({ status: 'succeeded' as const, startedAt: new Date(start + i * 1000) })),
    );
    const done = await run(activities().runDataExport, {
      dataset: 'task_executions',
      format: 'json',
      filters: { from: '2002-06-01T00:00:00.000Z', to: '2002-06-02T00:00:00.000Z' },
    });
    const rows = JSON.parse(await readFile(done.result.path as string, 'utf8')) as { started_at: string }[];
    expect(rows).toHaveLength(2345);
    expect(done.result.rows).toBe(2345);
    expect(rows[2344]!.started_at).toBe(new Date(start + 2344 * 1000).toISOString());
  });

  test('exports documents with the limit', async () => {
    await seedDocument(database, { reviewers: 1, approvers: 1 });
    await seedDocument(database, { reviewers: 1, approvers: 1 });
    const done = await run(activities().runDataExport, {
      dataset: 'documents',
      filters: { status: 'DRAFT', limit: 1 },
    });
    expect(done.result.rows).toBe(1);
    const [header, ...records] = parseCsv(await readFile(done.result.path as string, 'utf8'));
    expect(header).toContain('document_number');
    expect(records[0]![header!.indexOf('status')]).toBe('DRAFT');
  });
});

describe('email_notification', () => {
  const receivedBy = (subject: string) => sink.messages.filter((mail) => mail.subject === subject);

  test('a plain message reaches each recipient once, even when the activity runs twice', async () => {
    const subject = `Line 3 shutdown ${randomUUID()}`;
    const recipients = ['qa@example.test', 'ops@example.test'];
    const executionKey = `job-${randomUUID()}:run-1`;
    const params = { recipients, subject, body: 'Line 3 stops on Friday for maintenance.' };

    const first = await run(activities().runEmailNotification, params, { executionKey });
    expect(first.result).toMatchObject({ sent_count: 2, already_sent_count: 0 });
    const second = await run(activities().runEmailNotification, params, { executionKey });
    expect(second.result).toMatchObject({ sent_count: 0, already_sent_count: 2 });

    const mails = receivedBy(subject);
    expect(mails.map((mail) => mail.to[0]).sort()).toEqual([...recipients].sort());
    expect(mails[0]!.text.trim()).toBe('Line 3 stops on Friday for maintenance.');
    const rows = await database.db
      .select()
      .from(notificationOutbox)
      .where(like(notificationOutbox.idempotencyKey, `job:${executionKey}:%`));
    expect(rows.map((row) => [row.idempotencyKey, row.status, row.attempts]).sort()).toEqual(
      recipients.map((r) => [`job:${executionKey}:${r}`, 'sent', 1]).sort(),
    );
    expect(mails.map((mail) => mail.messageId).sort()).toEqual(rows.map((row) => row.messageId).sort());
  });

  test('an EDMS template renders with its variables and an overriding subject', async () => {
    const subject = `Now effective ${randomUUID()}`;
    const done = await run(activities().runEmailNotification, {
      recipients: ['author@example.test'],
      template: 'document_effective',
      subject,
      variables: { document_number: 'DOC-000777', title: 'Gowning', version: 2, effective_at: '2030-01-01T08:00:00Z' },
    });
    expect(done.result).toMatchObject({ template: 'document_effective', subject, sent_count: 1 });
    const [mail] = receivedBy(subject);
    expect(mail!.html).toContain('DOC-000777');
    expect(mail!.text).toContain('DOC-000777 "Gowning" version 2 became EFFECTIVE');
  });

  test('a dry run renders the email and sends nothing', async () => {
    const executionKey = `job-${randomUUID()}:run-1`;
    const dry = await run(
      activities().runEmailNotification,
      { recipients: ['qa@example.test'], template: 'daily_summary', variables: { date: '2030-01-01' } },
      { dryRun: true, executionKey },
    );
    expect(dry.result).toMatchObject({
      subject: '[EDMS] Daily summary for 2030-01-01',
      recipients: ['qa@example.test'],
    });
    expect(dry.result.preview).toContain('Documents created: 0');
    expect(receivedBy('[EDMS] Daily summary for 2030-01-01')).toHaveLength(0);
    const rows = await database.db
      .select()
      .from(notificationOutbox)
      .where(like(notificationOutbox.idempotencyKey, `job:${executionKey}:%`));
    expect(rows).toHaveLength(0);
  });
});

describe('report_generation', () => {
  test('computes the sections, writes HTML and CSV, and emails the HTML once', async () => {
    const document = await seedDocument(database, { reviewers: 1, approvers: 1 });
    const [doc] = await database.db.select().from(schema.documents).where(eq(schema.documents.id, document.id));
    await database.db.insert(reviewTasks).values({
      id: randomUUID(),
      documentId: document.id,
      round: 1,
      kind: 'review',
      assigneeId: document.reviewers[0]!.id,
      dueAt: daysAgo(3),
    });
    const taskName = `report-${randomUUID()}`;
    await seedExecutions(taskName, [
      { status: 'succeeded', startedAt: daysAgo(1) },
      { status: 'succeeded', startedAt: daysAgo(1) },
      { status: 'succeeded', startedAt: daysAgo(1) },
      { status: 'failed', startedAt: daysAgo(1) },
      { status: 'succeeded', startedAt: daysAgo(30) },
    ]);
    await database.db
      .insert(backupRuns)
      .values({ backupType: 'full', status: 'succeeded', finishedAt: new Date(), sizeBytes: 1234 });

    const executionKey = `job-${randomUUID()}:run-1`;
    const params = { period_days: 7, email_to: ['manager@example.test'] };
    const done = await run(activities().runReportGeneration, params, { executionKey });
    const sections = done.result.sections as Record<string, unknown>;
    const rates = sections.task_success_rates as { task_name: string; runs: number; success_rate: number }[];
    expect(rates.find((r) => r.task_name === taskName)).toMatchObject({
      runs: 4,
      succeeded: 3,
      failed: 1,
      success_rate: 75,
    });
    const overdue = sections.overdue_reviews as { count: number; tasks: { document_number: string }[] };
    expect(overdue.tasks.map((t) => t.document_number)).toContain(doc!.documentNumber);
    const byStatus = sections.documents_by_status as { status: string; total: number }[];
    expect(byStatus.find((s) => s.status === 'DRAFT')!.total).toBeGreaterThanOrEqual(1);
    expect(sections.backups).toEqual(
      expect.arrayContaining([expect.objectContaining({ backup_type: 'full', succeeded: expect.any(Number) })]),
    );

    const files = done.result.files as { html: string; csv: string };
    expect(path.dirname(files.html)).toBe(path.join(exportsDir, 'reports'));
    const html = await readFile(files.html, 'utf8');
    expect(html).toContain(doc!.documentNumber);
    expect(html).toContain('(Europe/Berlin)');
    const csv = parseCsv(await readFile(files.csv, 'utf8'));
    expect(csv).toContainEqual([taskName, '4', '3', '1', '0', '75']);

    // A retry (same execution) writes the files again but does not email the report twice.
    await run(activities().runReportGeneration, params, { executionKey });
    const mails = sink.messages.filter(
      (mail) => mail.to.includes('manager@example.test') && mail.html.includes(doc!.documentNumber),
    );
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('[EDMS] EDMS report, last 7 days');
  });

  test('a dry run computes the figures but writes and sends nothing', async () => {
    const executionKey = `job-${randomUUID()}:run-1`;
    const dry = await run(
      activities().runReportGeneration,
      { sections: ['backups'], email_to: ['manager@example.test'] },
      { dryRun: true, executionKey },
    );
    expect(Object.keys(dry.result.sections as object)).toEqual(['backups']);
    expect(dry.result.files).toEqual({});
    const rows = await database.db
      .select()
      .from(notificationOutbox)
      .where(inArray(notificationOutbox.idempotencyKey, [`job:${executionKey}:manager@example.test`]));
    expect(rows).toHaveLength(0);
  });
});

describe('webhook_trigger', () => {
  test('sends the method, headers and JSON body to the endpoint and reports the answer', async () => {
    const path = `/hooks/${randomUUID()}`;
    const done = await run(activities().runWebhookTrigger, {
      method: 'PUT',
      url: `${serverUrl}${path}?source=edms`,
      headers: { 'X-Token': 'secret-1' },
      body: { event: 'nightly', count: 3 },
    });
    expect(done.result).toMatchObject({
      status: 200,
      resolved_address: '127.0.0.1',
      body_excerpt: '{"accepted":true}',
    });
    expect(done.result.duration_ms).toEqual(expect.any(Number));
    const request = received.find((r) => r.url.startsWith(path));
    expect(request).toMatchObject({ method: 'PUT', url: `${path}?source=edms`, body: '{"event":"nightly","count":3}' });
    expect(request!.headers).toMatchObject({ 'x-token': 'secret-1', 'content-type': 'application/json' });
  });

  test('a non-2xx answer is a retryable failure with the status and an excerpt of the body', async () => {
    const failure = await failureOf(run(activities().runWebhookTrigger, { url: `${serverUrl}/fail` }));
    expect(failure).toMatchObject({ type: 'WebhookUnexpectedStatus', nonRetryable: false });
    expect(failure.message).toContain('503');
    expect(failure.message).toContain('down for maintenance');
  });

  test('an answer other than expected_status fails too', async () => {
    const failure = await failureOf(
      run(activities().runWebhookTrigger, { method: 'GET', url: `${serverUrl}/ok`, expected_status: 204 }),
    );
    expect(failure).toMatchObject({ type: 'WebhookUnexpectedStatus', nonRetryable: false });
    expect(failure.message).toContain('answered 200, expected 204');
  });

  test('the default policy refuses a loopback URL without sending anything, also in a dry run', async () => {
    const path = `/refused/${randomUUID()}`;
    const failure = await failureOf(run(activities(DEFAULT_POLICY).runWebhookTrigger, { url: `${serverUrl}${path}` }));
    expect(failure).toMatchObject({ type: 'OutboundRequestRefused', nonRetryable: true });
    expect(failure.message).toContain('private or loopback');
    const dry = await failureOf(
      run(activities(DEFAULT_POLICY).runWebhookTrigger, { url: `${serverUrl}${path}` }, { dryRun: true }),
    );
    expect(dry).toMatchObject({ type: 'OutboundRequestRefused', nonRetryable: true });
    expect(received.filter((r) => r.url.startsWith(path))).toHaveLength(0);

    const allowed = await run(activities().runWebhookTrigger, { url: `${serverUrl}${path}` }, { dryRun: true });
    expect(allowed.result).toMatchObject({ allowed: true });
    expect(received.filter((r) => r.url.startsWith(path))).toHaveLength(0);
  });
});
