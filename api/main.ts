import { connectDatabase, runMigrations } from '../db';
import { loadConfig, requireDatabaseUrl } from '../lib/config';
import { createLogger } from '../lib/logger';
import { onShutdownSignal, runMain } from '../lib/process';
import { loadTemporalSettings } from '../lib/temporal';
import { APP_VERSION } from '../lib/version';
import { buildApp } from './app';
import { ensureInitialAdmin, resolveJwtSecret } from './bootstrap';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  const databaseUrl = requireDatabaseUrl(config);
  const temporalSettings = loadTemporalSettings();

  await runMigrations(databaseUrl);
  const database = connectDatabase(databaseUrl, { applicationName: 'edms-api' });
  await ensureInitialAdmin(database.db, config, logger);

  const app = await buildApp({
    database,
    temporalSettings,
    jwtSecret: await resolveJwtSecret(config),
    jwtTtlSeconds: config.jwtTtlSeconds,
    loginAttemptsPerMinute: config.loginAttemptsPerMinute,
    scheduledJobs: { maxJobsPerUser: config.maxJobsPerUser, createsPerMinute: config.jobCreatesPerMinute },
    outboundPolicy: config.outboundPolicy,
    directories: {
      dataDir: config.dataDir,
      storageDir: config.storageDir,
      exportsDir: config.exportsDir,
      backupDir: config.backupDir,
    },
    timezone: config.timezone,
    lifecycle: config.lifecycle,
    latenessSlaSeconds: config.latenessSlaSeconds,
    logger,
    version: APP_VERSION,
  });

  onShutdownSignal(async (signal) => {
    logger.info({ signal }, 'API stopping');
    await app.close();
    await database.close();
    logger.info('API stopped');
  });

  await app.listen({ port: config.port, host: config.host });
  logger.info(
    { url: `http://${config.host}:${config.port}`, docs: `http://${config.host}:${config.port}/docs` },
    'API ready',
  );
}

runMain(main);
