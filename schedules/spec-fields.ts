import { DAYS_OF_WEEK, MONTHS, type CalendarSpec, type ScheduleSpec } from '@temporalio/client';
import { Cron } from 'croner';

/**
 * Calendars and cron lines as Temporal reads them: which local wall times they match, field by
 * field (for the DST adjustments of ./dst.ts), and whether Temporal accepts a cron line at all (for
 * the jobs' recurrence, ./recurrence-kinds.ts).
 */

/** Which local wall times a calendar (or a cron line) matches: one set of values per field. */
export interface FieldSets {
  second: Set<number>;
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  /** 1 = January. */
  month: Set<number>;
  /** 0 = Sunday. */
  dayOfWeek: Set<number>;
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const FIELD_BOUNDS = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  dayOfMonth: [1, 31],
  month: [1, 12],
  dayOfWeek: [0, 6],
} as const;

/** The sets of one of our calendar entries (numbers, ranges, month and weekday names; no year). */
export function calendarFieldSets(calendar: CalendarSpec): FieldSets {
  const values = (
    field: keyof FieldSets,
    spec: unknown,
    fallback: 'all' | number,
    name?: (value: string) => number,
  ): Set<number> => {
    const [min, max] = FIELD_BOUNDS[field];
    if (spec === undefined || spec === '*') return new Set(fallback === 'all' ? range(min, max) : [fallback]);
    const out = new Set<number>();
    const value = (v: unknown) => (typeof v === 'string' && name ? name(v) : Number(v));
    for (const item of Array.isArray(spec) ? spec : [spec]) {
      if (typeof item === 'object' && item !== null) {
        const { start, end, step } = item as { start: unknown; end?: unknown; step?: number };
        const first = value(start);
        const last = end === undefined ? first : value(end);
        for (let v = first; v <= last; v += step ?? 1) out.add(field === 'dayOfWeek' ? v % 7 : v);
      } else {
        const v = value(item);
        out.add(field === 'dayOfWeek' ? v % 7 : v);
      }
    }
    return out;
  };
  const monthNumber = (m: string) => (MONTHS as readonly string[]).indexOf(m) + 1;
  const dayNumber = (d: string) => (DAYS_OF_WEEK as readonly string[]).indexOf(d);
  return {
    second: values('second', calendar.second, 0),
    minute: values('minute', calendar.minute, 0),
    hour: values('hour', calendar.hour, 0),
    dayOfMonth: values('dayOfMonth', calendar.dayOfMonth, 'all'),
    month: values('month', calendar.month, 'all', monthNumber),
    dayOfWeek: values('dayOfWeek', calendar.dayOfWeek, 'all', dayNumber),
  };
}

// Temporal expands exactly these spellings (case-sensitive) before parsing; croner would accept more.
const CRON_MACROS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
};
const MONTH_ABBREVIATIONS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_ABBREVIATIONS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * The sets of a five-field cron line as Temporal reads it (already checked by ./recurrence-kinds.ts): `a/s`
 * runs from a to the field's end, day-of-month AND day-of-week must both match, 7 is Sunday.
 */
export function cronFieldSets(expression: string): FieldSets {
  const fields = (CRON_MACROS[expression] ?? expression).trim().split(/\s+/);
  const parse = (text: string, min: number, max: number, names?: string[]): Set<number> => {
    const out = new Set<number>();
    const value = (token: string) => {
      const index = names ? names.indexOf(token.toLowerCase().slice(0, 3)) : -1;
      return index >= 0 ? index + (names === MONTH_ABBREVIATIONS ? 1 : 0) : Number(token);
    };
    for (const part of text.split(',')) {
      const [span = '*', stepText] = part.split('/');
      const step = stepText === undefined ? 1 : Number(stepText);
      let first = min;
      let last = max;
      if (span !== '*') {
        const [a = '', b] = span.split('-');
        first = value(a);
        last = b !== undefined ? value(b) : stepText !== undefined ? max : first;
      }
      for (let v = first; v <= last; v += step) out.add(v);
    }
    return out;
  };
  const dayOfWeek = parse(fields[4] ?? '*', 0, 7, DAY_ABBREVIATIONS);
  return {
    second: new Set([0]),
    minute: parse(fields[0] ?? '*', 0, 59),
    hour: parse(fields[1] ?? '*', 0, 23),
    dayOfMonth: parse(fields[2] ?? '*', 1, 31),
    month: parse(fields[3] ?? '*', 1, 12, MONTH_ABBREVIATIONS),
    dayOfWeek: new Set([...dayOfWeek].map((d) => d % 7)),
  };
}

/** The spec's calendars and cron lines as field sets; intervals are instants and need nothing. */
export function specFieldSets(spec: Pick<ScheduleSpec, 'calendars' | 'cronExpressions'>): FieldSets[] {
  return [...(spec.calendars ?? []).map(calendarFieldSets), ...(spec.cronExpressions ?? []).map(cronFieldSets)];
}

const CRON_FIELDS = [
  { name: 'minute', names: false },
  { name: 'hour', names: false },
  { name: 'day-of-month', names: false },
  { name: 'month', names: true },
  { name: 'day-of-week', names: true },
] as const;

/**
 * Why Temporal would refuse (or never fire) `expression`, or undefined. croner checks values and
 * ranges, but also accepts Quartz extensions (L, W, #, ?) that Temporal's parser rejects, so the
 * shape of each field is checked here first.
 */
export function cronProblem(expression: string, timezone: string, now: Date): string | undefined {
  if (expression.startsWith('@')) {
    if (!Object.hasOwn(CRON_MACROS, expression)) {
      return `the only shortcuts are ${Object.keys(CRON_MACROS).join(', ')}`;
    }
  } else {
    const parts = expression.split(' ');
    if (parts.length !== CRON_FIELDS.length) {
      return 'must have 5 fields: minute hour day-of-month month day-of-week';
    }
    for (const [index, { name, names }] of CRON_FIELDS.entries()) {
      const value = names ? '(?:\\d+|[A-Za-z]{3})' : '\\d+';
      const item = new RegExp(`^(?:\\*|${value}(?:-${value})?)(?:/\\d+)?$`);
      const part = parts[index] ?? '';
      if (!part.split(',').every((token) => item.test(token))) {
        return `${name} field '${part}' must be *, values, ranges or lists, optionally with /step (no L, W, # or ?)`;
      }
    }
  }
  let cron: Cron;
  try {
    // Temporal requires day-of-month AND day-of-week to match, unlike classic cron's OR.
    cron = new Cron(expression, { mode: '5-part', domAndDow: true, timezone });
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, '');
  }
  if (cron.nextRun(now) === null) return 'never fires: no date matches all its fields';
  return undefined;
}
