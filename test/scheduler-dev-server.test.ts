import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { and, eq, gte, inArray } from 'drizzle-orm';
import { SYSTEM_TASK_NAMES } from '../common';
import { schema } from '../db';
import { SYSTEM_SCHEDULES, syncSchedules } from '../schedules/system-schedules';
import { useDevServerApi } from './helpers/suite';
import {
  systemTasksWithoutDatabase,
  TEST_BACKUP_DIR,
  withQueueWorkers,
  triggerScheduleFromCli,
} from './helpers/temporal';
import { waitFor } from './helpers/wait';

/**
 * Schedules need the dev server (the time-skipping server has no Schedule API): the real CLI binary
 * triggers them, and runs land in the database like any other.
 */
const suite = useDevServerApi();
const TIMEZONE = 'Europe/Berlin';

afterAll(() => rm(TEST_BACKUP_DIR, { recursive: true, force: true }));

async function systemScheduleIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const schedule of suite.env.client.schedule.list()) ids.push(schedule.scheduleId);
  return ids.filter((id) => SYSTEM_SCHEDULES.some((s) => s.scheduleId === id)).sort();
}

test('schedule sync creates every system schedule once, keeps it on a second run, and repairs a changed spec', async () => {
  const first = await syncSchedules(suite.env.client, TIMEZONE);
  expect(first.created.sort()).toEqual(SYSTEM_SCHEDULES.map((s) => s.scheduleId).sort());
  const second = await syncSchedules(suite.env.client, TIMEZONE);
  expect(second).toEqual({ created: [], updated: SYSTEM_SCHEDULES.map((s) => s.scheduleId) });
  // Listing is eventually consistent: wait until every schedule shows, then check none is doubled.
  const ids = await waitFor(async () => {
    const listed = await systemScheduleIds();
    return listed.length >= SYSTEM_SCHEDULES.length ? listed : undefined;
  });
  expect(ids).toEqual(SYSTEM_SCHEDULES.map((s) => s.scheduleId).sort());

  const effective = await suite.env.client.schedule.getHandle('process-document-effective-dates').describe();
  expect(effective.spec.timezone).toBe(TIMEZONE);
  // The first calendar is the plain hourly one; the others leave DST transition days to exact instants.
  expect(effective.spec.calendars?.[0]).toEqual(
    expect.objectContaining({ minute: [{ start: 0, end: 0, step: 1 }], hour: [{ start: 0, end: 23, step: 1 }] }),
  );
  expect(effective.action).toMatchObject({
    type: 'startWorkflow',
    workflowType: 'systemTask',
    taskQueue: 'scheduler',
    args: [
      {
        taskName: 'process_document_effective_dates',
        trigger: 'schedule',
        scheduleId: 'process-document-effective-dates',
      },
    ],
  });
  expect(effective.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 3_600_000 });
  const obsoletion = await suite.env.client.schedule.getHandle('process-document-obsoletion-dates').describe();
  expect(obsoletion.spec.calendars?.[0]).toMatchObject({ minute: [{ start: 15, end: 15, step: 1 }] });
  const weekly = await suite.env.client.schedule.getHandle('weekly-comprehensive-cleanup').describe();
  expect(weekly.spec.calendars?.[0]).toMatchObject({
    hour: [{ start: 2, end: 2, step: 1 }],
    dayOfWeek: [{ start: 'SUNDAY', end: 'SUNDAY', step: 1 }],
  });
  expect(weekly.action).toMatchObject({ taskQueue: 'maintenance' });
  const queue = await suite.env.client.schedule.getHandle('process-notification-queue').describe();
  expect(queue.spec.intervals).toMatchObject([{ every: 300_000 }]);
  const health = await suite.env.client.schedule.getHandle('perform-system-health-check').describe();
  expect(health.spec.intervals).toMatchObject([{ every: 1_800_000 }]);

  const monthly = await suite.env.client.schedule.getHandle('backup-monthly-archive').describe();
  expect(monthly.spec.calendars?.[0]).toMatchObject({
    dayOfMonth: [{ start: 1, end: 1, step: 1 }],
    hour: [{ start: 4, end: 4, step: 1 }],
  });
  expect(monthly.action).toMatchObject({
    taskQueue: 'maintenance',
    args: [
      { taskName: 'run_scheduled_backup', options: { backupType: 'archive' }, scheduleId: 'backup-monthly-archive' },
    ],
  });
  expect(SYSTEM_SCHEDULES).toHaveLength(13);

  // Someone edits a schedule by hand and pauses it: sync restores the spec and keeps the pause.
  const handle = suite.env.client.schedule.getHandle('cleanup-execution-history');
  await handle.update((previous) => ({ ...previous, spec: { cronExpressions: ['7 7 * * *'], timezone: 'UTC' } }));
  // A schedule applies an update and a pause as requests to its own workflow, a moment later and not
  // always in the order sent: each is seen applied before the next is made, so the edit cannot undo
  // the pause and sync meets both.
  await waitFor(async () => ((await handle.describe()).spec.calendars?.[0]?.hour?.[0]?.start === 7 ? true : undefined));
  await handle.pause('paused for the audit');
  await waitFor(async () => ((await handle.describe()).state.paused ? true : undefined));
  await syncSchedules(suite.env.client, TIMEZONE);
  const repaired = await handle.describe();
  expect(repaired.spec.timezone).toBe(TIMEZONE);
  expect(repaired.spec.calendars?.[0]).toMatchObject({
    hour: [{ start: 3, end: 3, step: 1 }],
    minute: [{ start: 0, end: 0, step: 1 }],
  });
  expect(repaired.state).toMatchObject({ paused: true, note: 'paused for the audit' });
  await handle.unpause();
});

test('`temporal schedule trigger` runs the health check, recorded like any run and listed by the API', async () => {
  await syncSchedules(suite.env.client, TIMEZONE);
  const admin = await suite.api.as('admin');
  await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
    const since = new Date();
    await triggerScheduleFromCli(suite.env, 'perform-system-health-check');
    const recorded = await waitFor(async () => {
      const [row] = await suite.api.database.db
        .select()
        .from(schema.taskExecutions)
        .where(
          and(
            eq(schema.taskExecutions.scheduleId, 'perform-system-health-check'),
            eq(schema.taskExecutions.status, 'succeeded'),
            gte(schema.taskExecutions.startedAt, since),
          ),
        );
      return row;
    });
    expect(recorded).toMatchObject({ taskName: 'perform_system_health_check', triggeredBy: 'system_scheduler' });
    expect(['schedule', 'cli']).toContain(recorded.trigger);
    expect(recorded.workflowId).toMatch(/^perform-system-health-check-/);

    const listed = await suite.api.app.inject({
      url: '/api/v1/scheduler/tasks/perform_system_health_check/executions?limit=5',
      headers: { authorization: admin.authorization },
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().executions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: recorded.id, status: 'succeeded', result: expect.any(Object) }),
      ]),
    );
  });
});

test('manual trigger over HTTP answers the documented body and audits start and end; bad requests change nothing', async () => {
  const admin = await suite.api.as('admin');
  const author = await suite.api.as('author');
  const trigger = (who: { authorization: string }, body: unknown) =>
    suite.api.app.inject({
      method: 'POST',
      url: '/api/v1/scheduler/monitoring/manual-trigger/',
      headers: { authorization: who.authorization },
      payload: body as object,
    });
  await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
    expect((await trigger(author, { task_name: 'perform_system_health_check' })).statusCode).toBe(403);
    const unknown = await trigger(admin, { task_name: 'reboot_everything' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({
      code: 'unknown_task',
      details: { valid_task_names: [...SYSTEM_TASK_NAMES] },
    });
    const noDryRun = await trigger(admin, { task_name: 'send_daily_summary', dry_run: true });
    expect(noDryRun.statusCode).toBe(400);
    expect(noDryRun.json().error.code).toBe('dry_run_unsupported');

    const response = await trigger(admin, { task_name: 'perform_system_health_check' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      success: true,
      task_name: 'perform_system_health_check',
      task_display_name: 'System health check',
      execution_time: expect.any(String),
      duration_seconds: expect.any(Number),
      dry_run: false,
      executed_by: admin.username,
      result: { status: expect.stringMatching(/^(HEALTHY|UNHEALTHY|CRITICAL)$/), checks: expect.any(Object) },
    });
    const audit = await suite.api.database.db
      .select()
      .from(schema.auditTrail)
      .where(
        inArray(schema.auditTrail.action, [
          'TASK_EXECUTION_STARTED',
          'SYSTEM_HEALTH_CHECKED',
          'TASK_EXECUTION_COMPLETED',
        ]),
      )
      .orderBy(schema.auditTrail.id);
    const ofThisRun = audit.filter(
      (entry) => entry.entityId === body.execution_id || (entry.details as { status?: string }).status !== undefined,
    );
    expect(ofThisRun.filter((a) => a.entityId === body.execution_id).map((a) => [a.action, a.actor])).toEqual([
      ['TASK_EXECUTION_STARTED', admin.username],
      ['TASK_EXECUTION_COMPLETED', admin.username],
    ]);
    const [verdict] = await suite.api.database.db
      .select()
      .from(schema.systemHealthChecks)
      .where(eq(schema.systemHealthChecks.executionId, body.execution_id));
    expect(audit.some((a) => a.action === 'SYSTEM_HEALTH_CHECKED' && a.entityId === verdict!.id)).toBe(true);

    const dry = await trigger(admin, { task_name: 'cleanup_workflow_tasks', dry_run: true });
    expect(dry.json()).toMatchObject({ success: true, dry_run: true, result: { dry_run: true, cancelled_count: 0 } });
  });
});

test('the status endpoint shows a failed task and a paused schedule as alerts, and every task', async () => {
  await syncSchedules(suite.env.client, TIMEZONE);
  const admin = await suite.api.as('admin');
  const broken = await systemTasksWithoutDatabase(suite.env);
  const post = (url: string, payload?: object) =>
    suite.api.app.inject({ method: 'POST', url, headers: { authorization: admin.authorization }, payload });

  await withQueueWorkers(
    suite.env,
    { database: suite.api.database, activities: { checkWorkflowTimeouts: broken.checkWorkflowTimeouts } },
    async () => {
      const failed = await post('/api/v1/scheduler/monitoring/manual-trigger/', {
        task_name: 'check_workflow_timeouts',
      });
      expect(failed.statusCode).toBe(200);
      expect(failed.json()).toMatchObject({ success: false, error: expect.stringContaining('CONNECTION_ENDED') });

      const paused = await post('/api/v1/scheduler/schedules/send-daily-summary/pause', {
        note: 'mail server migration',
      });
      expect(paused.statusCode).toBe(200);
      expect(paused.json()).toMatchObject({ paused: true, note: `paused by ${admin.username}: mail server migration` });
      expect((await post('/api/v1/scheduler/schedules/no-such-schedule/pause', {})).statusCode).toBe(404);

      const status = await suite.api.app.inject({
        url: '/api/v1/scheduler/monitoring/status/',
        headers: { authorization: admin.authorization },
      });
      expect(status.statusCode).toBe(200);
      const body = status.json();
      expect(body.alerts).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            severity: 'warning',
            code: 'task_failed',
            message: expect.stringContaining('check_workflow_timeouts'),
          }),
          expect.objectContaining({
            severity: 'warning',
            code: 'schedule_paused',
            message: expect.stringContaining('send-daily-summary'),
          }),
        ]),
      );
      expect(body.overall_status).toMatch(/^(EXCELLENT|GOOD|WARNING|CRITICAL)$/);
      expect(body.health_score).toBeLessThanOrEqual(80);
      expect(body.workers.task_queues.scheduler.status).toBe('up');
      expect(body.schedules_running).toBe(SYSTEM_SCHEDULES.length - 1);
      expect(Object.keys(body.available_tasks).sort()).toEqual([...SYSTEM_TASK_NAMES].sort());
      expect(body.available_tasks.send_daily_summary).toMatchObject({
        schedule_id: 'send-daily-summary',
        schedule: 'daily at 08:00',
        paused: true,
        supports_dry_run: false,
      });
      expect(body.available_tasks.check_workflow_timeouts.last_run).toMatchObject({ status: 'failed' });
      expect(body.available_tasks.perform_system_health_check.next_run_times.length).toBeGreaterThan(0);

      const unpaused = await post('/api/v1/scheduler/schedules/send-daily-summary/unpause', { note: 'done' });
      expect(unpaused.json()).toMatchObject({ paused: false });
      const audit = await suite.api.database.db
        .select()
        .from(schema.auditTrail)
        .where(eq(schema.auditTrail.entityId, 'send-daily-summary'))
        .orderBy(schema.auditTrail.id);
      expect(audit.map((a) => [a.action, a.actor, (a.details as { note: string }).note])).toEqual([
        ['SCHEDULE_PAUSED', admin.username, 'mail server migration'],
        ['SCHEDULE_UNPAUSED', admin.username, 'done'],
      ]);
    },
  );
});

test('a backup run now over HTTP is listed, described with its manifest and downloadable', async () => {
  const admin = await suite.api.as('admin');
  const author = await suite.api.as('author');
  const get = (url: string, who = admin) =>
    suite.api.app.inject({ url, headers: { authorization: who.authorization } });
  await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
    const run = await suite.api.app.inject({
      method: 'POST',
      url: '/api/v1/scheduler/monitoring/manual-trigger/',
      headers: { authorization: admin.authorization },
      payload: { task_name: 'run_scheduled_backup', backup_type: 'full' },
    });
    expect(run.json()).toMatchObject({ success: true, result: { type: 'full', backup_run_id: expect.any(String) } });
    const backupId = run.json().result.backup_run_id as string;

    expect((await get('/api/v1/backups', author)).statusCode).toBe(403);
    const listed = await get('/api/v1/backups?type=full&status=succeeded');
    expect(listed.statusCode).toBe(200);
    expect(listed.json().backups[0]).toMatchObject({ id: backupId, backup_type: 'full', status: 'succeeded' });

    const described = await get(`/api/v1/backups/${backupId}`);
    expect(described.json()).toMatchObject({
      id: backupId,
      manifest: { files: expect.any(Array), row_counts: expect.objectContaining({ documents: expect.any(Number) }) },
      verification: { checksums_ok: true },
    });

    const download = await get(`/api/v1/backups/${backupId}/download`);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/gzip');
    expect(createHash('sha256').update(download.rawPayload).digest('hex')).toBe(described.json().sha256);
    expect(download.headers['x-checksum-sha256']).toBe(described.json().sha256);

    expect((await get('/api/v1/backups/9b2f6a9e-2f55-4a43-9c1e-0a7d0c6f0c11')).statusCode).toBe(404);
    expect((await get('/api/v1/backups/not-a-uuid')).statusCode).toBe(400);
  });
});
