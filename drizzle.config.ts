import { defineConfig } from 'drizzle-kit';

/**
 * `npm run db:generate` writes SQL migrations from db/schema/ into db/migrations (committed);
 * they are applied at start by db/migrate.ts, never by drizzle-kit push.
 * @see https://orm.drizzle.team/docs/drizzle-config-file
 */
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema/index.ts',
  out: './db/migrations',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/edms' },
  strict: true,
});
