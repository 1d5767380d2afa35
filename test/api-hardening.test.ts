import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import Fastify from 'fastify';
import { installErrorHandling } from '../api/errors';
import { ErrorResponse } from '../api/schemas/common';
import { backupWorkflowId, ON_DEMAND_BACKUP_CONFIG } from '../common';
import { schema } from '../db';
import { buildTestApi, uniqueName, type TestApi } from './helpers/api';
import { createDevServerEnv, terminateOpenWorkflows } from './helpers/temporal';

/*
 * The failures reported from the field (issue 12, sections 1, 6, 7 and 9), each as it was reported,
 * with the answer it must get now. The generated tests in api-inputs.test.ts cover the same kinds over
 * every route; these pin the reported instances and their exact values.
 */

/** Nothing listens on port 1: every query fails to connect. */
const UNREACHABLE_DB = 'postgres://postgres:x@127.0.0.1:1/edms';

let env: TestWorkflowEnvironment;
let api: TestApi;
let admin: { authorization: string; username: string };

beforeAll(async () => {
  env = await createDevServerEnv();
  api = await buildTestApi({ temporalAddress: env.address, namespace: 'edms' });
  admin = await api.as('admin');
});
afterAll(async () => {
  if (env) await terminateOpenWorkflows(env);
  await api?.close();
  await env?.teardown();
});

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const call = (method: Method, url: string, payload?: unknown, authorization = admin.authorization) =>
  api.app.inject({
    method,
    url,
    headers: { authorization, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
  });

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
/** A valid daily email job definition; a test changes the fields it is about. */
const dailyEmailJob = (fields: Record<string, unknown> = {}) => ({
  name: uniqueName('daily'),
  template_type: 'email_notification',
  parameters: { recipients: ['qa@example.test'], subject: 'Daily', body: 'Hello' },
  recurrence_type: 'daily',
  recurrence_config: { time: '09:00' },
  ...fields,
});

/** Whether a job of that name was saved: a refused definition must create nothing. */
async function jobSaved(name: string): Promise<boolean> {
  const rows = await api.database.db.select().from(schema.schedulerJobs).where(eq(schema.schedulerJobs.name, name));
  return rows.length > 0;
}

/** The status, code and fields of an error answer, for one exact comparison. */
function refusal(response: Awaited<ReturnType<typeof call>>) {
  const body = response.json<ErrorBody>();
  return {
    status: response.statusCode,
    code: body.error?.code,
    fields: Array.isArray(body.error?.details)
      ? [...new Set((body.error.details as { field: string | null }[]).map((d) => d.field))]
      : [],
  };
}

describe('section 1: inputs are taken as written, never guessed', () => {
  test('PATCH of a user with active null or 0 is a 400 naming active, and the user stays active', async () => {
    const { username } = await api.as('author');
    for (const active of [null, 0]) {
      const response = await call('PATCH', `/api/v1/users/${username}`, { active });
      expect(refusal(response)).toEqual({ status: 400, code: 'validation_failed', fields: ['active'] });
    }
    expect((await call('GET', `/api/v1/users/${username}`)).json()).toMatchObject({ active: true });
  });

  test('PATCH with a blank manager or display_name is a 400 that clears nothing; null clears, as documented', async () => {
    const manager = await api.as('approver');
    const { username } = await api.as('author');
    const set = await call('PATCH', `/api/v1/users/${username}`, {
      manager: manager.username,
      display_name: 'Ada Lovelace',
    });
    expect(set.statusCode).toBe(200);
    for (const [field, value] of [
      ['manager', ''],
      ['display_name', ''],
      ['display_name', '   '],
    ] as const) {
      const response = await call('PATCH', `/api/v1/users/${username}`, { [field]: value });
      expect(refusal(response)).toEqual({ status: 400, code: 'validation_failed', fields: [field] });
    }
    expect((await call('GET', `/api/v1/users/${username}`)).json()).toMatchObject({
      manager: manager.username,
      display_name: 'Ada Lovelace',
    });
    const cleared = await call('PATCH', `/api/v1/users/${username}`, { manager: null, display_name: null });
    expect(cleared.json()).toMatchObject({ manager: null, display_name: null });
  });

  test('a weekly job whose days hold null, false, blank, true or "1" is a 400 naming the day, and is not created', async () => {
    for (const day of [null, false, ' ', true, '1']) {
      const name = uniqueName('weekly');
      const response = await call('POST', '/api/v1/scheduler-jobs', {
        name,
        template_type: 'email_notification',
        parameters: { recipients: ['qa@example.test'], subject: 'Weekly', body: 'Hello' },
        recurrence_type: 'weekly',
        recurrence_config: { time: '09:00', days: [day] },
      });
      expect({ day, ...refusal(response) }).toEqual({
        day,
        status: 400,
        code: 'invalid_schedule',
        fields: ['recurrence_config.days.0'],
      });
      expect(await jobSaved(name)).toBe(false);
    }
  });

  test('0 or "" for a nullable instant is a 400, never null', async () => {
    for (const [field, value] of [
      ['start_at', 0],
      ['start_at', ''],
      ['end_at', ''],
      ['end_at', 0],
    ] as const) {
      const response = await call(
        'POST',
        '/api/v1/scheduler-jobs',
        dailyEmailJob({ name: uniqueName('bounded'), [field]: value }),
      );
      expect({ field, value, ...refusal(response) }).toEqual({
        field,
        value,
        status: 400,
        code: 'invalid_schedule',
        fields: [field],
      });
    }
    const document = await createDocument();
    for (const value of [0, '']) {
      const response = await call('POST', `/api/v1/documents/${document.id}/effective-date`, { effective_at: value });
      expect(refusal(response)).toEqual({ status: 400, code: 'validation_failed', fields: ['effective_at'] });
    }
  });
});

async function createDocument(extra: Record<string, unknown> = {}) {
  const reviewer = await api.as('reviewer');
  const approver = await api.as('approver');
  const response = await call('POST', '/api/v1/documents', {
    title: uniqueName('Line clearance SOP'),
    reviewers: [reviewer.username],
    approvers: [approver.username],
    ...extra,
  });
  expect(response.statusCode).toBe(201);
  return response.json<{ id: string; title: string; description: string | null }>();
}

describe('section 6: no request ever gets a 500 for what it sent', () => {
  test('a NUL character in any text is a 400 naming the field, wherever it is', async () => {
    const nul = 'a\u0000b';
    const { username } = await api.as('viewer');
    const document = await createDocument();
    const cases: [Method, string, unknown, string][] = [
      ['POST', '/api/v1/auth/login', { username: nul, password: 'whatever-it-is' }, 'username'],
      ['PATCH', `/api/v1/users/${username}`, { display_name: nul }, 'display_name'],
      ['POST', '/api/v1/backups/configs', { name: nul, backup_type: 'full', keep_last: 2 }, 'name'],
      [
        'POST',
        '/api/v1/backups/configs',
        { name: uniqueName('nul-dest'), backup_type: 'full', keep_last: 2, destination: `x${nul}` },
        'destination',
      ],
      ['POST', '/api/v1/documents', { title: nul, reviewers: ['x-reviewer'], approvers: ['x-approver'] }, 'title'],
      ['POST', `/api/v1/documents/${document.id}/versions`, { title: nul }, 'title'],
      ['GET', `/api/v1/documents?q=${encodeURIComponent(nul)}`, undefined, 'q'],
      [
        'POST',
        '/api/v1/scheduler-jobs',
        {
          name: uniqueName('nul-params'),
          template_type: 'email_notification',
          parameters: { recipients: ['qa@example.test'], subject: nul, body: 'Hello' },
          schedule: { cron: '0 8 * * *' },
        },
        'parameters.subject',
      ],
    ];
    for (const [method, url, payload, field] of cases) {
      const response = await call(method, url, payload);
      expect({ url, ...refusal(response) }).toEqual({ url, status: 400, code: 'validation_failed', fields: [field] });
    }
    expect((await call('GET', `/api/v1/documents/${document.id}`)).json()).toMatchObject({ title: document.title });
  });

  test('an unpaired surrogate in a title is a 400 naming it', async () => {
    // JSON.stringify would escape it as \ud800, which JSON.parse turns back into the lone surrogate.
    const response = await call(
      'POST',
      '/api/v1/documents',
      '{"title": "\\ud800x", "reviewers": ["some-reviewer"], "approvers": ["some-approver"]}',
    );
    expect(refusal(response)).toEqual({ status: 400, code: 'validation_failed', fields: ['title'] });
  });

  test('page and offset beyond their documented bounds (and past bigint) are 400s naming them', async () => {
    expect(refusal(await call('GET', '/api/v1/documents?page=184467440737095517'))).toEqual({
      status: 400,
      code: 'validation_failed',
      fields: ['page'],
    });
    expect(refusal(await call('GET', '/api/v1/scheduler-jobs?offset=9223372036854775808'))).toEqual({
      status: 400,
      code: 'validation_failed',
      fields: ['offset'],
    });
    expect(refusal(await call('GET', '/api/v1/documents?page=1e400'))).toEqual({
      status: 400,
      code: 'validation_failed',
      fields: ['page'],
    });
    expect((await call('GET', '/api/v1/documents?page=100000')).statusCode).toBe(200);
  });

  test('a restore id that is not a restore is a 404, not Temporal’s "Invalid RunId"', async () => {
    for (const id of ['0', 'not-a-run', '00000000-0000-4000-8000-000000000000']) {
      const response = await call('GET', `/api/v1/backups/restores/${id}`);
      expect({ id, ...refusal(response) }).toEqual({ id, status: 404, code: 'not_found', fields: [] });
    }
  });

  test('a leap second, an impossible date and a non-canonical UUID are 400s naming the field', async () => {
    const document = await createDocument();
    for (const effective_at of ['2026-12-31T23:59:60Z', '2027-02-30T10:00:00Z', '2027-01-01T24:00:00Z']) {
      const response = await call('POST', `/api/v1/documents/${document.id}/effective-date`, { effective_at });
      expect({ effective_at, ...refusal(response) }).toEqual({
        effective_at,
        status: 400,
        code: 'validation_failed',
        fields: ['effective_at'],
      });
    }
    const response = await call('GET', `/api/v1/documents/urn:uuid:${document.id}`);
    expect(refusal(response)).toEqual({ status: 400, code: 'validation_failed', fields: ['id'] });
  });

  test('an interval Temporal would refuse (1,000,000,000,000 s) is a 400 naming it', async () => {
    const response = await call('POST', '/api/v1/scheduler-jobs', {
      name: uniqueName('forever'),
      template_type: 'email_notification',
      parameters: { recipients: ['qa@example.test'], subject: 'Rarely', body: 'Hello' },
      schedule: { interval_seconds: 1_000_000_000_000 },
    });
    expect(refusal(response)).toEqual({ status: 400, code: 'invalid_schedule', fields: ['schedule.interval_seconds'] });
  });

  test('a route whose body fields are all optional takes no body at all, as it takes {}', async () => {
    const created = await call('POST', '/api/v1/scheduler-jobs', dailyEmailJob({ name: uniqueName('no body') }));
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: string }>().id;
    const paused = await call('POST', `/api/v1/scheduler-jobs/${id}/pause`);
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ status: 'paused' });
    const run = await call('POST', `/api/v1/scheduler-jobs/${id}/run`);
    expect(run.statusCode).toBe(202);
    // A body-less route still refuses a body that says something.
    expect(refusal(await call('POST', `/api/v1/scheduler-jobs/${id}/resume`, { note: 'x' }))).toEqual({
      status: 400,
      code: 'validation_failed',
      fields: [null],
    });
  });

  test('a method a path does not take is a 405 with Allow, in the common error shape', async () => {
    const response = await call('DELETE', '/api/v1/documents');
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD, POST');
    expect(response.json()).toEqual({
      error: { code: 'method_not_allowed', message: 'DELETE is not allowed here; use GET, HEAD, POST' },
    });
    const document = await createDocument();
    const put = await call('PUT', `/api/v1/documents/${document.id}/submit`, {});
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('POST');
    expect((await call('GET', '/api/v1/no-such-thing')).statusCode).toBe(404);
  });

  test('POST /api/v1/backups answers 202 only once GET /api/v1/backups/:id finds the run', async () => {
    // No worker polls here: the run must be readable from the API's own record, not the workflow's.
    const response = await call('POST', '/api/v1/backups', {});
    expect(response.statusCode).toBe(202);
    const started = response.json<{ backup_id: string; run_id: string }>();
    const run = await call('GET', `/api/v1/backups/${started.backup_id}`);
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({
      id: started.backup_id,
      status: 'running',
      config: ON_DEMAND_BACKUP_CONFIG,
      triggered_by: admin.username,
      workflow_id: backupWorkflowId(ON_DEMAND_BACKUP_CONFIG),
    });
    const started2 = await call('POST', '/api/v1/backups', {});
    expect(refusal(started2)).toEqual({ status: 409, code: 'backup_in_progress', fields: [] });
    // The refused start left no second run behind.
    const runs = await api.database.db
      .select()
      .from(schema.backupRuns)
      .where(eq(schema.backupRuns.workflowId, backupWorkflowId(ON_DEMAND_BACKUP_CONFIG)));
    expect(runs.filter((r) => r.status === 'running').map((r) => r.id)).toEqual([started.backup_id]);
    await env.client.workflow.getHandle(backupWorkflowId(ON_DEMAND_BACKUP_CONFIG)).terminate('test done');
  });
});

describe('found by fuzzing the API: no 500 for what the caller sent, nor for a component that is away', () => {
  test('a NUL nested forty levels deep in job parameters is a 400 naming its whole path', async () => {
    let body: unknown = 'x\u0000y';
    for (let level = 0; level < 40; level += 1) body = { a: body };
    const response = await call('POST', '/api/v1/scheduler-jobs', {
      name: uniqueName('deep'),
      template_type: 'webhook_trigger',
      parameters: { url: 'https://hooks.example.com/edms', body },
      schedule: { cron: '0 8 * * *' },
    });
    expect(refusal(response)).toEqual({
      status: 400,
      code: 'validation_failed',
      fields: [['parameters', 'body', ...Array(40).fill('a')].join('.')],
    });
  });

  test('a time zone Temporal does not know is a 400 invalid_schedule naming timezone, and no job is left', async () => {
    const name = uniqueName('legacy zone');
    const response = await call('POST', '/api/v1/scheduler-jobs', dailyEmailJob({ name, timezone: 'US/Pacific-New' }));
    expect(refusal(response)).toEqual({ status: 400, code: 'invalid_schedule', fields: ['timezone'] });
    expect(await jobSaved(name)).toBe(false);
  });

  test('an instant whose UTC year falls outside 1900-9999 is a 400, before any workflow sees it', async () => {
    const document = await createDocument();
    for (const effective_at of [
      '0000-01-01T00:00:00Z',
      '0001-01-01T00:00:00Z',
      '0099-06-01T00:00:00Z',
      '1899-12-31T23:59:59Z',
      '9999-12-31T23:59:59-23:59',
    ]) {
      const response = await call('POST', `/api/v1/documents/${document.id}/effective-date`, { effective_at });
      expect({ effective_at, ...refusal(response) }).toEqual({
        effective_at,
        status: 400,
        code: 'validation_failed',
        fields: ['effective_at'],
      });
    }
    const response = await call('POST', '/api/v1/scheduler-jobs', {
      name: uniqueName('far end'),
      template_type: 'email_notification',
      parameters: { recipients: ['qa@example.test'], subject: 'Daily', body: 'Hello' },
      schedule: { interval_seconds: 3600 },
      end_at: '9999-12-31T23:59:59-23:59',
    });
    expect(refusal(response)).toEqual({ status: 400, code: 'invalid_schedule', fields: ['end_at'] });
  });

  test('job parameters take the same instants (a year-0 export filter) and no number past double range', async () => {
    const exportJob = await call('POST', '/api/v1/scheduler-jobs', {
      name: uniqueName('export'),
      template_type: 'data_export',
      parameters: { dataset: 'documents', format: 'csv', filters: { from: '0000-01-01T00:00:00Z' } },
      schedule: { interval_seconds: 3600 },
    });
    expect(refusal(exportJob)).toMatchObject({ status: 400, code: 'invalid_parameters' });
    const overflow = await call(
      'POST',
      '/api/v1/scheduler-jobs',
      `{"name": "${uniqueName('overflow')}", "template_type": "webhook_trigger", "schedule": {"interval_seconds": 3600},
        "parameters": {"url": "https://hooks.example.com/edms", "body": {"x": 1e400}}}`,
    );
    expect(refusal(overflow)).toEqual({ status: 400, code: 'validation_failed', fields: ['parameters.body.x'] });
  });

  test('a backup destination inside live data (stored documents, the database) is a 400 when saved', async () => {
    const dataDir = '/srv/edms-data';
    const guarded = await buildTestApi({
      temporalAddress: env.address,
      namespace: 'edms',
      directories: {
        dataDir,
        storageDir: `${dataDir}/storage`,
        exportsDir: `${dataDir}/exports`,
        backupDir: dataDir,
      },
    });
    try {
      const owner = await guarded.as('admin');
      for (const destination of ['storage', 'storage/archives', 'postgres/base', 'exports', 'temporal', 'mail']) {
        const response = await guarded.app.inject({
          method: 'POST',
          url: '/api/v1/backups/configs',
          headers: { authorization: owner.authorization },
          payload: { name: uniqueName('inside').toLowerCase(), backup_type: 'full', keep_last: 2, destination },
        });
        expect({ destination, ...refusal(response) }).toMatchObject({
          destination,
          status: 400,
          code: 'invalid_destination',
        });
      }
      const offsite = await guarded.app.inject({
        method: 'POST',
        url: '/api/v1/backups/configs',
        headers: { authorization: owner.authorization },
        payload: {
          name: uniqueName('offsite').toLowerCase(),
          backup_type: 'full',
          keep_last: 2,
          destination: 'offsite/nas',
        },
      });
      expect(offsite.statusCode).toBe(201);
    } finally {
      await guarded.close();
    }
  });

  test('a weekday range Temporal reads as wrapping (MON-SUN) is a 400 invalid_schedule', async () => {
    const response = await call('POST', '/api/v1/scheduler-jobs', {
      name: uniqueName('weekdays'),
      template_type: 'email_notification',
      parameters: { recipients: ['qa@example.test'], subject: 'Daily', body: 'Hello' },
      schedule: { cron: '0 0 * * MON-SUN' },
    });
    expect(refusal(response)).toMatchObject({ status: 400, code: 'invalid_schedule' });
  });

  test('a body sent to a route that takes none is a 400; nothing or {} is fine', async () => {
    const { username } = await api.as('viewer');
    for (const payload of ['{"a": 1}', '[]', 'null', '"x"']) {
      const response = await call('POST', `/api/v1/users/${username}/revoke-sessions`, payload);
      expect({ payload, ...refusal(response) }).toEqual({
        payload,
        status: 400,
        code: 'validation_failed',
        fields: [null],
      });
    }
    expect((await call('POST', `/api/v1/users/${username}/revoke-sessions`, {})).statusCode).toBe(204);
    expect((await call('POST', `/api/v1/users/${username}/revoke-sessions`)).statusCode).toBe(204);
  });

  test('a trailing slash is a 404, an over-long path parameter a 414, both in the shared error body', async () => {
    const slash = await call('GET', '/api/v1/users/me/');
    expect(refusal(slash)).toEqual({ status: 404, code: 'not_found', fields: [] });
    const long = await call('POST', `/api/v1/scheduler/schedules/${'s'.repeat(201)}/pause`, {});
    expect(refusal(long)).toEqual({ status: 414, code: 'uri_too_long', fields: [] });
    const fits = await call('POST', `/api/v1/scheduler/schedules/${'s'.repeat(200)}/pause`, {});
    expect(refusal(fits)).toMatchObject({ status: 404 });
  });

  test('a backup destination with a folder name over 255 bytes is a 400 when saved, not a failed backup later', async () => {
    const response = await call('POST', '/api/v1/backups/configs', {
      name: uniqueName('long-dest').toLowerCase(),
      backup_type: 'full',
      keep_last: 2,
      destination: `offsite/${'d'.repeat(300)}`,
    });
    expect(refusal(response)).toMatchObject({ status: 400, code: 'invalid_destination' });
  });

  test('an unreachable database is a 503 database_unavailable, not a 500', async () => {
    const offline = await buildTestApi({
      temporalAddress: env.address,
      namespace: 'edms',
      databaseUrl: UNREACHABLE_DB,
    });
    try {
      const response = await offline.app.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: { authorization: admin.authorization },
      });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        error: { code: 'database_unavailable', message: 'The database cannot be reached; retry shortly' },
      });
    } finally {
      await offline.close();
    }
  });

  test('a database shutting down, crashed or recovering (57P01, 57P02, 57P03) is a 503 database_unavailable with Retry-After', async () => {
    const app = Fastify({ logger: false });
    installErrorHandling(app);
    app.addSchema(ErrorResponse);
    let code = '';
    app.get('/probe', async () => {
      // What postgres.js throws when the server answers a connection with this SQLSTATE.
      throw Object.assign(new Error('the database system is starting up'), { name: 'PostgresError', code });
    });
    try {
      for (code of ['57P01', '57P02', '57P03']) {
        const response = await app.inject({ url: '/probe' });
        expect({ code, status: response.statusCode, retryAfter: response.headers['retry-after'] }).toEqual({
          code,
          status: 503,
          retryAfter: '1',
        });
        expect(response.json()).toEqual({
          error: { code: 'database_unavailable', message: 'The database cannot be reached; retry shortly' },
        });
      }
    } finally {
      await app.close();
    }
  });

  test('more than ten updates in flight on one document: Temporal’s limit is a 429 with Retry-After', async () => {
    // No worker polls here, so the document's updates stay in flight until its workflow ends. The
    // client retries a refused update for about 50 s before it gives up: the 429 comes after that.
    const document = await createDocument();
    const submits = Array.from({ length: 12 }, () => call('POST', `/api/v1/documents/${document.id}/submit`, {}));
    const limited = await Promise.race(
      submits.map(async (pending) => {
        const response = await pending;
        return response.statusCode === 429 ? response : new Promise<never>(() => undefined);
      }),
    );
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json()).toEqual({
      error: { code: 'rate_limited', message: 'Temporal is limiting requests right now; retry shortly' },
    });
    await env.client.workflow.getHandle(`document-${document.id}`).terminate('test done');
    const answers = await Promise.all(submits);
    expect(answers.every((response) => response.statusCode < 500)).toBe(true);
  });
});

describe('section 7: webhook targets are refused when saved, not only when run', () => {
  const refused = [
    'http://127.0.0.1:8080/hook',
    'http://[::1]/',
    'http://169.254.169.254/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://127.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://0.0.0.0/',
    'http://localhost./',
  ];
  const webhookJob = (url: string) => ({
    name: uniqueName('hook'),
    template_type: 'webhook_trigger',
    parameters: { url },
    schedule: { cron: '*/30 * * * *' },
  });

  test.each(refused)('%s is a 400 at create, and no job is saved', async (url) => {
    const body = webhookJob(url);
    const response = await call('POST', '/api/v1/scheduler-jobs', body);
    expect(refusal(response)).toEqual({ status: 400, code: 'invalid_parameters', fields: ['parameters.url'] });
    expect(await jobSaved(body.name)).toBe(false);
  });

  test('each of them is a 400 at update too, and the job keeps its target and version', async () => {
    // A public name that does not resolve here: saved (the run resolves and checks it again).
    const created = await call('POST', '/api/v1/scheduler-jobs', webhookJob('https://hooks.example.com/edms'));
    expect(created.statusCode).toBe(201);
    const job = created.json<{ id: string; name: string; version: number }>();
    for (const url of refused) {
      const response = await call('PUT', `/api/v1/scheduler-jobs/${job.id}`, {
        ...webhookJob(url),
        name: job.name,
        version: job.version,
      });
      expect({ url, ...refusal(response) }).toEqual({
        url,
        status: 400,
        code: 'invalid_parameters',
        fields: ['parameters.url'],
      });
    }
    expect((await call('GET', `/api/v1/scheduler-jobs/${job.id}`)).json()).toMatchObject({
      version: job.version,
      parameters: { url: 'https://hooks.example.com/edms' },
    });
  });
});

describe('section 9: titles are single-line text', () => {
  test('a CR/LF, a tab, a line separator or an invisible format character in a title is a 400; a description may span lines', async () => {
    for (const title of [
      'Line one\r\nLine two',
      'Line one\nLine two',
      'Tab\there',
      'Line one\u2028Line two',
      '\u200b',
      'SOP \u202etxt.exe',
      'x\uffff',
    ]) {
      const response = await call('POST', '/api/v1/documents', {
        title,
        reviewers: ['some-reviewer'],
        approvers: ['some-approver'],
      });
      expect({ title, ...refusal(response) }).toEqual({
        title,
        status: 400,
        code: 'validation_failed',
        fields: ['title'],
      });
      expect(response.json().error.details[0].message).toBe(
        'must be single-line text, not blank, without control characters',
      );
    }
    const document = await createDocument({ description: 'Scope:\n- line 1\r\n- line 2\tand a tab' });
    expect(document.description).toBe('Scope:\n- line 1\r\n- line 2\tand a tab');
  });
});
