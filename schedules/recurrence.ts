import type { ScheduleSpec } from '@temporalio/client';
import type { DstPolicy } from '../common/scheduler-jobs';
import { applyDstPolicy, describeDstPolicy, type DstAdjustment } from './dst';
import { readRecurrence, type RecurrenceInput } from './recurrence-kinds';
import { readDstPolicy, readInstant, readTimezone } from './recurrence-fields';

/**
 * How an admin-defined job says when it runs, in either of the two shapes users already know: the
 * `schedule` object (cron or fixed interval) or the form's `recurrence_type` + `recurrence_config`.
 * Fields that do not apply to the chosen `recurrence_type` are ignored, because the form sends its
 * whole `recurrence_config` whatever type is selected. `null` counts as absent (database rows).
 */
export interface JobScheduleInput extends RecurrenceInput {
  /** IANA name; default 'UTC'. Wrong letter case is corrected, since Temporal loads zones case-sensitively. */
  timezone?: string | null;
  /** ISO 8601 date-time with `Z` or an offset: a bare local time would depend on the server's zone. */
  start_at?: string | null;
  end_at?: string | null;
  /** What daylight saving changes do to calendar and cron runs; default run_after / once. */
  dst_policy?: Partial<DstPolicy> | null;
}

export interface RecurrenceFieldError {
  field: string;
  message: string;
}

export type RecurrenceResult =
  | {
      ok: true;
      spec: ScheduleSpec;
      /** Create the Temporal Schedule with `state: { remainingActions: 1 }` and complete the job after its run. */
      once: boolean;
      description: string;
      /** The policy as stored (defaults filled in). */
      dstPolicy: DstPolicy;
      /** Transition days within the horizon on which runs were moved, added or dropped by the policy. */
      dstAdjustments: DstAdjustment[];
    }
  | { ok: false; errors: RecurrenceFieldError[] };

/**
 * The Temporal ScheduleSpec for a job, or every problem found, each naming its field.
 *
 * Calendars and cron lines are matched on the wall clock of `timezone`. Left to itself, Temporal drops
 * a local time the clocks skip (or moves it by a 30-minute gap), and runs a repeated local time once
 * or twice depending on the zone (see schedules/dst.ts for what was measured). `dst_policy` decides instead:
 * by default a skipped time runs at the first instant after the gap and a repeated one runs once, at
 * its first occurrence; the transition days of the next years are written into the spec, so Temporal's
 * own next run times show them. A `once` job is pinned to its UTC instant with `timezone: 'UTC'`, so
 * DST cannot move or skip it; the job's zone is only used to describe it. Intervals count from the
 * Unix epoch (3600 s fires on the hour, UTC), not from when the schedule was created; DST does not
 * touch them either. `dstFrom` is where the DST horizon starts (default `now`).
 */
export function toScheduleSpec(input: JobScheduleInput, now: Date = new Date(), dstFrom: Date = now): RecurrenceResult {
  const errors: RecurrenceFieldError[] = [];
  const fail = (field: string, message: string) => {
    errors.push({ field, message });
  };

  const timezone = readTimezone(input.timezone, fail);
  const startAt = readInstant(input.start_at, 'start_at', fail);
  const endAt = readInstant(input.end_at, 'end_at', fail);
  if (startAt && endAt && endAt.getTime() <= startAt.getTime()) fail('end_at', 'must be after start_at');

  const dstPolicy = readDstPolicy(input.dst_policy, fail);
  const recurrence = readRecurrence(input, timezone ?? 'UTC', now, fail);
  if (recurrence?.runAt) {
    if ((startAt && recurrence.runAt < startAt) || (endAt && recurrence.runAt > endAt)) {
      fail('recurrence_config.run_at', 'must lie between start_at and end_at');
    }
  }

  if (errors.length > 0 || !recurrence || !timezone || !dstPolicy) return { ok: false, errors };
  const zoned = recurrence.runAt === undefined && !recurrence.intervalOnly;
  const dst = zoned
    ? applyDstPolicy(recurrence.spec, timezone, dstPolicy, dstFrom)
    : { spec: recurrence.spec, adjustments: [] };
  return {
    ok: true,
    spec: {
      ...dst.spec,
      timezone: recurrence.runAt ? 'UTC' : timezone,
      ...(startAt ? { startAt } : {}),
      ...(endAt ? { endAt } : {}),
    },
    once: recurrence.runAt !== undefined,
    description: [
      recurrence.description,
      recurrence.intervalOnly ? '' : timezone,
      recurrence.note ?? '',
      describeDstPolicy(dst.adjustments, dstPolicy, timezone),
    ]
      .filter(Boolean)
      .join(' '),
    dstPolicy,
    dstAdjustments: dst.adjustments,
  };
}
