import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { createDocumentActivities } from '../activities/documents';
import { timedEventLateness, type TimedEventRecord } from '../activities/timed-events';
import { healthScore, latenessAlerts } from '../api/services/monitoring/alerts';
import { latenessSummary, type LatenessSummary } from '../api/services/monitoring/lateness';
import { registerBusinessMetrics } from '../api/services/metrics';
import { TIMED_EVENTS } from '../common';
import { connectDatabase, runMigrations, schema, type DatabaseHandle } from '../db';
import { createRegistry, createWorkerMetrics } from '../lib/metrics';
import { freePort } from '../lib/ports';
import { createProbeConnection, plainTemporalSettings } from '../lib/temporal';
import { EMAIL_DELIVERY_OUTCOMES } from '../worker/metrics';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildTestApi } from './helpers/api';
import { seedDocument } from './helpers/documents';
import { testDatabaseUrl } from './helpers/resources';
import { useDevServerApi } from './helpers/suite';
import { waitFor } from './helpers/wait';
import { approveDocuments, startWorkerProcess } from './helpers/worker-process';

/**
 * Lateness of timed business events against their SLA, and the Prometheus series a platform team
 * scrapes from the API and the worker.
 */
jest.setTimeout(300_000);

/**
 * The value of the series `name` whose labels include `labels` (in any order) in a Prometheus text
 * exposition, or undefined when there is none.
 */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3]);
  }
  return undefined;
}

const at = (iso: string) => new Date(`2026-03-02T${iso}Z`);

describe('lateness of a timed event', () => {
  test('is when it happened minus the instant it was due', () => {
    expect(timedEventLateness(at('12:00:00.000'), at('11:00:00'), at('12:00:00.350'), 60)).toEqual({
      dueAt: at('12:00:00.000'),
      latenessMs: 350,
      breached: false,
    });
  });

  test('of an instant already past when it was asked for counts from the asking', () => {
    // Approved at 11:00 to be effective since 10:00: due at 11:00, not three hours "late" at 13:00.
    expect(timedEventLateness(at('10:00:00'), at('11:00:00'), at('11:00:00.200'), 60)).toEqual({
      dueAt: at('11:00:00'),
      latenessMs: 200,
      breached: false,
    });
  });

  test('without a known request time counts from the instant', () => {
    expect(timedEventLateness(at('10:00:00'), undefined, at('11:00:00'), 60)).toEqual({
      dueAt: at('10:00:00'),
      latenessMs: 3_600_000,
      breached: true,
    });
  });

  test('breaks the SLA only beyond it: 60 s late keeps a 60 s SLA, 60.001 s does not', () => {
    expect(timedEventLateness(at('12:00:00'), undefined, at('12:01:00.000'), 60).breached).toBe(false);
    expect(timedEventLateness(at('12:00:00'), undefined, at('12:01:00.001'), 60)).toMatchObject({
      latenessMs: 60_001,
      breached: true,
    });
    expect(timedEventLateness(at('12:00:00'), undefined, at('12:00:05.001'), 5).breached).toBe(true);
  });

  test('is negative, and no breach, when the event came before its instant by the database clock', () => {
    expect(timedEventLateness(at('12:00:00'), undefined, at('11:59:59.900'), 60)).toEqual({
      dueAt: at('12:00:00'),
      latenessMs: -100,
      breached: false,
    });
  });
});

describe('the SLA alert', () => {
  const summary = (breaches: Partial<Record<(typeof TIMED_EVENTS)[number], number>>): LatenessSummary => ({
    sla_seconds: 60,
    window_hours: 24,
    events: TIMED_EVENTS.map((event) => ({
      event,
      count: 10,
      p50_seconds: 0.3,
      p99_seconds: breaches[event] ? 95 : 0.8,
      max_seconds: breaches[event] ? 125.5 : 0.9,
      sla_breaches: breaches[event] ?? 0,
    })),
  });

  test('is silent while every event kept the SLA', () => {
    expect(latenessAlerts(summary({}))).toEqual([]);
  });

  test('warns once per kind of event that broke it, with how many and the worst', () => {
    const alerts = latenessAlerts(summary({ effective: 2, escalation: 1 }));
    expect(alerts).toEqual([
      {
        severity: 'warning',
        code: 'lateness_sla_breached',
        message: '2 effective event(s) later than the 60 s lateness SLA in the last 24 hours (worst 125.5 s late)',
      },
      {
        severity: 'warning',
        code: 'lateness_sla_breached',
        message: '1 escalation event(s) later than the 60 s lateness SLA in the last 24 hours (worst 125.5 s late)',
      },
    ]);
    expect(healthScore(alerts)).toEqual({ score: 80, overallStatus: 'GOOD' });
  });
});

const suite = useDevServerApi();
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'edms-metrics-'));
});
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const latenessRows = (database: DatabaseHandle, documentId: string) =>
  database.db.select().from(schema.timedEventLateness).where(eq(schema.timedEventLateness.documentId, documentId));
const breachAudits = (database: DatabaseHandle, documentId: string) =>
  database.db
    .select()
    .from(schema.auditTrail)
    .where(and(eq(schema.auditTrail.entityId, documentId), eq(schema.auditTrail.action, 'LATENESS_SLA_BREACHED')));

describe('a timed transition', () => {
  const observed: TimedEventRecord[] = [];
  const activities = () =>
    createDocumentActivities({
      database: suite.api.database,
      // These tests start no email deliveries: the rows are what is checked.
      dispatchNotifications: async () => undefined,
      timedEvents: { slaSeconds: 60, observe: (record) => observed.push(record) },
    });
  const attempt = () =>
    new MockActivityEnvironment(
      {
        activityId: '3',
        taskQueue: 'documents',
        workflowExecution: { workflowId: `document-${randomUUID()}`, runId: randomUUID() },
      },
      { logger: new DefaultLogger('ERROR') },
    );

  /** A document approved `approvedAgoMs` ago to be effective `dueAgoMs` ago. */
  async function approvedDocument(approvedAgoMs: number, dueAgoMs: number) {
    const document = await seedDocument(suite.api.database, { reviewers: 1, approvers: 1 });
    await suite.api.database.db
      .update(schema.documents)
      .set({
        status: 'APPROVED_PENDING_EFFECTIVE',
        effectiveAt: new Date(Date.now() - dueAgoMs),
        updatedAt: new Date(Date.now() - approvedAgoMs),
      })
      .where(eq(schema.documents.id, document.id));
    return document;
  }

  const becomeEffective = (documentId: string, execution = attempt()) =>
    execution.run(activities().transitionDocument, {
      documentId,
      from: ['APPROVED_PENDING_EFFECTIVE' as const],
      to: 'EFFECTIVE' as const,
      actor: 'system_scheduler',
      auditAction: 'DOC_EFFECTIVE_PROCESSED',
    });

  test('five minutes late breaks the SLA: one lateness row, one audit entry on the document, counted once by a retry', async () => {
    observed.length = 0;
    const document = await approvedDocument(10 * 60_000, 5 * 60_000);
    const execution = attempt();
    await becomeEffective(document.id, execution);
    await becomeEffective(document.id, execution); // the same attempt retried after its commit

    const [row, ...more] = await latenessRows(suite.api.database, document.id);
    expect(more).toEqual([]);
    expect(row).toMatchObject({ event: 'effective', breached: true, slaSeconds: 60 });
    expect(row!.latenessMs).toBeGreaterThanOrEqual(5 * 60_000);
    expect(row!.latenessMs).toBeLessThan(6 * 60_000);
    const audits = await breachAudits(suite.api.database, document.id);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor: 'system_scheduler', entityType: 'document' });
    expect(audits[0]!.details).toMatchObject({
      event: 'effective',
      sla_seconds: 60,
      due_at: row!.dueAt.toISOString(),
      lateness_seconds: row!.latenessMs / 1000,
    });
    expect(observed).toEqual([
      expect.objectContaining({ event: 'effective', documentId: document.id, breached: true }),
    ]);
  });

  test('of an instant that had passed at approval is due at the approval', async () => {
    // Approved 2 s ago with an effective instant an hour before: 2 s late, not an hour.
    const document = await approvedDocument(2000, 3_600_000);
    await becomeEffective(document.id);
    const [row] = await latenessRows(suite.api.database, document.id);
    expect(row).toMatchObject({ event: 'effective', breached: false });
    expect(row!.latenessMs).toBeGreaterThanOrEqual(2000);
    expect(row!.latenessMs).toBeLessThan(60_000);
    expect(await breachAudits(suite.api.database, document.id)).toEqual([]);
  });
});

test('a reminder two minutes after its instant breaks a 60 s SLA and names its task', async () => {
  const activities = createDocumentActivities({
    database: suite.api.database,
    dispatchNotifications: async () => undefined,
    timedEvents: { slaSeconds: 60 },
  });
  const document = await seedDocument(suite.api.database, { reviewers: 1, approvers: 1 });
  const execution = () =>
    new MockActivityEnvironment(
      {
        activityId: randomUUID(),
        taskQueue: 'documents',
        workflowExecution: { workflowId: `document-${document.id}`, runId: randomUUID() },
      },
      { logger: new DefaultLogger('ERROR') },
    );
  const dueAt = new Date(Date.now() - 120_000).toISOString();
  const [task] = (await execution().run(activities.openReviewRound, {
    documentId: document.id,
    round: 1,
    kind: 'review' as const,
    dueAt,
  })) as { taskId: string }[];
  await execution().run(activities.notifyOverdueTask, {
    taskId: task!.taskId,
    kind: 'review_reminder' as const,
    at: dueAt,
  });

  const [row, ...more] = await latenessRows(suite.api.database, document.id);
  expect(more).toEqual([]);
  expect(row).toMatchObject({ event: 'reminder', taskId: task!.taskId, breached: true, dueAt: new Date(dueAt) });
  expect(row!.latenessMs).toBeGreaterThanOrEqual(120_000);
  expect((await breachAudits(suite.api.database, document.id))[0]!.details).toMatchObject({
    event: 'reminder',
    task_id: task!.taskId,
  });
});

describe('GET /metrics', () => {
  test('after a document becomes EFFECTIVE: the worker reports its lateness, its emails and the SDK series; the API counts documents and lateness', async () => {
    const metricsPort = await freePort();
    const worker = await startWorkerProcess(suite.env, dataDir, { WORKER_METRICS_PORT: String(metricsPort) });
    const workerMetrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    try {
      const before = await workerMetrics();
      expect(sample(before, 'edms_timed_event_lateness_seconds_count', { service: 'worker', event: 'effective' })).toBe(
        0,
      );

      const [id] = await approveDocuments(suite.api, 1, Date.now() + 3000);
      await waitFor(
        async () => ((await latenessRows(suite.api.database, id!)).length > 0 ? true : undefined),
        60_000,
        200,
      );
      const [row] = await latenessRows(suite.api.database, id!);
      expect(row).toMatchObject({ event: 'effective', breached: false });
      expect(row!.latenessMs).toBeLessThan(60_000);

      // The author's "effective" email is delivered by the same worker.
      const text = await waitFor(async () => {
        const current = await workerMetrics();
        const sent = sample(current, 'edms_email_deliveries_total', { service: 'worker', outcome: 'sent' }) ?? 0;
        // Two review-assigned emails, the approval's and the effective one.
        return sent >= 4 ? current : undefined;
      }, 60_000);
      const effective = { service: 'worker', event: 'effective' };
      expect(sample(text, 'edms_timed_event_lateness_seconds_count', effective)).toBe(1);
      expect(sample(text, 'edms_timed_event_lateness_seconds_sum', effective)).toBeCloseTo(
        Math.max(0, row!.latenessMs) / 1000,
        3,
      );
      expect(sample(text, 'edms_timed_event_sla_breaches_total', effective)).toBe(0);
      expect(sample(text, 'edms_email_deliveries_total', { outcome: 'failed' }) ?? 0).toBe(0);
      expect(sample(text, 'process_resident_memory_bytes', { service: 'worker' })).toBeGreaterThan(0);
      // The Temporal SDK's own series, relayed from its exporter.
      expect(
        sample(text, 'temporal_num_pollers', { task_queue: 'documents', poller_type: 'workflow_task' }),
      ).toBeGreaterThan(0);
      expect(
        sample(text, 'temporal_workflow_task_schedule_to_start_latency_count', { task_queue: 'documents' }),
      ).toBeGreaterThan(0);

      const api = await suite.api.app.inject({ url: '/metrics' });
      expect(api.statusCode).toBe(200);
      expect(api.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      // The test database is shared with other suites: counts include their documents.
      expect(sample(api.body, 'edms_documents', { status: 'EFFECTIVE', service: 'api' })).toBeGreaterThanOrEqual(1);
      expect(sample(api.body, 'edms_timed_event_lateness_p99_seconds_24h', { event: 'effective' })).toEqual(
        expect.any(Number),
      );
      expect(sample(api.body, 'edms_timed_event_sla_breaches_24h', { event: 'reminder' })).toEqual(expect.any(Number));
      expect(sample(api.body, 'edms_overdue_tasks', { kind: 'review' })).toEqual(expect.any(Number));
      expect(sample(api.body, 'edms_notifications', { status: 'sent' })).toBeGreaterThanOrEqual(4);
      expect(
        sample(api.body, 'edms_http_request_duration_seconds_count', {
          method: 'POST',
          route: '/api/v1/documents/:id/approve',
          status_code: '200',
        }),
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await worker.stop('SIGTERM');
    }
  });
});

test('with Temporal unreachable, the API still answers /metrics: the database series, without the schedule families, whose absence is counted in that very scrape', async () => {
  // No Temporal address: the API's client points at a closed port.
  const offline = await buildTestApi();
  try {
    const response = await offline.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(sample(response.body, 'edms_documents', { status: 'DRAFT' })).toEqual(expect.any(Number));
    expect(sample(response.body, 'edms_schedule_actions', { schedule: 'backup-daily-full' })).toBeUndefined();
    expect(sample(response.body, 'edms_metrics_collect_failures_total', { family: 'edms_schedule_actions' })).toBe(1);
    expect(sample(response.body, 'edms_metrics_collect_failures_total', { family: 'edms_documents' })).toBe(0);
  } finally {
    await offline.close();
  }
});

describe('edms_metrics_collect_failures_total', () => {
  const FAMILIES = [
    'edms_documents',
    'edms_overdue_tasks',
    'edms_task_executions',
    'edms_schedule_actions',
    'edms_schedule_missed_catchup_window',
    'edms_schedule_skipped_overlap',
    'edms_backup_last_success_timestamp_seconds',
    'edms_backup_last_size_bytes',
    'edms_job_executions',
    'edms_notifications',
    'edms_timed_event_lateness_p99_seconds_24h',
    'edms_timed_event_sla_breaches_24h',
  ];
  const SCHEDULE_FAMILIES = FAMILIES.filter((family) => family.startsWith('edms_schedule_'));

  test('has every family at 0 before any failure, counts a failure in the scrape that meets it, and logs it', async () => {
    const warnings: { family?: string; err?: { message?: string }; msg?: string }[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
    // The health probe's kind of connection, on a port where nothing listens.
    const closed = createProbeConnection(plainTemporalSettings('127.0.0.1:1'));
    const registry = new Registry();
    registerBusinessMetrics(registry, {
      db: suite.api.database.db,
      temporal: new Client({ connection: closed, namespace: 'default' }),
      latenessSlaSeconds: 60,
      log,
    });
    try {
      const before = await registry.getSingleMetricAsString('edms_metrics_collect_failures_total');
      for (const family of FAMILIES)
        expect([family, sample(before, 'edms_metrics_collect_failures_total', { family })]).toEqual([family, 0]);

      const first = await registry.metrics();
      for (const family of FAMILIES) {
        const failed = SCHEDULE_FAMILIES.includes(family) ? 1 : 0;
        expect([family, sample(first, 'edms_metrics_collect_failures_total', { family })]).toEqual([family, failed]);
      }
      for (const family of SCHEDULE_FAMILIES) {
        expect(first.split('\n').filter((line) => line.startsWith(`${family}{`))).toEqual([]);
      }
      expect(sample(first, 'edms_documents', { status: 'DRAFT' })).toEqual(expect.any(Number));
      expect(warnings.map((warning) => warning.family).sort()).toEqual([...SCHEDULE_FAMILIES].sort());
      for (const warning of warnings) expect(warning.err?.message).toEqual(expect.any(String));
    } finally {
      await closed.close();
    }
  });
});

test('edms_email_deliveries_total has every delivery outcome at 0 from the start', async () => {
  const registry = createRegistry('worker');
  createWorkerMetrics(registry, EMAIL_DELIVERY_OUTCOMES);
  const text = await registry.getSingleMetricAsString('edms_email_deliveries_total');
  for (const outcome of ['sent', 'already_sent', 'busy', 'missing', 'failed']) {
    expect([outcome, sample(text, 'edms_email_deliveries_total', { outcome })]).toEqual([outcome, 0]);
  }
});

describe('lateness percentiles', () => {
  // The window is global: a database of its own holds exactly the events of this test.
  let scratch: { database: DatabaseHandle; drop: () => Promise<void> };
  beforeAll(async () => {
    const url = new URL(testDatabaseUrl());
    const name = `${url.pathname.slice(1)}_percentiles`;
    const maintenance = connectDatabase(testDatabaseUrl(), { max: 1 });
    await maintenance.sql.unsafe(`create database "${name}"`);
    url.pathname = `/${name}`;
    await runMigrations(url.toString());
    const database = connectDatabase(url.toString());
    scratch = {
      database,
      drop: async () => {
        await database.close();
        await maintenance.sql.unsafe(`drop database if exists "${name}" with (force)`);
        await maintenance.close();
      },
    };
  });
  afterAll(() => scratch?.drop());

  test('are nearest-rank: of two events 0.034 s and 70.44 s late, p50 is 0.034 s and p99 70.44 s', async () => {
    const documentId = randomUUID();
    await scratch.database.db.insert(schema.timedEventLateness).values(
      [34, 70_440].map((latenessMs) => ({
        event: 'effective' as const,
        documentId,
        dueAt: new Date(Date.now() - 100_000),
        latenessMs,
        slaSeconds: 60,
        breached: latenessMs > 60_000,
        idempotencyKey: `test:${randomUUID()}`,
      })),
    );
    const { events } = await latenessSummary(scratch.database.db, 60);
    expect(events.find((event) => event.event === 'effective')).toEqual({
      event: 'effective',
      count: 2,
      p50_seconds: 0.034,
      p99_seconds: 70.44,
      max_seconds: 70.44,
      sla_breaches: 1,
    });
  });
});

describe('the monitoring status', () => {
  test('reports the last 24 hours of lateness per event and alerts on a breach', async () => {
    const admin = await suite.api.as('admin');
    const document = await seedDocument(suite.api.database, { reviewers: 1, approvers: 1 });
    await suite.api.database.db.insert(schema.timedEventLateness).values({
      event: 'obsolete',
      documentId: document.id,
      dueAt: new Date(Date.now() - 200_000),
      occurredAt: new Date(Date.now() - 10_000),
      latenessMs: 190_000,
      slaSeconds: 60,
      breached: true,
      idempotencyKey: `test:${randomUUID()}`,
    });
    const response = await suite.api.app.inject({
      url: '/api/v1/scheduler/monitoring/status/',
      headers: { authorization: admin.authorization },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{
      lateness: LatenessSummary;
      alerts: { code: string; message: string }[];
    }>();
    expect(body.lateness.sla_seconds).toBe(60);
    expect(body.lateness.window_hours).toBe(24);
    expect(body.lateness.events.map((event) => event.event)).toEqual([...TIMED_EVENTS]);
    const obsolete = body.lateness.events.find((event) => event.event === 'obsolete')!;
    expect(obsolete.sla_breaches).toBeGreaterThanOrEqual(1);
    expect(obsolete.max_seconds).toBeGreaterThanOrEqual(190);
    expect(body.alerts).toContainEqual(
      expect.objectContaining({
        code: 'lateness_sla_breached',
        message: expect.stringMatching(/^\d+ obsolete event\(s\) later than the 60 s lateness SLA/),
      }),
    );
  });
});
