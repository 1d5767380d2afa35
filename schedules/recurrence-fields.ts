import type { CalendarSpec } from '@temporalio/client';
import { DEFAULT_DST_POLICY, DST_GAP_POLICIES, DST_REPEAT_POLICIES, type DstPolicy } from '../common/scheduler-jobs';
import { MAX_INSTANT_YEAR, MIN_INSTANT_YEAR } from '../lib/dates';

/**
 * The single fields of a job's schedule, each read into what ./recurrence-kinds.ts and ./recurrence.ts build the spec from, or
 * its problem reported under the field's name.
 */

/** Reports one problem of a field; readers then return undefined. */
export type Fail = (field: string, message: string) => void;

/** `dst_policy`: the default policy when absent; otherwise `gap` and `repeat`, each one of its values. */
export function readDstPolicy(value: unknown, fail: Fail): DstPolicy | undefined {
  if (value == null) return { ...DEFAULT_DST_POLICY };
  if (typeof value !== 'object' || Array.isArray(value)) {
    fail('dst_policy', 'must be an object such as {"gap": "run_after", "repeat": "once"}');
    return undefined;
  }
  const {
    gap = DEFAULT_DST_POLICY.gap,
    repeat = DEFAULT_DST_POLICY.repeat,
    ...rest
  } = value as Record<string, unknown>;
  let ok = true;
  for (const key of Object.keys(rest)) {
    fail(`dst_policy.${key}`, 'is not a DST policy field (gap, repeat)');
    ok = false;
  }
  if (!(DST_GAP_POLICIES as readonly unknown[]).includes(gap)) {
    fail('dst_policy.gap', `must be one of ${DST_GAP_POLICIES.join(', ')}`);
    ok = false;
  }
  if (!(DST_REPEAT_POLICIES as readonly unknown[]).includes(repeat)) {
    fail('dst_policy.repeat', `must be one of ${DST_REPEAT_POLICIES.join(', ')}`);
    ok = false;
  }
  return ok ? ({ gap, repeat } as DstPolicy) : undefined;
}

/** `recurrence_config.time`: `HH:MM[:SS]` on a 24-hour clock, as a calendar's fields and as written. */
export function readTime(value: unknown, fail: Fail): { calendar: CalendarSpec; text: string } | undefined {
  const field = 'recurrence_config.time';
  if (value == null) {
    fail(field, 'is required');
    return undefined;
  }
  const match = typeof value === 'string' ? /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value) : null;
  const [hour, minute, second] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3] ?? 0)];
  if (typeof value !== 'string' || !match || hour > 23 || minute > 59 || second > 59) {
    fail(field, 'must be HH:MM or HH:MM:SS (24-hour) between 00:00 and 23:59:59');
    return undefined;
  }
  return { calendar: { hour, minute, second }, text: value };
}

/** `recurrence_config.days`: weekdays (0 = Sunday, 7 also Sunday), sorted, none twice. */
export function readDays(value: unknown, fail: Fail): number[] | undefined {
  const field = 'recurrence_config.days';
  if (!Array.isArray(value) || value.length === 0) {
    fail(field, 'must list at least one day (0 = Sunday … 6 = Saturday)');
    return undefined;
  }
  const valid = value.every((day) => typeof day === 'number' && Number.isInteger(day) && day >= 0 && day <= 7);
  if (!valid) {
    fail(field, 'must hold whole numbers from 0 (Sunday) to 6 (Saturday); 7 also means Sunday');
    return undefined;
  }
  const days = (value as number[]).map((day) => day % 7);
  if (new Set(days).size !== days.length) {
    fail(field, 'must not list a day twice (0 and 7 are both Sunday)');
    return undefined;
  }
  return days.sort((a, b) => a - b);
}

/** `timezone`: an IANA zone name (UTC when absent), in the letter case the zone database uses. */
export function readTimezone(value: unknown, fail: Fail): string | undefined {
  if (value == null) return 'UTC';
  // Intl accepts UTC offsets on newer Node versions; Temporal's server only loads IANA names.
  if (typeof value !== 'string' || !/^[A-Za-z]/.test(value)) {
    fail('timezone', 'must be an IANA time zone name such as Europe/Berlin');
    return undefined;
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    fail('timezone', `unknown time zone '${value}' (use an IANA name such as Europe/Berlin)`);
    return undefined;
  }
  // Only the letter case is taken from Intl: its canonical name can be an older alias (Asia/Calcutta).
  return resolved.toLowerCase() === value.toLowerCase() ? resolved : value;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|([+-])(\d{2}):(\d{2}))$/i;

/** A date-time with an explicit offset; Date.parse alone would roll 2027-02-30 over into March. */
export function readInstant(value: unknown, field: string, fail: Fail): Date | undefined {
  if (value == null) return undefined;
  const match = typeof value === 'string' ? INSTANT.exec(value) : null;
  if (match) {
    const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const millis = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
    const wall = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
    const offsetMinutes = match[9] ? (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11])) : 0;
    const exists =
      wall.getUTCFullYear() === year &&
      wall.getUTCMonth() === month - 1 &&
      wall.getUTCDate() === day &&
      wall.getUTCHours() === hour &&
      wall.getUTCMinutes() === minute &&
      wall.getUTCSeconds() === second &&
      Number(match[10] ?? 0) <= 23 &&
      Number(match[11] ?? 0) <= 59;
    const instant = new Date(wall.getTime() - offsetMinutes * 60_000);
    // The API's instant bounds (lib/dates.ts): an offset can carry 9999-12-31 into year 10000.
    const utcYear = instant.getUTCFullYear();
    if (exists && utcYear >= MIN_INSTANT_YEAR && utcYear <= MAX_INSTANT_YEAR) return instant;
  }
  fail(
    field,
    `must be an ISO 8601 date-time with Z or an offset, in years ${MIN_INSTANT_YEAR}-${MAX_INSTANT_YEAR}, e.g. 2027-03-01T14:00:00+01:00`,
  );
  return undefined;
}
