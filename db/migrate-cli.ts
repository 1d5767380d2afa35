import { loadConfig, requireDatabaseUrl } from '../lib/config';
import { createLogger } from '../lib/logger';
import { runMain } from '../lib/process';
import { runMigrations } from './migrate';

/** `npm run db:migrate`: apply the committed migrations to DATABASE_URL (the API also does at start). */
runMain(async () => {
  const config = loadConfig();
  const logger = createLogger(config, 'migrate');
  await runMigrations(requireDatabaseUrl(config));
  logger.info('migrations applied');
});
