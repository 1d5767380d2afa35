import { randomUUID } from 'node:crypto';
import type { ScheduleSpec } from '@temporalio/client';
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { schema } from '../db';
import { toScheduleSpec, type JobScheduleInput } from '../schedules/recurrence';
import { SYSTEM_SCHEDULES, syncSchedules } from '../schedules/system-schedules';
import { buildTestApi, type TestApi } from './helpers/api';
import { createDevServerEnv } from './helpers/temporal';

/** Temporal's own matching times are the proof: schedules need the dev server. */
let env: TestWorkflowEnvironment;
let api: TestApi;

beforeAll(async () => {
  env = await createDevServerEnv();
  api = await buildTestApi({ temporalAddress: env.address, namespace: 'edms' });
});
afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

const NOW = new Date('2026-12-01T00:00:00Z');

/** The instants Temporal itself would start runs at between `from` and `to`, for a (paused) schedule. */
async function matchingTimes(spec: ScheduleSpec, from: string, to: string): Promise<string[]> {
  const scheduleId = `dst-${randomUUID()}`;
  await env.client.schedule.create({
    scheduleId,
    spec,
    action: { type: 'startWorkflow', workflowType: 'schedulerJob', taskQueue: 'dst-never-polled' },
    state: { paused: true },
  });
  return scheduleTimes(scheduleId, from, to);
}

async function scheduleTimes(scheduleId: string, from: string, to: string): Promise<string[]> {
  const response = await env.client.workflowService.listScheduleMatchingTimes({
    namespace: 'edms',
    scheduleId,
    startTime: msToTs(Date.parse(from)),
    endTime: msToTs(Date.parse(to)),
  });
  return (response.startTime ?? []).map((at) => new Date(tsToMs(at)).toISOString());
}

function jobSpec(input: JobScheduleInput): ScheduleSpec {
  const result = toScheduleSpec(input, NOW);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

const daily = (time: string, timezone: string, dst_policy?: JobScheduleInput['dst_policy']) =>
  jobSpec({ recurrence_type: 'daily', recurrence_config: { time }, timezone, dst_policy });

describe('DST gaps: a time the clocks skip still runs that day, in three zones', () => {
  test('Europe/Berlin: 02:30 on 2027-03-28 runs at 03:00 CEST (Temporal alone has no run that day)', async () => {
    const window = ['2027-03-27T00:00:00Z', '2027-03-29T12:00:00Z'] as const;
    expect(await matchingTimes(daily('02:30', 'Europe/Berlin'), ...window)).toEqual([
      '2027-03-27T01:30:00.000Z',
      '2027-03-28T01:00:00.000Z',
      '2027-03-29T00:30:00.000Z',
    ]);
    const plain = { calendars: [{ hour: 2, minute: 30 }], timezone: 'Europe/Berlin' };
    expect(await matchingTimes(plain, ...window)).toEqual(['2027-03-27T01:30:00.000Z', '2027-03-29T00:30:00.000Z']);
    expect(await matchingTimes(daily('02:30', 'Europe/Berlin', { gap: 'skip' }), ...window)).toEqual([
      '2027-03-27T01:30:00.000Z',
      '2027-03-29T00:30:00.000Z',
    ]);
  });

  test('America/New_York: a cron at 02:30 on 2027-03-14 runs at 03:00 EDT', async () => {
    const spec = jobSpec({ schedule: { cron: '30 2 * * *' }, timezone: 'America/New_York' });
    expect(await matchingTimes(spec, '2027-03-13T00:00:00Z', '2027-03-15T12:00:00Z')).toEqual([
      '2027-03-13T07:30:00.000Z',
      '2027-03-14T07:00:00.000Z',
      '2027-03-15T06:30:00.000Z',
    ]);
  });

  test('Australia/Lord_Howe: 02:15 on 2027-10-03 runs at 02:30, not at the 02:45 Temporal alone picks', async () => {
    const window = ['2027-10-01T12:00:00Z', '2027-10-03T18:00:00Z'] as const;
    expect(await matchingTimes(daily('02:15', 'Australia/Lord_Howe'), ...window)).toEqual([
      '2027-10-01T15:45:00.000Z',
      '2027-10-02T15:30:00.000Z',
      '2027-10-03T15:15:00.000Z',
    ]);
    const plain = { calendars: [{ hour: 2, minute: 15 }], timezone: 'Australia/Lord_Howe' };
    expect(await matchingTimes(plain, ...window)).toContain('2027-10-02T15:45:00.000Z');
  });
});

describe('DST repeats: a repeated time runs once by default, twice with repeat both, in three zones', () => {
  test('Europe/Berlin: 02:30 on 2027-10-31', async () => {
    const window = ['2027-10-30T12:00:00Z', '2027-11-01T12:00:00Z'] as const;
    expect(await matchingTimes(daily('02:30', 'Europe/Berlin'), ...window)).toEqual([
      '2027-10-31T00:30:00.000Z',
      '2027-11-01T01:30:00.000Z',
    ]);
    expect(await matchingTimes(daily('02:30', 'Europe/Berlin', { repeat: 'both' }), ...window)).toEqual([
      '2027-10-31T00:30:00.000Z',
      '2027-10-31T01:30:00.000Z',
      '2027-11-01T01:30:00.000Z',
    ]);
  });

  test('America/New_York: 01:30 on 2027-11-07 (Temporal alone runs it twice)', async () => {
    const window = ['2027-11-06T12:00:00Z', '2027-11-08T12:00:00Z'] as const;
    expect(await matchingTimes(daily('01:30', 'America/New_York'), ...window)).toEqual([
      '2027-11-07T05:30:00.000Z',
      '2027-11-08T06:30:00.000Z',
    ]);
    const plain = { calendars: [{ hour: 1, minute: 30 }], timezone: 'America/New_York' };
    expect(await matchingTimes(plain, ...window)).toEqual([
      '2027-11-07T05:30:00.000Z',
      '2027-11-07T06:30:00.000Z',
      '2027-11-08T06:30:00.000Z',
    ]);
    expect(await matchingTimes(daily('01:30', 'America/New_York', { repeat: 'both' }), ...window)).toEqual([
      '2027-11-07T05:30:00.000Z',
      '2027-11-07T06:30:00.000Z',
      '2027-11-08T06:30:00.000Z',
    ]);
  });

  test('Australia/Lord_Howe: an every-15-minutes cron through the repeated half hour of 2027-04-04', async () => {
    const window = ['2027-04-03T13:50:00Z', '2027-04-03T16:05:00Z'] as const;
    const once = jobSpec({ schedule: { cron: '*/15 1-2 * * *' }, timezone: 'Australia/Lord_Howe' });
    expect(await matchingTimes(once, ...window)).toEqual([
      '2027-04-03T14:00:00.000Z', // 01:00 +11
      '2027-04-03T14:15:00.000Z',
      '2027-04-03T14:30:00.000Z', // 01:30 +11, first occurrence
      '2027-04-03T14:45:00.000Z',
      '2027-04-03T15:30:00.000Z', // 02:00 +10:30
      '2027-04-03T15:45:00.000Z',
      '2027-04-03T16:00:00.000Z',
    ]);
    const both = jobSpec({
      schedule: { cron: '*/15 1-2 * * *' },
      timezone: 'Australia/Lord_Howe',
      dst_policy: { repeat: 'both' },
    });
    expect(await matchingTimes(both, ...window)).toEqual([
      '2027-04-03T14:00:00.000Z',
      '2027-04-03T14:15:00.000Z',
      '2027-04-03T14:30:00.000Z',
      '2027-04-03T14:45:00.000Z',
      '2027-04-03T15:00:00.000Z', // 01:30 +10:30, second occurrence
      '2027-04-03T15:15:00.000Z',
      '2027-04-03T15:30:00.000Z',
      '2027-04-03T15:45:00.000Z',
      '2027-04-03T16:00:00.000Z',
    ]);
  });
});

test('backup-daily-full at 02:00 keeps its run on the gap day when EDMS_TIMEZONE skips 02:00-03:00', async () => {
  await syncSchedules(env.client, 'Europe/Berlin', NOW);
  expect(await scheduleTimes('backup-daily-full', '2027-03-27T00:00:00Z', '2027-03-29T12:00:00Z')).toEqual([
    '2027-03-27T01:00:00.000Z',
    '2027-03-28T01:00:00.000Z', // 03:00 CEST
    '2027-03-29T00:00:00.000Z',
  ]);
  // The Sunday 02:00 cleanup too; the repeat day runs it once.
  expect(await scheduleTimes('weekly-comprehensive-cleanup', '2027-03-27T00:00:00Z', '2027-11-01T00:00:00Z')).toEqual(
    expect.arrayContaining(['2027-03-28T01:00:00.000Z', '2027-10-31T00:00:00.000Z']),
  );
  expect(
    (await scheduleTimes('weekly-comprehensive-cleanup', '2027-10-30T00:00:00Z', '2027-11-01T00:00:00Z')).length,
  ).toBe(1);
  expect(SYSTEM_SCHEDULES.find((s) => s.scheduleId === 'backup-daily-full')?.spec).toEqual({
    cronExpressions: ['0 2 * * *'],
  });
});

describe('the API', () => {
  const call = async (method: 'POST' | 'PUT', url: string, payload: object) =>
    api.app.inject({
      method,
      url: `/api/v1/scheduler-jobs${url}`,
      headers: { authorization: (await api.as('admin')).authorization },
      payload,
    });
  const job = (fields: object = {}) => ({
    name: `dst-${randomUUID().slice(0, 8)}`,
    template_type: 'webhook_trigger',
    parameters: { url: 'https://hooks.example.com/edms', method: 'POST' },
    recurrence_type: 'daily',
    recurrence_config: { time: '02:30' },
    timezone: 'Europe/Berlin',
    start_at: '2027-03-26T00:00:00+01:00',
    ...fields,
  });

  test("a job's dst_policy is stored, returned and described, and next_run_times include the gap-day run", async () => {
    const created = await call('POST', '', job());
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body.dst_policy).toEqual({ gap: 'run_after', repeat: 'once' });
    expect(body.schedule_description).toContain('a time the clocks skip runs at 03:00');
    expect(body.next_run_times.slice(0, 4)).toEqual([
      '2027-03-26T01:30:00.000Z',
      '2027-03-27T01:30:00.000Z',
      '2027-03-28T01:00:00.000Z',
      '2027-03-29T00:30:00.000Z',
    ]);

    const updated = await call('PUT', `/${body.id}`, {
      ...job({ dst_policy: { gap: 'skip' } }),
      name: body.name,
      version: 1,
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().dst_policy).toEqual({ gap: 'skip', repeat: 'once' });
    expect(updated.json().schedule_description).toContain('a time the clocks skip has no run');
    expect(updated.json().next_run_times.slice(0, 3)).toEqual([
      '2027-03-26T01:30:00.000Z',
      '2027-03-27T01:30:00.000Z',
      '2027-03-29T00:30:00.000Z',
    ]);
  });

  test.each([
    [{ gap: 'later' }, 'gap'],
    [{ repeat: 2 }, 'repeat'],
    [{ gap: 'run_after', fold: 'once' }, 'fold'],
  ])('a bad dst_policy %j is a 400 naming the field, and nothing is created', async (policy, field) => {
    const payload = job({ dst_policy: policy });
    const response = await call('POST', '', payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toContain(field);
    const rows = await api.database.db
      .select()
      .from(schema.schedulerJobs)
      .where(eq(schema.schedulerJobs.name, payload.name));
    expect(rows).toEqual([]);
  });
});
