/**
 * The business events that happen on a timer, each due at an instant someone asked for: a document
 * becoming EFFECTIVE or OBSOLETE, a reminder about an overdue task, its escalation. Their lateness
 * (when they happened minus when they were due) is measured against the lateness SLA.
 * (Periodic-review notices join this list with periodic review.)
 */
export const TIMED_EVENTS = ['effective', 'obsolete', 'reminder', 'escalation'] as const;
export type TimedEvent = (typeof TIMED_EVENTS)[number];

/** The lateness SLA of each timed event when none is configured (EDMS_LATENESS_SLA_SECONDS), in seconds. */
export const DEFAULT_LATENESS_SLA_SECONDS = 60;
