import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per live worker process, rewritten every few seconds and deleted on a clean stop. Temporal
 * keeps a killed worker's pollers listed for a minute or more, so /health trusts a task queue as
 * served only while some row naming it is fresh.
 */
export const workerHeartbeats = pgTable(
  'worker_heartbeats',
  {
    /** The worker's Temporal identity (`<pid>@<host>`), as its pollers show it. */
    identity: text('identity').primaryKey(),
    taskQueues: text('task_queues').array().notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    /** The database's clock, so API and workers on different hosts compare one time. */
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('worker_heartbeats_last_seen_idx').on(t.lastSeenAt)],
);
