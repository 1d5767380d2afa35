import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { NOTIFICATION_STATUSES } from '../../common';
import { createdAt } from './columns';
import { documents } from './documents';

export const notificationStatus = pgEnum('notification_status', NOTIFICATION_STATUSES);

/**
 * Emails to send. Written in the same transaction as the change that causes them; a sender
 * delivers each row once (idempotency key) and retries failures, so none is lost or sent twice.
 */
export const notificationOutbox = pgTable(
  'notification_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    idempotencyKey: text('idempotency_key').notNull(),
    kind: text('kind').notNull(),
    recipient: text('recipient').notNull(),
    documentId: uuid('document_id').references(() => documents.id),
    variables: jsonb('variables')
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    status: notificationStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
    /** Who is sending it and since when: a lease, so a crashed sender's row is taken over later. */
    claimedBy: text('claimed_by'),
    claimedAt: timestamp('claimed_at', { withTimezone: true }),
    /** The SMTP Message-ID, the same on every attempt so a receiver can drop a duplicate. */
    messageId: text('message_id'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('notification_outbox_idempotency_key').on(t.idempotencyKey),
    index('notification_outbox_status_idx').on(t.status, t.createdAt),
  ],
);
