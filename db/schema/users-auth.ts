/** Who may sign in, with which role and which tokens, and how often the rate-limited routes may be hit. */
import {
  boolean,
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { USER_ROLES } from '../../common';
import { createdAt } from './columns';

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
    /**
     * Every token carries the generation it was issued under and is refused once it differs. A
     * password change, a deactivation, an admin's revoke-sessions and the user's logout add one, so
     * every earlier token dies for good (reactivation leaves it alone). A counter, not a timestamp:
     * a token issued in the same second as a revocation is still ordered before or after it.
     */
    sessionGeneration: integer('session_generation').notNull().default(0),
  },
  (t) => [uniqueIndex('users_username_key').on(t.username), index('users_role_idx').on(t.role)],
);

export type UserRow = typeof users.$inferSelect;

/**
 * Hit counters of rate-limited routes (login, job creation), shared by every API replica so a limit
 * holds however requests are balanced. One row per key (route and client key) for its current
 * window; windows are measured on the database clock, and rows of ended windows are pruned.
 */
export const rateLimitCounters = pgTable(
  'rate_limit_counters',
  {
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    windowEndsAt: timestamp('window_ends_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('rate_limit_counters_window_ends_at_idx').on(t.windowEndsAt)],
);
