import type { IntervalSpec, ScheduleSpec } from '@temporalio/client';
import type { DstPolicy } from '../common';
import { DAY_MS } from '../common';
import { calendarsWithout, MAX_CALENDAR_YEAR } from './dst-calendars';
import { range, specFieldSets, type FieldSets } from './spec-fields';
import { HOUR, MINUTE, zoneTransitions, type ZoneTransition } from './zone-transitions';

/**
 * Daylight saving for calendar schedules, done so that no run is silently dropped or doubled.
 *
 * What Temporal's scheduler does on its own (measured on the dev server of Temporal CLI 1.x with
 * ListScheduleMatchingTimes, and explained by its calendar code, which walks local wall times and
 * resolves them with Go's time.Date):
 * - Gap of one hour (Europe/Berlin 2027-03-28 02:00-03:00, America/New_York 2027-03-14): a daily 02:30
 *   has no run that day, an hourly `15 * * * *` has none at 02:15.
 * - Gap of 30 minutes (Australia/Lord_Howe 2027-10-03 02:00-02:30): a daily 02:15 runs at 02:45, moved
 *   by the gap's length (Go keeps the hour, so the skip check does not see it).
 * - Repeated hour: zone-dependent. Europe/Berlin 2027-10-31 (east of UTC, Go picks the later offset):
 *   a daily 02:30 runs once, at its second occurrence (01:30Z); an hourly `15 * * * *` runs once, at
 *   the first 02:15 (00:15Z). America/New_York 2027-11-07 (west of UTC): a daily 01:30 runs twice
 *   (05:30Z and 06:30Z). Australia/Lord_Howe 2027-04-04 (01:30-02:00 repeated): a daily 01:45 runs
 *   once, at its second occurrence; and any calendar matching the hour before a repeat makes the
 *   scheduler retry that hour one hour later, which can start runs nobody asked for.
 *
 * So on each transition day on which a schedule has a run near the change, the schedule's own
 * calendars are told to leave those local hours alone, and the runs of those hours are given as exact
 * instants instead, chosen by the policy. Every other day is Temporal's plain calendar matching.
 *
 * An exact instant T is an interval spec `every T since the Unix epoch` (phase 0): it fires at T, and
 * again at 2T (around the year 2080), long after the next re-computation. Temporal has no other way to
 * name one instant inside a zoned spec: a calendar entry names a wall time, and both occurrences of a
 * repeated wall time have the same one. Transitions are computed for DST_HORIZON_YEARS ahead, each time
 * the spec is built (job create and update, worker start for system schedules).
 */

export const DST_HORIZON_YEARS = 10;

/** Every wall time (wall ms) in [from, to) that one of the sets matches. */
function matchingWallTimes(sets: FieldSets[], from: number, to: number): number[] {
  const found = new Set<number>();
  for (let hourStart = Math.floor(from / HOUR) * HOUR; hourStart < to; hourStart += HOUR) {
    const date = new Date(hourStart);
    for (const set of sets) {
      const dateMatches =
        set.month.has(date.getUTCMonth() + 1) &&
        set.dayOfMonth.has(date.getUTCDate()) &&
        set.dayOfWeek.has(date.getUTCDay()) &&
        set.hour.has(date.getUTCHours());
      if (!dateMatches) continue;
      for (const minute of set.minute) {
        for (const second of set.second) {
          const wall = hourStart + minute * MINUTE + second * 1000;
          if (wall >= from && wall < to) found.add(wall);
        }
      }
    }
  }
  return [...found].sort((a, b) => a - b);
}

/** A transition day on which the schedule has runs near the change, and what is done about it. */
export interface DstAdjustment {
  kind: 'gap' | 'repeat';
  transition: ZoneTransition;
  /** Local hours (wall ms of their start) left to the exact instants below. */
  hours: number[];
  /** The local wall times the schedule asks for in those hours. */
  wallTimes: number[];
  /** The instants that run instead, as the policy says. */
  runs: number[];
}

/**
 * The transition days within [from, to] on which `sets` has a run in the hours around the change, with
 * the runs the policy gives them. Gap: a skipped wall time runs at the transition instant (the first
 * valid local time after the gap) for `run_after`, not at all for `skip`; several skipped times make
 * one run. Repeat: a repeated wall time runs at its first occurrence for `once`, at both for `both`.
 */
export function dstAdjustments(
  sets: FieldSets[],
  zone: string,
  policy: DstPolicy,
  from: number,
  to: number,
): DstAdjustment[] {
  const adjustments: DstAdjustment[] = [];
  for (const transition of zoneTransitions(zone, from, to)) {
    const { at, before, after } = transition;
    const kind = after > before ? 'gap' : 'repeat';
    // The local times that do not exist (gap) or exist twice (repeat).
    const windowStart = at + Math.min(before, after) * MINUTE;
    const windowEnd = at + Math.max(before, after) * MINUTE;
    // Temporal's scheduler retries the hour before a repeat one hour later, so that hour is taken too.
    const first = Math.floor(windowStart / HOUR) * HOUR - (kind === 'repeat' ? HOUR : 0);
    const last = Math.ceil(windowEnd / HOUR) * HOUR;
    const wallTimes = matchingWallTimes(sets, first, last);
    if (wallTimes.length === 0) continue;
    const runs = new Set<number>();
    for (const wall of wallTimes) {
      const earlier = wall - before * MINUTE;
      const later = wall - after * MINUTE;
      // A wall time exists before the change with the old offset, after it with the new one.
      const occurrences = [...(earlier < at ? [earlier] : []), ...(later >= at ? [later] : [])];
      if (occurrences.length === 0) {
        if (policy.gap === 'run_after') runs.add(at);
      } else if (occurrences.length === 1 || policy.repeat === 'both') {
        for (const instant of occurrences) runs.add(instant);
      } else {
        runs.add(Math.min(...occurrences));
      }
    }
    const hours = range(0, (last - first) / HOUR - 1).map((i) => first + i * HOUR);
    adjustments.push({ kind, transition, hours, wallTimes, runs: [...runs].sort((a, b) => a - b) });
  }
  return adjustments;
}

/** An interval that fires at `instant` (and then only at twice its distance from the Unix epoch). */
export const exactInstant = (instant: number): IntervalSpec => ({ every: instant });

export interface DstSpec {
  spec: Pick<ScheduleSpec, 'calendars' | 'cronExpressions' | 'intervals'>;
  adjustments: DstAdjustment[];
}

/**
 * The spec with the DST policy applied in `zone` for the transitions in the next DST_HORIZON_YEARS
 * from `from`. Unchanged (cron lines stay cron lines) when no transition day has a run near the change.
 */
export function applyDstPolicy(
  spec: Pick<ScheduleSpec, 'calendars' | 'cronExpressions' | 'intervals'>,
  zone: string,
  policy: DstPolicy,
  from: Date,
): DstSpec {
  const sets = specFieldSets(spec);
  if (sets.length === 0) return { spec, adjustments: [] };
  // From the start of the day, so that transitions (and the cache) do not depend on the millisecond.
  const start = Math.floor(from.getTime() / DAY_MS) * DAY_MS;
  const end = Math.min(start + DST_HORIZON_YEARS * 365.25 * DAY_MS, Date.UTC(MAX_CALENDAR_YEAR, 0, 1));
  const adjustments = dstAdjustments(sets, zone, policy, start, end);
  if (adjustments.length === 0) return { spec, adjustments };
  const hoursByDay = new Map<string, number[]>();
  for (const { hours } of adjustments) {
    for (const hourStart of hours) {
      const date = new Date(hourStart);
      const day = `${date.getUTCFullYear()}-${date.getUTCMonth() + 1}-${date.getUTCDate()}`;
      hoursByDay.set(day, [...(hoursByDay.get(day) ?? []), date.getUTCHours()]);
    }
  }
  const runs = adjustments.flatMap((adjustment) => adjustment.runs);
  return {
    spec: {
      calendars: calendarsWithout(sets, hoursByDay),
      intervals: [...(spec.intervals ?? []), ...runs.map(exactInstant)],
    },
    adjustments,
  };
}

/** The policy in words for a schedule's description, when the zone's changes touch its runs. */
export function describeDstPolicy(adjustments: DstAdjustment[], policy: DstPolicy, zone: string): string {
  const parts: string[] = [];
  const gap = adjustments.find((a) => a.kind === 'gap');
  if (gap) {
    const wall = new Date(gap.transition.at + gap.transition.after * MINUTE);
    const afterGap = wall.toISOString().slice(11, 16);
    parts.push(
      policy.gap === 'run_after'
        ? `on DST gap days a time the clocks skip runs at ${afterGap}, the first time after the gap`
        : 'on DST gap days a time the clocks skip has no run',
    );
  }
  if (adjustments.some((a) => a.kind === 'repeat')) {
    parts.push(
      policy.repeat === 'once'
        ? 'a time the clocks show twice runs once, at its first occurrence'
        : 'a time the clocks show twice runs at both occurrences',
    );
  }
  return parts.length === 0 ? '' : `(${zone} DST: ${parts.join('; ')})`;
}
