import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScheduleNotFoundError } from '@temporalio/client';
import { Cron } from 'croner';
import { and, eq } from 'drizzle-orm';
import { JOB_TEMPLATES } from '../jobs/templates';
import { JOB_TEMPLATE_IDS, jobScheduleId } from '../common';
import { schema } from '../db';
import { syncJobSchedules } from '../schedules/job-schedules';
import { buildTestApi } from './helpers/api';
import { TEST_JOB_SETTINGS, withQueueWorkers, triggerScheduleFromCli } from './helpers/temporal';
import { waitFor } from './helpers/wait';
import { useDevServerApi } from './helpers/suite';

/** Job schedules need the dev server: the time-skipping server has no Schedule API. */
// Its webhook jobs call a loopback server, as TEST_JOB_SETTINGS lets the worker do.
const suite = useDevServerApi({ outboundPolicy: TEST_JOB_SETTINGS.outboundPolicy });
let admin: { authorization: string; username: string };
let hooks: http.Server;
let hookUrl: string;

beforeAll(async () => {
  admin = await suite.api.as('admin');
  hooks = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"received":true}');
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  hooks?.closeAllConnections();
  await new Promise((resolve) => hooks?.close(resolve));
});

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
const call = (
  method: Method,
  url: string,
  payload?: unknown,
  who: { authorization: string } = admin,
  target = suite.api,
) =>
  target.app.inject({
    method,
    url: `/api/v1/scheduler-jobs${url}`,
    headers: { authorization: who.authorization },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const webhookJob = (fields: Record<string, unknown> = {}) => ({
  name: `hook-${randomUUID().slice(0, 8)}`,
  template_type: 'webhook_trigger',
  parameters: { url: hookUrl, method: 'POST', body: { source: 'edms' } },
  schedule: { cron: '0 8,12,18 * * 1-5' },
  timezone: 'Europe/Berlin',
  ...fields,
});

async function createJob(fields: Record<string, unknown> = {}) {
  const response = await call('POST', '', webhookJob(fields));
  expect(response.statusCode).toBe(201);
  return response.json();
}

const describeSchedule = (jobId: string) => suite.env.client.schedule.getHandle(jobScheduleId(jobId)).describe();

test('the templates list each template with its parameters schema; only admins see it', async () => {
  const response = await call('GET', '/templates');
  expect(response.statusCode).toBe(200);
  const { templates } = response.json();
  expect(templates.map((t: { id: string }) => t.id)).toEqual([...JOB_TEMPLATE_IDS]);
  // Exactly the registry's fields and values (test/job-templates.test.ts pins the field list).
  expect(templates).toEqual(JSON.parse(JSON.stringify(Object.values(JOB_TEMPLATES))));
  for (const template of templates) expect(template.parameters_schema).toMatchObject({ type: 'object' });
  expect((await call('GET', '/templates', undefined, await suite.api.as('author'))).statusCode).toBe(403);
});

test('a job created with a cron becomes the Temporal Schedule job-<id>, whose next run times the job shows', async () => {
  const job = await createJob({ overlap: 'buffer_one', timeout_seconds: 120 });
  expect(job).toMatchObject({
    status: 'active',
    version: 1,
    template_type: 'webhook_trigger',
    schedule_id: `job-${job.id}`,
    timezone: 'Europe/Berlin',
    retry_policy: { max_attempts: 3, initial_interval_seconds: 60, backoff_coefficient: 2 },
    notifications: { on_failure: [], on_success: [] },
    created_by: admin.username,
  });
  const expected = new Cron('0 8,12,18 * * 1-5', { timezone: 'Europe/Berlin' }).nextRuns(5);
  expect(job.next_run_times).toEqual(expected.map((at) => at.toISOString()));

  const schedule = await describeSchedule(job.id);
  expect(schedule.spec.timezone).toBe('Europe/Berlin');
  expect(schedule.policies.overlap).toBe('BUFFER_ONE');
  expect(schedule.action).toMatchObject({
    type: 'startWorkflow',
    workflowType: 'schedulerJob',
    taskQueue: 'scheduler',
    args: [{ jobId: job.id, trigger: 'schedule' }],
  });
  const fetched = await call('GET', `/${job.id}`);
  expect(fetched.json().next_run_times).toEqual(job.next_run_times);
});

test('weekly, monthly and once recurrences give the run times they say, as Temporal computes them', async () => {
  const weekly = await createJob({
    schedule: undefined,
    recurrence_type: 'weekly',
    recurrence_config: { time: '14:00', days: [1, 3, 5] },
    timezone: 'America/New_York',
  });
  for (const at of weekly.next_run_times as string[]) {
    const local = new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(at));
    expect(local).toMatch(/^(Mon|Wed|Fri) 14:00$/);
  }
  expect(weekly.next_run_times).toHaveLength(5);

  const monthly = await createJob({
    schedule: undefined,
    recurrence_type: 'monthly',
    recurrence_config: { time: '06:30', day_of_month: 15 },
    timezone: 'UTC',
  });
  for (const at of monthly.next_run_times as string[]) expect(at).toMatch(/^\d{4}-\d{2}-15T06:30:00\.000Z$/);

  const runAt = new Date(Date.now() + 3 * 24 * 3600 * 1000);
  runAt.setUTCMilliseconds(0);
  const once = await createJob({
    schedule: undefined,
    recurrence_type: 'once',
    recurrence_config: { run_at: runAt.toISOString() },
  });
  expect(once.next_run_times).toEqual([runAt.toISOString()]);
  const schedule = await describeSchedule(once.id);
  expect(schedule.state.remainingActions).toBe(1);
});

test('invalid schedules and parameters are 400s naming the field, and create nothing', async () => {
  const before = await suite.api.database.db.$count(schema.schedulerJobs);
  const cases: [Record<string, unknown>, string, string][] = [
    [{ schedule: { cron: '61 * * * *' } }, 'invalid_schedule', 'schedule.cron'],
    [
      { schedule: undefined, recurrence_type: 'daily', recurrence_config: { time: '25:00' } },
      'invalid_schedule',
      'recurrence_config.time',
    ],
    [
      { schedule: undefined, recurrence_type: 'monthly', recurrence_config: { time: '08:00', day_of_month: 32 } },
      'invalid_schedule',
      'recurrence_config.day_of_month',
    ],
    [{ start_at: '2030-02-01T00:00:00Z', end_at: '2030-01-01T00:00:00Z' }, 'invalid_schedule', 'end_at'],
    [{ parameters: { url: 'ftp://example.com/x' } }, 'invalid_parameters', 'parameters.url'],
    [
      { template_type: 'database_cleanup', parameters: { table: 'audit_trail', older_than_days: 1 } },
      'invalid_parameters',
      'parameters.table',
    ],
    [{ template_type: 'backup', parameters: { config: 'no-such-config' } }, 'invalid_parameters', 'parameters.config'],
  ];
  for (const [fields, code, field] of cases) {
    const response = await call('POST', '', webhookJob(fields));
    expect({ fields, status: response.statusCode, code: response.json().error.code }).toEqual({
      fields,
      status: 400,
      code,
    });
    expect(response.json().error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  }
  const schemaError = await call('POST', '', webhookJob({ overlap: 'whenever' }));
  expect(schemaError.statusCode).toBe(400);
  expect(schemaError.json().error.code).toBe('validation_failed');
  expect(await suite.api.database.db.$count(schema.schedulerJobs)).toBe(before);
});

test('pause with a note and resume act on the schedule and the job', async () => {
  const job = await createJob();
  const paused = await call('POST', `/${job.id}/pause`, { note: 'audit week' });
  expect(paused.statusCode).toBe(200);
  expect(paused.json()).toMatchObject({ status: 'paused', pause_note: 'audit week', version: 2 });
  const schedule = await describeSchedule(job.id);
  expect(schedule.state.paused).toBe(true);
  expect(schedule.state.note).toContain('audit week');

  const resumed = await call('POST', `/${job.id}/resume`);
  expect(resumed.json()).toMatchObject({ status: 'active', pause_note: null, version: 3 });
  expect((await describeSchedule(job.id)).state.paused).toBe(false);
  const audit = await suite.api.database.db
    .select({ action: schema.auditTrail.action })
    .from(schema.auditTrail)
    .where(eq(schema.auditTrail.entityId, job.id))
    .orderBy(schema.auditTrail.occurredAt, schema.auditTrail.id);
  expect(audit.map((a) => a.action)).toEqual(['JOB_CREATED', 'JOB_PAUSED', 'JOB_RESUMED']);
});

test('run now starts a run that lands in the executions; temporal schedule trigger is recorded as cli', async () => {
  const job = await createJob();
  await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
    const started = await call('POST', `/${job.id}/run`, {});
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ status: 'running', triggered_by: `manual:${admin.username}` });
    const manual = await waitFor(async () => {
      const { executions } = (await call('GET', `/${job.id}/executions?status=completed`)).json();
      return executions.length === 1 ? executions[0] : undefined;
    });
    expect(manual).toMatchObject({
      job_id: job.id,
      job_name: job.name,
      template_type: 'webhook_trigger',
      status: 'completed',
      attempt: 1,
      triggered_by: `manual:${admin.username}`,
      workflow_id: started.json().workflow_id,
      result: { status: 200 },
      execution_host: expect.stringMatching(/@/),
    });

    await triggerScheduleFromCli(suite.env, jobScheduleId(job.id));
    const cli = await waitFor(async () => {
      const { executions } = (await call('GET', `/${job.id}/executions`)).json();
      return executions.find(
        (e: { triggered_by: string; status: string }) => e.triggered_by === 'cli' && e.status === 'completed',
      );
    });
    expect(cli.workflow_id).toMatch(new RegExp(`^job-${job.id}-`));
  });
  const backup = await createJob({ template_type: 'backup', parameters: { config: 'on-demand-full' } });
  const dry = await call('POST', `/${backup.id}/run`, { dry_run: true });
  expect(dry.statusCode).toBe(400);
  expect(dry.json().error.code).toBe('dry_run_unsupported');

  const stats = (await call('GET', '/stats')).json();
  expect(stats).toMatchObject({
    total_jobs: expect.any(Number),
    running_now: expect.any(Number),
    success_rate_24h: expect.any(Number),
    avg_duration_seconds: expect.any(Number),
  });
  expect(stats.total_runs).toBeGreaterThanOrEqual(2);
  // The five jobs with the most runs in the whole database, which other suites share: this job's two
  // runs are listed unless five jobs with as many runs or more fill the list.
  const top = stats.top_jobs_by_runs as { job_id: string; job_name: string; runs: number }[];
  const listed = top.find((entry) => entry.job_id === job.id);
  if (listed) expect(listed).toEqual({ job_id: job.id, job_name: job.name, runs: 2 });
  else expect(top.filter((entry) => entry.runs >= 2)).toHaveLength(5);
});

test('an update based on the current version changes the schedule in place; a stale version is a 409 that changes nothing', async () => {
  const job = await createJob();
  const { id, version, ...rest } = job;
  const definition = {
    name: rest.name,
    template_type: rest.template_type,
    parameters: rest.parameters,
    timezone: 'UTC',
    schedule: { interval_seconds: 7200 },
  };
  const updated = await call('PUT', `/${id}`, { ...definition, version });
  expect(updated.statusCode).toBe(200);
  expect(updated.json()).toMatchObject({ version: version + 1, schedule: { interval_seconds: 7200 }, timezone: 'UTC' });
  const schedule = await describeSchedule(id);
  expect(schedule.spec.intervals).toMatchObject([{ every: 7_200_000 }]);
  for (const at of updated.json().next_run_times as string[]) expect(new Date(at).getTime() % 7_200_000).toBe(0);

  const stale = await call('PUT', `/${id}`, { ...definition, schedule: { interval_seconds: 600 }, version });
  expect(stale.statusCode).toBe(409);
  expect(stale.json().error).toMatchObject({
    code: 'version_conflict',
    details: { current_version: version + 1, your_version: version },
  });
  expect((await describeSchedule(id)).spec.intervals).toMatchObject([{ every: 7_200_000 }]);
  expect((await call('GET', `/${id}`)).json().version).toBe(version + 1);
});

test('delete removes the schedule and hides the job; its executions stay readable', async () => {
  const job = await createJob();
  await suite.api.database.db.insert(schema.schedulerJobExecutions).values({
    jobId: job.id,
    jobName: job.name,
    templateType: 'webhook_trigger',
    status: 'completed',
    attempt: 1,
    trigger: 'schedule',
    triggeredBy: 'schedule',
    workflowId: `job-${job.id}-earlier`,
    runId: randomUUID(),
  });
  const deleted = await call('DELETE', `/${job.id}`);
  expect(deleted.statusCode).toBe(200);
  expect(deleted.json()).toMatchObject({ status: 'deleted', schedule_deleted: true, executions_kept: 1 });
  await expect(describeSchedule(job.id)).rejects.toBeInstanceOf(ScheduleNotFoundError);
  expect((await call('GET', `/${job.id}`)).statusCode).toBe(404);
  expect((await call('GET', `/${job.id}/executions`)).json().executions).toHaveLength(1);
  const listed = (await call('GET', `?search=${job.name}`)).json();
  expect(listed.jobs).toEqual([]);
  const deletedList = (await call('GET', `?status=deleted&search=${job.name}`)).json();
  expect(deletedList.jobs.map((j: { id: string }) => j.id)).toEqual([job.id]);
  // The name is free again.
  expect((await call('POST', '', webhookJob({ name: job.name }))).statusCode).toBe(201);
  expect((await call('POST', '', webhookJob({ name: job.name }))).json().error.code).toBe('job_name_taken');
});

test('the list filters by template, status and search', async () => {
  const tag = randomUUID().slice(0, 8);
  const hook = await createJob({ name: `filter-${tag}-hook` });
  const mail = await createJob({
    name: `filter-${tag}-mail`,
    template_type: 'email_notification',
    parameters: { recipients: ['qa@example.test'], subject: 'Hi', body: 'Hello' },
  });
  await call('POST', `/${mail.id}/pause`, {});
  const ids = async (query: string) =>
    ((await call('GET', `?search=filter-${tag}${query}`)).json().jobs as { id: string }[]).map((j) => j.id).sort();
  expect(await ids('')).toEqual([hook.id, mail.id].sort());
  expect(await ids('&template=email_notification')).toEqual([mail.id]);
  expect(await ids('&status=paused')).toEqual([mail.id]);
  expect(await ids('&status=active')).toEqual([hook.id]);
});

test('quota per creator is a 409 and creating too fast a 429', async () => {
  const limited = await buildTestApi({
    temporalAddress: suite.env.address,
    namespace: 'edms',
    scheduledJobs: { maxJobsPerUser: 2, createsPerMinute: 3 },
    outboundPolicy: TEST_JOB_SETTINGS.outboundPolicy,
  });
  try {
    const owner = await limited.as('admin');
    const create = () => call('POST', '', webhookJob(), owner, limited);
    expect((await create()).statusCode).toBe(201);
    expect((await create()).statusCode).toBe(201);
    const third = await create();
    expect(third.statusCode).toBe(409);
    expect(third.json().error).toMatchObject({ code: 'job_quota_exceeded', details: { limit: 2, current: 2 } });
    const fourth = await create();
    expect(fourth.statusCode).toBe(429);
    const owned = await limited.database.db
      .select()
      .from(schema.schedulerJobs)
      .where(and(eq(schema.schedulerJobs.createdBy, owner.username)));
    expect(owned).toHaveLength(2);
  } finally {
    await limited.close();
  }
});

test('worker start re-creates missing job schedules and deletes those of jobs that are gone', async () => {
  const job = await createJob();
  await suite.env.client.schedule.getHandle(jobScheduleId(job.id)).delete();
  const strayId = randomUUID();
  await suite.env.client.schedule.create({
    scheduleId: jobScheduleId(strayId),
    spec: { intervals: [{ every: '1 hour' }] },
    action: { type: 'startWorkflow', workflowType: 'schedulerJob', taskQueue: 'scheduler', args: [{ jobId: strayId }] },
  });
  const report = await waitFor(async () => {
    const result = await syncJobSchedules(suite.env.client, suite.api.database.db);
    return result.deleted.includes(jobScheduleId(strayId)) || result.created.includes(jobScheduleId(job.id))
      ? result
      : undefined;
  });
  expect(report.created).toContain(jobScheduleId(job.id));
  expect((await describeSchedule(job.id)).action).toMatchObject({ workflowType: 'schedulerJob' });
  await waitFor(async () => {
    const again = await syncJobSchedules(suite.env.client, suite.api.database.db);
    const gone = await suite.env.client.schedule
      .getHandle(jobScheduleId(strayId))
      .describe()
      .then(() => false)
      .catch(() => true);
    return gone && again.created.length === 0 ? true : undefined;
  });
});

test('run now is refused while a run is going (overlap skip), and not blocked by a row a terminated run left open', async () => {
  const job = await createJob({ overlap: 'skip' });
  // A run nobody works on (no worker polls this queue): open until terminated.
  const stuck = await suite.env.client.workflow.start('schedulerJob', {
    taskQueue: `nobody-${randomUUID()}`,
    workflowId: `job-${job.id}-stuck`,
    args: [{ jobId: job.id, trigger: 'manual', triggeredBy: 'test' }],
  });
  await suite.api.database.db.insert(schema.schedulerJobExecutions).values({
    jobId: job.id,
    jobName: job.name,
    templateType: 'webhook_trigger',
    attempt: 1,
    trigger: 'manual',
    triggeredBy: 'manual:test',
    workflowId: stuck.workflowId,
    runId: stuck.firstExecutionRunId,
  });
  const refused = await call('POST', `/${job.id}/run`, {});
  expect(refused.statusCode).toBe(409);
  expect(refused.json().error.code).toBe('job_running');

  await stuck.terminate('operator gave up on it');
  const started = await call('POST', `/${job.id}/run`, { dry_run: true });
  expect(started.statusCode).toBe(202);
  await suite.env.client.workflow.getHandle(started.json().workflow_id).terminate('no worker in this test');
});
