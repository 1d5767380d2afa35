import { DAYS_OF_WEEK, MONTHS, type CalendarSpec } from '@temporalio/client';
import { range, type FieldSets } from './spec-fields';

/**
 * Temporal calendar entries written back from field sets, with the hours of single days left out:
 * how a DST policy takes a transition day's runs away from Temporal's own calendar matching.
 */

type LooseRange = { start: number; end: number };

/** Sorted values as ranges of consecutive values (what Temporal's calendar fields take). */
function asRanges(values: Iterable<number>): LooseRange[] {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const ranges: LooseRange[] = [];
  for (const value of sorted) {
    const lastRange = ranges[ranges.length - 1];
    if (lastRange && lastRange.end === value - 1) lastRange.end = value;
    else ranges.push({ start: value, end: value });
  }
  return ranges;
}

const MIN_YEAR = 2000;
/** Temporal's server refuses a calendar year beyond this. */
export const MAX_CALENDAR_YEAR = 2100;

/** A calendar entry matching exactly `set` within the given years/months/days (all if omitted). */
function toCalendar(
  set: FieldSets,
  only: { years?: number[]; months?: number[]; days?: number[]; hours?: number[] },
  comment?: string,
): CalendarSpec | undefined {
  const months = only.months ? only.months.filter((m) => set.month.has(m)) : [...set.month];
  const days = only.days ? only.days.filter((d) => set.dayOfMonth.has(d)) : [...set.dayOfMonth];
  const hours = only.hours ? only.hours.filter((h) => set.hour.has(h)) : [...set.hour];
  if (months.length === 0 || days.length === 0 || hours.length === 0 || only.years?.length === 0) return undefined;
  return {
    ...(only.years ? { year: asRanges(only.years) } : {}),
    month: asRanges(months).map(({ start, end }) => ({ start: MONTHS[start - 1]!, end: MONTHS[end - 1]! })),
    dayOfMonth: asRanges(days),
    dayOfWeek: asRanges(set.dayOfWeek).map(({ start, end }) => ({
      start: DAYS_OF_WEEK[start]!,
      end: DAYS_OF_WEEK[end]!,
    })),
    hour: asRanges(hours),
    minute: asRanges(set.minute),
    second: asRanges(set.second),
    ...(comment ? { comment } : {}),
  };
}

/**
 * The calendars of `sets`, minus the given local hours of the given days: the rest of the calendar
 * as one entry, plus an entry per affected year, month and day for what remains of them.
 */
export function calendarsWithout(sets: FieldSets[], hoursByDay: Map<string, number[]>): CalendarSpec[] {
  const byYear = new Map<number, Map<number, Map<number, number[]>>>();
  for (const [day, hours] of hoursByDay) {
    const [y, m, d] = day.split('-').map(Number) as [number, number, number];
    const months = byYear.get(y) ?? new Map<number, Map<number, number[]>>();
    const days = months.get(m) ?? new Map<number, number[]>();
    days.set(d, hours);
    months.set(m, days);
    byYear.set(y, months);
  }
  const calendars: CalendarSpec[] = [];
  const push = (calendar: CalendarSpec | undefined) => {
    if (calendar) calendars.push(calendar);
  };
  for (const set of sets) {
    push(toCalendar(set, { years: range(MIN_YEAR, MAX_CALENDAR_YEAR).filter((y) => !byYear.has(y)) }));
    for (const [year, months] of byYear) {
      push(toCalendar(set, { years: [year], months: range(1, 12).filter((m) => !months.has(m)) }));
      for (const [month, days] of months) {
        push(toCalendar(set, { years: [year], months: [month], days: range(1, 31).filter((d) => !days.has(d)) }));
        for (const [day, hours] of days) {
          const rest = range(0, 23).filter((h) => !hours.includes(h));
          const comment = `DST: ${year}-${pad(month)}-${pad(day)} hours ${hours.join(',')} run as exact instants`;
          push(toCalendar(set, { years: [year], months: [month], days: [day], hours: rest }, comment));
        }
      }
    }
  }
  return calendars;
}

const pad = (n: number) => String(n).padStart(2, '0');
