import { DEFAULT_DST_POLICY, type DstPolicy } from '../common';
import { applyDstPolicy, dstAdjustments } from '../schedules/dst';
import { cronFieldSets, specFieldSets } from '../schedules/spec-fields';
import { zoneTransitions } from '../schedules/zone-transitions';
import { toScheduleSpec, type JobScheduleInput } from '../schedules/recurrence';

/** The years around the 2027 transitions the tests look at. */
const FROM = Date.parse('2027-01-01T00:00:00Z');
const TO = Date.parse('2027-12-31T00:00:00Z');
const iso = (instants: number[]) => instants.map((at) => new Date(at).toISOString());

/** The instants a daily job at `time` gets on the zone's 2027 transition days under `policy`. */
function transitionRuns(zone: string, time: [number, number], policy: DstPolicy = DEFAULT_DST_POLICY) {
  const sets = specFieldSets({ calendars: [{ hour: time[0], minute: time[1], second: 0 }] });
  const adjustments = dstAdjustments(sets, zone, policy, FROM, TO);
  return Object.fromEntries(adjustments.map((a) => [a.kind, iso(a.runs)]));
}

describe('zone rules come from Intl', () => {
  test('Europe/Berlin skips 02:00-03:00 on 2027-03-28 and repeats 02:00-03:00 on 2027-10-31', () => {
    expect(zoneTransitions('Europe/Berlin', FROM, TO)).toEqual([
      { at: Date.parse('2027-03-28T01:00:00Z'), before: 60, after: 120 },
      { at: Date.parse('2027-10-31T01:00:00Z'), before: 120, after: 60 },
    ]);
  });

  test('America/New_York changes on 2027-03-14 and 2027-11-07', () => {
    expect(zoneTransitions('America/New_York', FROM, TO)).toEqual([
      { at: Date.parse('2027-03-14T07:00:00Z'), before: -300, after: -240 },
      { at: Date.parse('2027-11-07T06:00:00Z'), before: -240, after: -300 },
    ]);
  });

  test('Australia/Lord_Howe moves by 30 minutes: repeat 01:30-02:00 on 2027-04-04, gap 02:00-02:30 on 2027-10-03', () => {
    expect(zoneTransitions('Australia/Lord_Howe', FROM, TO)).toEqual([
      { at: Date.parse('2027-04-03T15:00:00Z'), before: 660, after: 630 },
      { at: Date.parse('2027-10-02T15:30:00Z'), before: 630, after: 660 },
    ]);
  });

  test('UTC and zones without DST have no transitions', () => {
    expect(zoneTransitions('UTC', FROM, TO)).toEqual([]);
    expect(zoneTransitions('Asia/Tokyo', FROM, TO)).toEqual([]);
  });
});

describe('a time the clocks skip runs at the first instant after the gap, or not at all', () => {
  test('Europe/Berlin: 02:30 on 2027-03-28 runs at 03:00 CEST', () => {
    expect(transitionRuns('Europe/Berlin', [2, 30]).gap).toEqual(['2027-03-28T01:00:00.000Z']);
    expect(transitionRuns('Europe/Berlin', [2, 30], { gap: 'skip', repeat: 'once' }).gap).toEqual([]);
  });

  test('America/New_York: 02:30 on 2027-03-14 runs at 03:00 EDT', () => {
    expect(transitionRuns('America/New_York', [2, 30]).gap).toEqual(['2027-03-14T07:00:00.000Z']);
    expect(transitionRuns('America/New_York', [2, 30], { gap: 'skip', repeat: 'once' }).gap).toEqual([]);
  });

  test('Australia/Lord_Howe: 02:15 on 2027-10-03 runs at 02:30, and 02:45 that day stays at 02:45', () => {
    expect(transitionRuns('Australia/Lord_Howe', [2, 15]).gap).toEqual(['2027-10-02T15:30:00.000Z']);
    expect(transitionRuns('Australia/Lord_Howe', [2, 45]).gap).toEqual(['2027-10-02T15:45:00.000Z']);
    expect(transitionRuns('Australia/Lord_Howe', [2, 15], { gap: 'skip', repeat: 'once' }).gap).toEqual([]);
  });

  test('several skipped times of one gap make one run after it', () => {
    const sets = [cronFieldSets('*/20 2 * * *')];
    const [gap] = dstAdjustments(sets, 'Europe/Berlin', DEFAULT_DST_POLICY, FROM, Date.parse('2027-06-01T00:00:00Z'));
    expect(iso(gap!.runs)).toEqual(['2027-03-28T01:00:00.000Z']);
  });
});

describe('a time the clocks show twice runs once (its first occurrence) or at both', () => {
  test('Europe/Berlin: 02:30 on 2027-10-31', () => {
    expect(transitionRuns('Europe/Berlin', [2, 30]).repeat).toEqual(['2027-10-31T00:30:00.000Z']);
    expect(transitionRuns('Europe/Berlin', [2, 30], { gap: 'run_after', repeat: 'both' }).repeat).toEqual([
      '2027-10-31T00:30:00.000Z',
      '2027-10-31T01:30:00.000Z',
    ]);
  });

  test('America/New_York: 01:30 on 2027-11-07', () => {
    expect(transitionRuns('America/New_York', [1, 30]).repeat).toEqual(['2027-11-07T05:30:00.000Z']);
    expect(transitionRuns('America/New_York', [1, 30], { gap: 'run_after', repeat: 'both' }).repeat).toEqual([
      '2027-11-07T05:30:00.000Z',
      '2027-11-07T06:30:00.000Z',
    ]);
  });

  test('Australia/Lord_Howe: 01:45 on 2027-04-04 (a 30-minute repeat)', () => {
    expect(transitionRuns('Australia/Lord_Howe', [1, 45]).repeat).toEqual(['2027-04-03T14:45:00.000Z']);
    expect(transitionRuns('Australia/Lord_Howe', [1, 45], { gap: 'run_after', repeat: 'both' }).repeat).toEqual([
      '2027-04-03T14:45:00.000Z',
      '2027-04-03T15:15:00.000Z',
    ]);
  });

  test('an hourly cron keeps every hour of the repeat day and doubles only the repeated one with both', () => {
    const sets = [cronFieldSets('15 * * * *')];
    const from = Date.parse('2027-10-01T00:00:00Z');
    const [once] = dstAdjustments(sets, 'Europe/Berlin', DEFAULT_DST_POLICY, from, TO);
    // 01:15 CEST, 02:15 CEST; 03:15 CET is an ordinary hour left to the calendar.
    expect(iso(once!.runs)).toEqual(['2027-10-30T23:15:00.000Z', '2027-10-31T00:15:00.000Z']);
    const [both] = dstAdjustments(sets, 'Europe/Berlin', { gap: 'run_after', repeat: 'both' }, from, TO);
    expect(iso(both!.runs)).toEqual([
      '2027-10-30T23:15:00.000Z',
      '2027-10-31T00:15:00.000Z',
      '2027-10-31T01:15:00.000Z',
    ]);
  });
});

describe('schedule specs', () => {
  test('a job far from the change keeps its plain spec: cron lines stay cron lines', () => {
    const spec = { cronExpressions: ['0 8 * * 1-5'] };
    expect(applyDstPolicy(spec, 'Europe/Berlin', DEFAULT_DST_POLICY, new Date(FROM))).toEqual({
      spec,
      adjustments: [],
    });
  });

  test('on transition days the calendar leaves the hours around the change to exact instants', () => {
    const { spec } = applyDstPolicy(
      { calendars: [{ hour: 2, minute: 30, second: 0 }] },
      'Europe/Berlin',
      DEFAULT_DST_POLICY,
      new Date('2027-01-01T00:00:00Z'),
    );
    // Each exact instant is an interval whose first firing is the instant itself.
    expect(spec.intervals).toEqual(
      expect.arrayContaining([
        { every: Date.parse('2027-03-28T01:00:00Z') },
        { every: Date.parse('2027-10-31T00:30:00Z') },
      ]),
    );
    expect(spec.intervals).toHaveLength(20);
    // March 2027 runs on every day but the 28th, whose only hour is left to its exact instant.
    expect(spec.calendars).toContainEqual(
      expect.objectContaining({
        year: [{ start: 2027, end: 2027 }],
        month: [{ start: 'MARCH', end: 'MARCH' }],
        dayOfMonth: [
          { start: 1, end: 27 },
          { start: 29, end: 31 },
        ],
        hour: [{ start: 2, end: 2 }],
      }),
    );
  });

  test('a cron line is read with Temporal rules: names, ranges, steps, 7 as Sunday', () => {
    const sets = cronFieldSets('0/20 8 * JAN-MAR mon-fri,7');
    expect([...sets.minute]).toEqual([0, 20, 40]);
    expect([...sets.month]).toEqual([1, 2, 3]);
    expect([...sets.dayOfWeek].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('the job field dst_policy', () => {
  const daily = (fields: object) =>
    toScheduleSpec(
      {
        recurrence_type: 'daily',
        recurrence_config: { time: '02:30' },
        timezone: 'Europe/Berlin',
        ...fields,
      } as JobScheduleInput,
      new Date('2027-01-01T00:00:00Z'),
    );

  test('defaults to run_after / once and is said in the description', () => {
    const result = daily({});
    expect(result).toMatchObject({
      ok: true,
      dstPolicy: { gap: 'run_after', repeat: 'once' },
      description:
        'daily at 02:30 Europe/Berlin (Europe/Berlin DST: on DST gap days a time the clocks skip runs at 03:00, the first time after the gap; a time the clocks show twice runs once, at its first occurrence)',
    });
  });

  test('skip and both are described as such', () => {
    expect(daily({ dst_policy: { gap: 'skip', repeat: 'both' } })).toMatchObject({
      ok: true,
      description:
        'daily at 02:30 Europe/Berlin (Europe/Berlin DST: on DST gap days a time the clocks skip has no run; a time the clocks show twice runs at both occurrences)',
    });
  });

  test('a job in UTC, an interval and a once job say nothing about DST', () => {
    expect(toScheduleSpec({ recurrence_type: 'daily', recurrence_config: { time: '02:30' } })).toMatchObject({
      description: 'daily at 02:30 UTC',
    });
    expect(toScheduleSpec({ schedule: { interval_seconds: 3600 }, timezone: 'Europe/Berlin' })).toMatchObject({
      description: 'every hour',
      dstAdjustments: [],
    });
  });

  test.each([
    [{ gap: 'later' }, 'dst_policy.gap'],
    [{ repeat: 'twice' }, 'dst_policy.repeat'],
    [{ gap: 1 }, 'dst_policy.gap'],
    [{ fold: 'once' }, 'dst_policy.fold'],
    ['run_after', 'dst_policy'],
  ])('a bad dst_policy %j is refused, naming %s', (policy, field) => {
    const result = daily({ dst_policy: policy });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => e.field)).toEqual([field]);
  });
});
