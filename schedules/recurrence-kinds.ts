import { DAYS_OF_WEEK, MONTHS, type CalendarSpec, type ScheduleSpec } from '@temporalio/client';
import { MAX_JOB_INTERVAL_SECONDS } from '../common/scheduler-jobs';
import { wallClockParts } from '../lib/dates';
import { MAX_CALENDAR_YEAR } from './dst-calendars';
import { readDays, readInstant, readTime, type Fail } from './recurrence-fields';
import { cronProblem } from './spec-fields';

/**
 * The two shapes in which a job says how often it runs, the `schedule` object (cron or fixed
 * interval) or the form's `recurrence_type` + `recurrence_config`, each read into Temporal spec
 * entries and the words that describe them.
 */
export interface RecurrenceInput {
  schedule?: { cron?: string; interval_seconds?: number } | null;
  recurrence_type?: RecurrenceType | null;
  recurrence_config?: RecurrenceConfig | null;
}

export const RECURRENCE_TYPES = ['once', 'daily', 'weekly', 'monthly', 'custom'] as const;
export type RecurrenceType = (typeof RECURRENCE_TYPES)[number];

export interface RecurrenceConfig {
  /** HH:MM or HH:MM:SS, 24-hour, wall clock in the job's timezone (daily, weekly, monthly). */
  time?: string;
  /** Weekly: 0 = Sunday … 6 = Saturday; 7 is also Sunday, as in cron and ISO 8601. */
  days?: number[];
  /** Monthly: 1–31. Months without that day have no run (Temporal has no "last day of month"). */
  day_of_month?: number;
  /** Custom: five-field cron, or @hourly, @daily, @weekly, @monthly, @yearly. */
  cron?: string;
  /** Once: ISO 8601 date-time with `Z` or an offset, in the future. */
  run_at?: string;
}

/** Shorter intervals would turn a job into a busy loop of workflow starts. */
export const MIN_INTERVAL_SECONDS = 60;

/** One shape read: its spec entries, its words, and for a one-off job its instant. */
export interface Recurrence {
  spec: Pick<ScheduleSpec, 'calendars' | 'cronExpressions' | 'intervals'>;
  description: string;
  runAt?: Date;
  /** Intervals ignore the timezone, so the description must not suggest otherwise. */
  intervalOnly?: boolean;
  /** Said after the timezone, so the description still reads "monthly on day 31 at 09:00 UTC". */
  note?: string;
}

/** The recurrence `input` asks for, or undefined with every problem passed to `fail` (field, message). */
export function readRecurrence(
  input: RecurrenceInput,
  timezone: string,
  now: Date,
  fail: Fail,
): Recurrence | undefined {
  const { schedule, recurrence_type: type, recurrence_config: config } = input;
  if (schedule != null && type != null) {
    fail('schedule', 'cannot be combined with recurrence_type: give one or the other');
    return undefined;
  }
  if (schedule != null) {
    if (config != null) fail('recurrence_config', 'only applies with recurrence_type, not with schedule');
    return readScheduleObject(schedule, timezone, now, fail);
  }
  if (type == null) {
    fail('recurrence_type', `is required unless schedule is given (one of ${RECURRENCE_TYPES.join(', ')})`);
    return undefined;
  }
  if (!(RECURRENCE_TYPES as readonly unknown[]).includes(type)) {
    fail('recurrence_type', `must be one of ${RECURRENCE_TYPES.join(', ')}`);
    return undefined;
  }
  if (config != null && (typeof config !== 'object' || Array.isArray(config))) {
    fail('recurrence_config', 'must be an object');
    return undefined;
  }
  return readRecurrenceConfig(type, config ?? {}, timezone, now, fail);
}

function readScheduleObject(
  schedule: NonNullable<RecurrenceInput['schedule']>,
  timezone: string,
  now: Date,
  fail: Fail,
): Recurrence | undefined {
  if (typeof schedule !== 'object' || Array.isArray(schedule)) {
    fail('schedule', 'must be an object with cron or interval_seconds');
    return undefined;
  }
  const { cron, interval_seconds: seconds } = schedule;
  if (cron != null && seconds != null) {
    fail('schedule', 'give either cron or interval_seconds, not both');
    return undefined;
  }
  if (cron != null) return cronRecurrence(cron, 'schedule.cron', timezone, now, fail);
  if (seconds == null) {
    fail('schedule', 'needs cron or interval_seconds');
    return undefined;
  }
  if (
    typeof seconds !== 'number' ||
    !Number.isSafeInteger(seconds) ||
    seconds < MIN_INTERVAL_SECONDS ||
    seconds > MAX_JOB_INTERVAL_SECONDS
  ) {
    fail(
      'schedule.interval_seconds',
      `must be a whole number of seconds from ${MIN_INTERVAL_SECONDS} to ${MAX_JOB_INTERVAL_SECONDS} (366 days)`,
    );
    return undefined;
  }
  return {
    spec: { intervals: [{ every: `${seconds} seconds` }] },
    description: `every ${describeSeconds(seconds)}`,
    intervalOnly: true,
  };
}

function readRecurrenceConfig(
  type: RecurrenceType,
  config: RecurrenceConfig,
  timezone: string,
  now: Date,
  fail: Fail,
): Recurrence | undefined {
  switch (type) {
    case 'custom':
      return cronRecurrence(config.cron, 'recurrence_config.cron', timezone, now, fail);
    case 'once':
      return onceRecurrence(config.run_at, timezone, now, fail);
    case 'daily': {
      const time = readTime(config.time, fail);
      if (!time) return undefined;
      return { spec: { calendars: [time.calendar] }, description: `daily at ${time.text}` };
    }
    case 'weekly': {
      const time = readTime(config.time, fail);
      const days = readDays(config.days, fail);
      if (!time || !days) return undefined;
      const names = days.map((day) => DAYS_OF_WEEK[day] as (typeof DAYS_OF_WEEK)[number]);
      return {
        spec: { calendars: [{ ...time.calendar, dayOfWeek: names }] },
        description: `weekly on ${names.map(titleCase).join(', ')} at ${time.text}`,
      };
    }
    case 'monthly': {
      const time = readTime(config.time, fail);
      const day = config.day_of_month;
      const dayValid = typeof day === 'number' && Number.isInteger(day) && day >= 1 && day <= 31;
      if (day == null) fail('recurrence_config.day_of_month', 'is required for a monthly job');
      else if (!dayValid) fail('recurrence_config.day_of_month', 'must be a whole number from 1 to 31');
      if (!time || !dayValid) return undefined;
      return {
        spec: { calendars: [{ ...time.calendar, dayOfMonth: day }] },
        description: `monthly on day ${day} at ${time.text}`,
        ...(day > 28 ? { note: `(no run in months without a day ${day})` } : {}),
      };
    }
  }
}

function onceRecurrence(value: unknown, timezone: string, now: Date, fail: Fail): Recurrence | undefined {
  const field = 'recurrence_config.run_at';
  if (value == null) {
    fail(field, 'is required for a one-off job');
    return undefined;
  }
  const runAt = readInstant(value, field, fail);
  if (!runAt) return undefined;
  // The calendar has whole seconds: a run due later within the current second could not fire.
  if (Math.floor(runAt.getTime() / 1000) <= Math.floor(now.getTime() / 1000)) {
    fail(field, 'must be in the future');
    return undefined;
  }
  if (runAt.getUTCFullYear() > MAX_CALENDAR_YEAR) {
    fail(field, `must be before ${MAX_CALENDAR_YEAR + 1}, the end of Temporal's calendar`);
    return undefined;
  }
  const calendar: CalendarSpec = {
    year: runAt.getUTCFullYear(),
    month: MONTHS[runAt.getUTCMonth()],
    dayOfMonth: runAt.getUTCDate(),
    hour: runAt.getUTCHours(),
    minute: runAt.getUTCMinutes(),
    second: runAt.getUTCSeconds(),
  };
  return { spec: { calendars: [calendar] }, description: `once at ${wallClock(runAt, timezone)}`, runAt };
}

function cronRecurrence(
  value: unknown,
  field: string,
  timezone: string,
  now: Date,
  fail: Fail,
): Recurrence | undefined {
  if (value == null || (typeof value === 'string' && value.trim() === '')) {
    fail(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    fail(field, 'must be a cron expression string');
    return undefined;
  }
  const expression = value.trim().split(/\s+/).join(' ');
  const problem = cronProblem(expression, timezone, now);
  if (problem) {
    fail(field, problem);
    return undefined;
  }
  return { spec: { cronExpressions: [expression] }, description: `cron '${expression}'` };
}

/** `2027-03-01 14:00` as the job's own clock shows it, for the description. */
function wallClock(instant: Date, timezone: string): string {
  const wall = wallClockParts(instant, timezone);
  const seconds = wall.second === '00' ? '' : `:${wall.second}`;
  return `${wall.year}-${wall.month}-${wall.day} ${wall.hour}:${wall.minute}${seconds}`;
}

function describeSeconds(seconds: number): string {
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ] as const) {
    if (seconds % size === 0) {
      const count = seconds / size;
      return count === 1 ? unit : `${count} ${unit}s`;
    }
  }
  return `${seconds} seconds`;
}

function titleCase(name: string): string {
  return name.charAt(0) + name.slice(1).toLowerCase();
}
