import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { USER_ROLES } from '../common';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const userRole = pgEnum('user_role', USER_ROLES);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    displayName: text('display_name'),
    role: userRole('role').notNull(),
    /** Escalations of overdue reviews go to this user (or to the admins when unset). */
    managerId: uuid('manager_id').references((): AnyPgColumn => users.id, { onDelete: 'set null' }),
    active: boolean('active').notNull().default(true),
    passwordHash: text('password_hash').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('users_username_key').on(t.username), index('users_role_idx').on(t.role)],
);

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

export type UserRow = typeof users.$inferSelect;
export type NewAuditEntry = typeof auditTrail.$inferInsert;
