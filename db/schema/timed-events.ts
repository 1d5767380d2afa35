import { bigint, boolean, check, doublePrecision, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { TIMED_EVENTS } from '../../common';
import { isOneOf } from './columns';

/**
 * One row per timed business event that happened: when it was due, when the database recorded it,
 * and whether it broke the lateness SLA in force. Written in the transaction of the event itself,
 * once (a retried activity finds its key). The monitoring status reads the last 24 hours of it.
 */
export const timedEventLateness = pgTable(
  'timed_event_lateness',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    event: text('event', { enum: TIMED_EVENTS }).notNull(),
    documentId: uuid('document_id').notNull(),
    /** The review task of a reminder or escalation. */
    taskId: uuid('task_id'),
    /** The later of the requested instant and the moment it was requested (a past instant is due at once). */
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    /** The database's clock in the event's transaction. */
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * occurred_at minus due_at; negative when the event came before its instant by the database's
     * clock (under the time-skipping test server, by months). 64 bits: a month is past 2^31 ms.
     */
    latenessMs: bigint('lateness_ms', { mode: 'number' }).notNull(),
    slaSeconds: doublePrecision('sla_seconds').notNull(),
    breached: boolean('breached').notNull(),
    idempotencyKey: text('idempotency_key').notNull().unique(),
  },
  (t) => [
    index('timed_event_lateness_occurred_idx').on(t.occurredAt),
    check('timed_event_lateness_event_check', isOneOf(t.event, TIMED_EVENTS)),
  ],
);
