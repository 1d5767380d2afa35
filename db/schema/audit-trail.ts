import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The regulated audit trail: append-only (a trigger in the migrations refuses UPDATE, DELETE and
 * TRUNCATE). `idempotency_key` lets a retried activity insert its entry exactly once.
 */
export const auditTrail = pgTable(
  'audit_trail',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    action: text('action').notNull(),
    /** A username, or `system_scheduler` / `system` for work nobody triggered by hand. */
    actor: text('actor').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    details: jsonb('details')
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    requestId: text('request_id'),
    idempotencyKey: text('idempotency_key'),
  },
  (t) => [
    index('audit_trail_entity_idx').on(t.entityType, t.entityId, t.occurredAt),
    index('audit_trail_action_idx').on(t.action, t.occurredAt),
    uniqueIndex('audit_trail_idempotency_key').on(t.idempotencyKey),
  ],
);

export type NewAuditEntry = typeof auditTrail.$inferInsert;
