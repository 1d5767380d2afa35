import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { MIGRATIONS_DIR } from '../lib/paths';
import { connectDatabase } from './client';

/** Any constant works; it only has to be the same in every process that migrates this database. */
const MIGRATION_LOCK_KEY = 7_233_001;

/**
 * Applies the committed SQL migrations. Several API replicas and workers may start together, so the
 * migration runs under a PostgreSQL advisory lock: one applies, the others then find nothing to do.
 */
export async function runMigrations(databaseUrl: string): Promise<void> {
  const { db, sql, close } = connectDatabase(databaseUrl, { max: 1, applicationName: 'edms-migrations' });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await close();
  }
}
