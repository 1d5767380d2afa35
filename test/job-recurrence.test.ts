// The SDK's own encoder shows the specs are what a real `client.schedule.create` would send.
import { encodeScheduleSpec } from '@temporalio/client/lib/schedule-helpers';
import { DEFAULT_DST_POLICY } from '../common';
import { toScheduleSpec, type JobScheduleInput, type RecurrenceResult } from '../schedules/recurrence';

const NOW = new Date('2026-06-01T12:00:00Z');

/** Jobs arrive as JSON, so tests may send what the types forbid, as a client could. */
const fromJson = (value: object) => value as JobScheduleInput;

function specOf(result: RecurrenceResult) {
  if (!result.ok) throw new Error(`expected a spec, got ${JSON.stringify(result.errors)}`);
  return result;
}

describe('recurrence types become Temporal schedule specs', () => {
  test('a daily job runs every day at its time, on the wall clock of its timezone', () => {
    const result = toScheduleSpec(
      { recurrence_type: 'daily', recurrence_config: { time: '14:00' }, timezone: 'Europe/Berlin' },
      NOW,
    );
    expect(result).toEqual({
      ok: true,
      spec: { calendars: [{ hour: 14, minute: 0, second: 0 }], timezone: 'Europe/Berlin' },
      once: false,
      description: 'daily at 14:00 Europe/Berlin',
      dstPolicy: DEFAULT_DST_POLICY,
      dstAdjustments: [],
    });
  });

  test('a time may carry seconds', () => {
    const { spec, description } = specOf(
      toScheduleSpec({ recurrence_type: 'daily', recurrence_config: { time: '23:59:30' } }, NOW),
    );
    expect(spec.calendars).toEqual([{ hour: 23, minute: 59, second: 30 }]);
    expect(description).toBe('daily at 23:59:30 UTC');
  });

  test('a weekly job runs at its time on each listed weekday', () => {
    const result = toScheduleSpec(
      {
        recurrence_type: 'weekly',
        recurrence_config: { time: '08:30', days: [5, 1, 3] },
        timezone: 'America/New_York',
      },
      NOW,
    );
    expect(result).toEqual({
      ok: true,
      spec: {
        calendars: [{ hour: 8, minute: 30, second: 0, dayOfWeek: ['MONDAY', 'WEDNESDAY', 'FRIDAY'] }],
        timezone: 'America/New_York',
      },
      once: false,
      description: 'weekly on Monday, Wednesday, Friday at 08:30 America/New_York',
      dstPolicy: DEFAULT_DST_POLICY,
      dstAdjustments: [],
    });
  });

  test('7 means Sunday, as in cron and ISO 8601, so a Monday-first week of 1..7 works', () => {
    const { spec } = specOf(
      toScheduleSpec({ recurrence_type: 'weekly', recurrence_config: { time: '06:00', days: [6, 7] } }, NOW),
    );
    expect(spec.calendars?.[0]?.dayOfWeek).toEqual(['SUNDAY', 'SATURDAY']);
  });

  test('a monthly job runs at its time on its day of the month', () => {
    const result = toScheduleSpec(
      { recurrence_type: 'monthly', recurrence_config: { time: '09:15', day_of_month: 15 } },
      NOW,
    );
    expect(result).toEqual({
      ok: true,
      spec: { calendars: [{ hour: 9, minute: 15, second: 0, dayOfMonth: 15 }], timezone: 'UTC' },
      once: false,
      description: 'monthly on day 15 at 09:15 UTC',
      dstPolicy: DEFAULT_DST_POLICY,
      dstAdjustments: [],
    });
  });

  test('a monthly job on the 31st says it skips shorter months', () => {
    const { spec, description } = specOf(
      toScheduleSpec({ recurrence_type: 'monthly', recurrence_config: { time: '09:00', day_of_month: 31 } }, NOW),
    );
    expect(spec.calendars).toEqual([{ hour: 9, minute: 0, second: 0, dayOfMonth: 31 }]);
    expect(description).toBe('monthly on day 31 at 09:00 UTC (no run in months without a day 31)');
  });

  test('a custom job passes its cron expression to Temporal, whitespace tidied', () => {
    const result = toScheduleSpec(
      { recurrence_type: 'custom', recurrence_config: { cron: '  0 8,12,18  * * 1-5 ' }, timezone: 'Asia/Tokyo' },
      NOW,
    );
    expect(result).toEqual({
      ok: true,
      spec: { cronExpressions: ['0 8,12,18 * * 1-5'], timezone: 'Asia/Tokyo' },
      once: false,
      description: "cron '0 8,12,18 * * 1-5' Asia/Tokyo",
      dstPolicy: DEFAULT_DST_POLICY,
      dstAdjustments: [],
    });
  });

  test.each(['@hourly', '@daily', '@weekly', '@monthly', '@yearly', '0 8 * JAN-MAR mon-fri', '*/15 9-17 * * 1-5'])(
    'the cron %s is accepted',
    (cron) => {
      expect(specOf(toScheduleSpec({ recurrence_type: 'custom', recurrence_config: { cron } }, NOW)).spec).toEqual({
        cronExpressions: [cron],
        timezone: 'UTC',
      });
    },
  );

  test('a one-off job is pinned to its UTC instant and reported as once', () => {
    const result = toScheduleSpec(
      {
        recurrence_type: 'once',
        recurrence_config: { run_at: '2027-03-01T14:00:00+01:00' },
        timezone: 'Europe/Berlin',
      },
      NOW,
    );
    expect(result).toEqual({
      ok: true,
      spec: {
        calendars: [{ year: 2027, month: 'MARCH', dayOfMonth: 1, hour: 13, minute: 0, second: 0 }],
        // The calendar holds UTC fields, so the spec must be read in UTC whatever the job's zone.
        timezone: 'UTC',
      },
      once: true,
      description: 'once at 2027-03-01 14:00 Europe/Berlin',
      dstPolicy: DEFAULT_DST_POLICY,
      dstAdjustments: [],
    });
  });

  test('a one-off instant keeps its seconds and crosses the date line correctly', () => {
    const { spec, description } = specOf(
      toScheduleSpec(
        { recurrence_type: 'once', recurrence_config: { run_at: '2026-12-31T23:30:15-05:00' }, timezone: 'UTC' },
        NOW,
      ),
    );
    expect(spec.calendars).toEqual([{ year: 2027, month: 'JANUARY', dayOfMonth: 1, hour: 4, minute: 30, second: 15 }]);
    expect(description).toBe('once at 2027-01-01 04:30:15 UTC');
  });
});

describe('the schedule object form', () => {
  test('schedule.cron becomes a cron expression', () => {
    const result = toScheduleSpec({ schedule: { cron: '0 8,12,18 * * 1-5' }, timezone: 'Europe/Berlin' }, NOW);
    expect(result).toEqual({
      ok: true,
      spec: { cronExpressions: ['0 8,12,18 * * 1-5'], timezone: 'Europe/Berlin' },
      once: false,
      description: "cron '0 8,12,18 * * 1-5' Europe/Berlin",
      dstPolicy: DEFAULT_DST_POLICY,
      dstAdjustments: [],
    });
  });

  test('schedule.interval_seconds becomes an interval, described without a timezone it ignores', () => {
    const result = toScheduleSpec({ schedule: { interval_seconds: 3600 }, timezone: 'Europe/Berlin' }, NOW);
    expect(result).toEqual({
      ok: true,
      spec: { intervals: [{ every: '3600 seconds' }], timezone: 'Europe/Berlin' },
      once: false,
      description: 'every hour',
      dstPolicy: DEFAULT_DST_POLICY,
      dstAdjustments: [],
    });
  });

  test.each([
    [60, 'every minute'],
    [90, 'every 90 seconds'],
    [900, 'every 15 minutes'],
    [7200, 'every 2 hours'],
    [172_800, 'every 2 days'],
  ])('an interval of %i seconds is described as "%s"', (seconds, description) => {
    expect(specOf(toScheduleSpec({ schedule: { interval_seconds: seconds } }, NOW)).description).toBe(description);
  });
});

describe('timezone and validity window', () => {
  test('the timezone defaults to UTC', () => {
    expect(specOf(toScheduleSpec({ schedule: { cron: '@daily' } }, NOW)).spec.timezone).toBe('UTC');
  });

  test('a timezone in the wrong letter case is corrected, as Temporal loads zone names case-sensitively', () => {
    const { spec, description } = specOf(
      toScheduleSpec({ schedule: { cron: '@daily' }, timezone: 'europe/berlin' }, NOW),
    );
    expect(spec.timezone).toBe('Europe/Berlin');
    expect(description).toBe("cron '@daily' Europe/Berlin");
  });

  test('an alias zone is passed through as written', () => {
    expect(specOf(toScheduleSpec({ schedule: { cron: '@daily' }, timezone: 'Asia/Kolkata' }, NOW)).spec.timezone).toBe(
      'Asia/Kolkata',
    );
  });

  test('start_at and end_at become startAt and endAt instants', () => {
    const { spec } = specOf(
      toScheduleSpec(
        {
          recurrence_type: 'daily',
          recurrence_config: { time: '14:00' },
          start_at: '2026-07-01T00:00:00+02:00',
          end_at: '2026-12-31T23:59:59.500Z',
        },
        NOW,
      ),
    );
    expect(spec.startAt).toEqual(new Date('2026-06-30T22:00:00Z'));
    expect(spec.endAt).toEqual(new Date('2026-12-31T23:59:59.500Z'));
  });

  test('without a window the spec has no startAt or endAt', () => {
    const { spec } = specOf(toScheduleSpec({ schedule: { interval_seconds: 600 } }, NOW));
    expect(spec).not.toHaveProperty('startAt');
    expect(spec).not.toHaveProperty('endAt');
  });

  test('null fields from a database row count as absent', () => {
    const result = toScheduleSpec(
      { schedule: null, recurrence_type: 'daily', recurrence_config: { time: '07:00' }, timezone: null, end_at: null },
      NOW,
    );
    expect(specOf(result).spec).toEqual({ calendars: [{ hour: 7, minute: 0, second: 0 }], timezone: 'UTC' });
  });

  test('fields of other recurrence types in recurrence_config are ignored, as the form sends them all', () => {
    const result = toScheduleSpec(
      fromJson({
        recurrence_type: 'daily',
        recurrence_config: { time: '07:00', days: [9], day_of_month: 40, cron: 'junk', run_at: 'yesterday' },
      }),
      NOW,
    );
    expect(specOf(result).spec.calendars).toEqual([{ hour: 7, minute: 0, second: 0 }]);
  });
});

test('every kind of spec is accepted by the Temporal SDK encoder', () => {
  const inputs: JobScheduleInput[] = [
    { recurrence_type: 'daily', recurrence_config: { time: '14:00' } },
    { recurrence_type: 'weekly', recurrence_config: { time: '14:00', days: [1, 3, 5] } },
    { recurrence_type: 'monthly', recurrence_config: { time: '14:00', day_of_month: 15 } },
    { recurrence_type: 'once', recurrence_config: { run_at: '2027-03-01T14:00:00Z' } },
    { recurrence_type: 'custom', recurrence_config: { cron: '0 8 * * 1-5' } },
    { schedule: { interval_seconds: 3600 }, start_at: '2026-07-01T00:00:00Z' },
  ];
  const [daily, weekly, monthly, once, custom, interval] = inputs.map((input) =>
    encodeScheduleSpec(specOf(toScheduleSpec(input, NOW)).spec),
  );
  expect(daily?.structuredCalendar?.[0]?.hour).toEqual([{ start: 14, end: 14, step: 1 }]);
  expect(weekly?.structuredCalendar?.[0]?.dayOfWeek).toEqual([1, 3, 5].map((d) => ({ start: d, end: d, step: 1 })));
  expect(monthly?.structuredCalendar?.[0]?.dayOfMonth).toEqual([{ start: 15, end: 15, step: 1 }]);
  expect(once?.structuredCalendar?.[0]).toMatchObject({
    year: [{ start: 2027, end: 2027, step: 1 }],
    month: [{ start: 3, end: 3, step: 1 }],
    dayOfMonth: [{ start: 1, end: 1, step: 1 }],
  });
  expect(custom?.cronString).toEqual(['0 8 * * 1-5']);
  expect(Number(interval?.interval?.[0]?.interval?.seconds)).toBe(3600);
  expect(interval?.timezoneName).toBe('UTC');
});

describe('invalid input is refused, naming the field', () => {
  const daily = (time: unknown) => fromJson({ recurrence_type: 'daily', recurrence_config: { time } });
  const weekly = (days: unknown) => fromJson({ recurrence_type: 'weekly', recurrence_config: { time: '08:00', days } });
  const monthly = (day: unknown) =>
    fromJson({ recurrence_type: 'monthly', recurrence_config: { time: '08:00', day_of_month: day } });
  const custom = (cron: unknown) => fromJson({ recurrence_type: 'custom', recurrence_config: { cron } });
  const once = (runAt: unknown) => fromJson({ recurrence_type: 'once', recurrence_config: { run_at: runAt } });
  const window = (start_at: string, end_at: string) => ({ schedule: { cron: '@daily' }, start_at, end_at });

  test.each<[string, JobScheduleInput, string, string]>([
    // which form
    [
      'both schedule and recurrence_type',
      { schedule: { cron: '@daily' }, recurrence_type: 'daily' },
      'schedule',
      'cannot be combined',
    ],
    ['neither schedule nor recurrence_type', {}, 'recurrence_type', 'is required unless schedule is given'],
    ['an unknown recurrence_type', fromJson({ recurrence_type: 'hourly' }), 'recurrence_type', 'must be one of once'],
    [
      'recurrence_config beside schedule',
      { schedule: { cron: '@daily' }, recurrence_config: {} },
      'recurrence_config',
      'only applies',
    ],
    [
      'a recurrence_config that is not an object',
      fromJson({ recurrence_type: 'daily', recurrence_config: 'daily' }),
      'recurrence_config',
      'must be an object',
    ],
    // schedule object
    [
      'schedule with both cron and interval',
      { schedule: { cron: '@daily', interval_seconds: 60 } },
      'schedule',
      'not both',
    ],
    ['an empty schedule', { schedule: {} }, 'schedule', 'needs cron or interval_seconds'],
    ['an interval under a minute', { schedule: { interval_seconds: 59 } }, 'schedule.interval_seconds', 'from 60'],
    [
      'an interval Temporal would refuse (past 10,000 years)',
      { schedule: { interval_seconds: 1_000_000_000_000 } },
      'schedule.interval_seconds',
      'to 31622400 (366 days)',
    ],
    ['a fractional interval', { schedule: { interval_seconds: 90.5 } }, 'schedule.interval_seconds', 'whole number'],
    [
      'an interval given as text',
      fromJson({ schedule: { interval_seconds: '3600' } }),
      'schedule.interval_seconds',
      'whole number',
    ],
    ['a cron that is not cron', { schedule: { cron: 'every day' } }, 'schedule.cron', 'must have 5 fields'],
    ['a blank cron', { schedule: { cron: '   ' } }, 'schedule.cron', 'is required'],
    // cron dialect
    ['a custom job without cron', custom(undefined), 'recurrence_config.cron', 'is required'],
    ['a six-field cron with seconds', custom('0 0 8 * * *'), 'recurrence_config.cron', 'must have 5 fields'],
    ['a seven-field cron with year', custom('0 0 8 * * * 2030'), 'recurrence_config.cron', 'must have 5 fields'],
    ['an @every macro', custom('@every 5m'), 'recurrence_config.cron', 'the only shortcuts are'],
    [
      'an upper-case macro Temporal would not expand',
      custom('@DAILY'),
      'recurrence_config.cron',
      'the only shortcuts are',
    ],
    [
      'a TZ prefix (the timezone field says that)',
      custom('TZ=Europe/Berlin 0 8 * * *'),
      'recurrence_config.cron',
      'must have 5 fields',
    ],
    ['last day of month (L)', custom('0 8 L * *'), 'recurrence_config.cron', "day-of-month field 'L'"],
    ['nearest weekday (W)', custom('0 8 15W * *'), 'recurrence_config.cron', "day-of-month field '15W'"],
    ['nth weekday (#)', custom('0 8 * * MON#2'), 'recurrence_config.cron', "day-of-week field 'MON#2'"],
    ['a question mark', custom('0 8 ? * 1'), 'recurrence_config.cron', "day-of-month field '?'"],
    ['a cron with minute 61', custom('61 8 * * *'), 'recurrence_config.cron', 'Invalid value for minute: 61'],
    ['a cron with hour 25', custom('0 25 * * *'), 'recurrence_config.cron', 'Invalid value for hour: 25'],
    ['a backwards range', custom('0 8 * * 5-1'), 'recurrence_config.cron', 'larger than'],
    ['a cron that never fires', custom('0 8 30 2 *'), 'recurrence_config.cron', 'never fires'],
    // time of day
    ['a daily job without time', daily(undefined), 'recurrence_config.time', 'is required'],
    ['a time of 25:00', daily('25:00'), 'recurrence_config.time', 'must be HH:MM'],
    ['a time of 12:60', daily('12:60'), 'recurrence_config.time', 'must be HH:MM'],
    ['a time of 12:00:60', daily('12:00:60'), 'recurrence_config.time', 'must be HH:MM'],
    ['a one-digit hour', daily('9:00'), 'recurrence_config.time', 'must be HH:MM'],
    ['a 12-hour time', daily('2:00 PM'), 'recurrence_config.time', 'must be HH:MM'],
    ['a number for time', daily(1400), 'recurrence_config.time', 'must be HH:MM'],
    // weekdays
    ['a weekly job without days', weekly(undefined), 'recurrence_config.days', 'at least one day'],
    ['no days', weekly([]), 'recurrence_config.days', 'at least one day'],
    ['day 8', weekly([1, 8]), 'recurrence_config.days', 'from 0 (Sunday) to 6 (Saturday)'],
    ['day -1', weekly([-1]), 'recurrence_config.days', 'from 0 (Sunday) to 6 (Saturday)'],
    ['a day name', weekly(['MON']), 'recurrence_config.days', 'from 0 (Sunday) to 6 (Saturday)'],
    ['a repeated day', weekly([1, 3, 1]), 'recurrence_config.days', 'twice'],
    ['Sunday as both 0 and 7', weekly([0, 7]), 'recurrence_config.days', 'twice'],
    // day of month
    ['a monthly job without day_of_month', monthly(undefined), 'recurrence_config.day_of_month', 'is required'],
    ['day 0', monthly(0), 'recurrence_config.day_of_month', 'from 1 to 31'],
    ['day 32', monthly(32), 'recurrence_config.day_of_month', 'from 1 to 31'],
    ['day 15.5', monthly(15.5), 'recurrence_config.day_of_month', 'from 1 to 31'],
    // one-off
    ['a one-off job without run_at', once(undefined), 'recurrence_config.run_at', 'is required'],
    ['run_at in the past', once('2026-05-31T12:00:00Z'), 'recurrence_config.run_at', 'must be in the future'],
    ['run_at now', once('2026-06-01T12:00:00.400Z'), 'recurrence_config.run_at', 'must be in the future'],
    ['run_at without an offset', once('2027-03-01T14:00:00'), 'recurrence_config.run_at', 'with Z or an offset'],
    ['run_at as a date only', once('2027-03-01'), 'recurrence_config.run_at', 'with Z or an offset'],
    [
      "run_at past Temporal's last calendar year",
      once('2101-01-01T00:00:00Z'),
      'recurrence_config.run_at',
      'before 2101',
    ],
    ['run_at on 30 February', once('2027-02-30T14:00:00Z'), 'recurrence_config.run_at', 'with Z or an offset'],
    [
      'run_at outside the window',
      { ...once('2027-03-01T14:00:00Z'), start_at: '2027-04-01T00:00:00Z' },
      'recurrence_config.run_at',
      'between start_at and end_at',
    ],
    // timezone
    [
      'an unknown timezone',
      { schedule: { cron: '@daily' }, timezone: 'Mars/Olympus_Mons' },
      'timezone',
      'unknown time zone',
    ],
    [
      'a UTC offset as timezone',
      { schedule: { cron: '@daily' }, timezone: '+01:00' },
      'timezone',
      'IANA time zone name',
    ],
    ['an empty timezone', { schedule: { cron: '@daily' }, timezone: '' }, 'timezone', 'IANA time zone name'],
    // window
    [
      'end_at equal to start_at',
      window('2027-01-01T00:00:00Z', '2027-01-01T01:00:00+01:00'),
      'end_at',
      'must be after start_at',
    ],
    [
      'end_at before start_at',
      window('2027-01-02T00:00:00Z', '2027-01-01T00:00:00Z'),
      'end_at',
      'must be after start_at',
    ],
    [
      'a start_at that is not a date-time',
      { schedule: { cron: '@daily' }, start_at: 'tomorrow' },
      'start_at',
      'ISO 8601',
    ],
    [
      'an end_at with an impossible hour',
      { schedule: { cron: '@daily' }, end_at: '2027-01-01T24:00:00Z' },
      'end_at',
      'ISO 8601',
    ],
  ])('%s', (_case, input, field, message) => {
    expect(toScheduleSpec(input, NOW)).toEqual({
      ok: false,
      errors: [{ field, message: expect.stringContaining(message) }],
    });
  });

  test('all problems are reported together', () => {
    const result = toScheduleSpec(
      {
        recurrence_type: 'weekly',
        recurrence_config: { time: '24:00', days: [] },
        timezone: 'Nowhere/Special',
        start_at: '2027-01-02T00:00:00Z',
        end_at: '2027-01-01T00:00:00Z',
      },
      NOW,
    );
    expect(result.ok ? [] : result.errors.map((error) => error.field)).toEqual([
      'timezone',
      'end_at',
      'recurrence_config.time',
      'recurrence_config.days',
    ]);
  });
});
