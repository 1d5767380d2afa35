/** Column shapes that several tables share, so each is written once. */
import { sql } from 'drizzle-orm';
import { timestamp, type AnyPgColumn } from 'drizzle-orm/pg-core';

/** A check that a text column holds one of the common/ list's values (constants, never user input). */
export const isOneOf = (column: AnyPgColumn, values: readonly string[]) =>
  sql`${column} in (${sql.raw(values.map((value) => `'${value}'`).join(', '))})`;

export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
