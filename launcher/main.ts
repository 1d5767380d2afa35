import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { adminPasswordFile } from '../api/bootstrap';
import { runMigrations } from '../db';
import { loadConfig, type AppConfig } from '../lib/config';
import { loadDevServerConfig } from './dev-server-config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { createLogger, type Logger } from '../lib/logger';
import { ManagedProcess, tsxNodeArgs } from './managed-process';
import { PROJECT_ROOT } from '../lib/paths';
import { onShutdownSignal, runMain } from '../lib/process';
import { startSmtpSink, type SmtpSink } from './smtp-sink';
import { resolveTemporalBinary } from './temporal-binaries';
import { Supervisor, type SupervisedChild } from './supervisor';
import { assertPortsFree, DEFAULT_WORKER_METRICS_PORT, plannedPorts } from './ports';
import { startDevServer, type RunningDevServer } from './temporal-dev-server';

/** What the launcher started besides its supervised children. */
interface System {
  mailSink?: SmtpSink;
  /** The latest dev server (a restart replaces it). */
  temporal?: RunningDevServer;
  postgres?: EmbeddedPostgres;
}

const APPLICATION_DATABASE = 'edms';
/** Supervised children, stopped in this order: nothing calls a service that is already gone. */
const STOP_ORDER = ['api', 'worker', 'temporal', 'postgres'];

/**
 * The API or the worker. Spawning is all its start does: whether it comes up is for /health to
 * say, and a service that dies at once counts as a fast failure of the supervisor.
 */
function nodeService(
  name: 'api' | 'worker',
  env: NodeJS.ProcessEnv,
  stopTimeoutMs: number,
  cpuProfileDir: string | undefined,
): SupervisedChild {
  // V8 writes the profiles when the process exits, which SIGTERM leads to (see stop below).
  const profiling = cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : [];
  return {
    name,
    start: async () =>
      new ManagedProcess(
        name,
        process.execPath,
        [...profiling, ...tsxNodeArgs(path.join(PROJECT_ROOT, name, 'main.ts'))],
        {
          cwd: PROJECT_ROOT,
          env,
          // The services log through pino already; relay their lines untouched so formats stay one.
          onLine: (line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`),
        },
      ),
    stop: async (service) => {
      await service.stop('SIGTERM', stopTimeoutMs);
    },
  };
}

async function waitForHealthy(url: string, timeoutMs: number, givenUp: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (givenUp()) throw new Error('a service kept failing during start');
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms; last answer: ${last}`);
}

const STOPPING_MESSAGE: Record<string, string> = {
  api: 'stopping API',
  worker: 'stopping worker (in-flight activities may finish)',
  temporal: 'stopping Temporal dev server',
  postgres: 'stopping PostgreSQL',
};

async function stopSystem(system: System, supervisor: Supervisor, logger: Logger): Promise<void> {
  const log = (name: string) => logger.info(STOPPING_MESSAGE[name] ?? `stopping ${name}`);
  await supervisor.stopAll(['api', 'worker'], log);
  if (system.mailSink) {
    await system.mailSink.close();
  }
  await supervisor.stopAll(STOP_ORDER, log);
  // A dev server the SDK downloaded has no process of ours to supervise; it is stopped here.
  if (system.temporal && !system.temporal.process) {
    logger.info(STOPPING_MESSAGE.temporal!);
    await system.temporal.stop();
  }
}

function printBanner(config: AppConfig, system: System, databaseDescription: string): void {
  const api = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  const lines = [
    '',
    'edms-temporal is running',
    `  API            ${api}   (OpenAPI docs: ${api}/docs, metrics: ${api}/metrics)`,
    config.workerMetricsPort === 0
      ? '  Worker metrics on a free port (the worker logs it: "worker metrics at GET /metrics")'
      : `  Worker metrics http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.workerMetricsPort ?? DEFAULT_WORKER_METRICS_PORT}/metrics`,
    `  Temporal       ${system.temporal?.address ?? process.env.TEMPORAL_ADDRESS}   namespace ${system.temporal?.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'edms'}`,
  ];
  if (system.temporal)
    lines.push(`  Temporal UI    ${system.temporal.uiUrl}/namespaces/${system.temporal.namespace}/workflows`);
  lines.push(`  PostgreSQL     ${databaseDescription}`);
  lines.push(
    `  Email          ${system.mailSink ? `local sink ${system.mailSink.url}, messages in ${path.join(config.dataDir, 'mail')}` : 'SMTP_URL'}`,
  );
  const passwordFile = adminPasswordFile(config.dataDir);
  if (existsSync(passwordFile)) lines.push(`  Admin login    admin / the password in ${passwordFile}`);
  lines.push('Press Ctrl-C to stop everything.', '');
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const devConfig = process.env.TEMPORAL_ADDRESS
    ? undefined
    : loadDevServerConfig({ dataDir: config.dataDir, port: config.temporalDevPort, uiPort: config.temporalDevUiPort });
  // Before anything starts or is written: a taken port found later would leave a half-started
  // system behind it, or a worker failing to bind until the supervisor gives up on it.
  await assertPortsFree(plannedPorts(config, devConfig), 'edms-temporal');
  const logFormat = process.env.LOG_FORMAT ? config.logFormat : process.stdout.isTTY ? 'pretty' : 'json';
  const logger = createLogger({ ...config, logFormat }, 'launcher');
  const system: System = {};
  let stopping = false;
  let gaveUp = false;

  const shutdown = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    await stopSystem(system, supervisor, logger);
    logger.info('everything stopped');
    process.exit(exitCode);
  };
  const supervisor = new Supervisor({
    logger,
    onGiveUp: (name, reason) => {
      gaveUp = true;
      logger.fatal({ child: name, reason }, `giving up on ${name}; stopping edms-temporal`);
      // Also plainly on stderr: whoever runs `npm start` must see why it ended.
      process.stderr.write(`edms-temporal stopped: ${reason}\n`);
      void shutdown(1);
    },
  });
  onShutdownSignal(async (signal) => {
    logger.info({ signal }, 'stopping edms-temporal');
    await shutdown(0);
  });

  try {
    await mkdir(config.dataDir, { recursive: true });

    const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: logFormat, EDMS_DATA_DIR: config.dataDir };

    if (!devConfig) {
      logger.info({ address: process.env.TEMPORAL_ADDRESS }, 'using the Temporal service at TEMPORAL_ADDRESS');
    } else {
      const binary = await resolveTemporalBinary('cli', { log: (message) => logger.info(message) });
      logger.info({ binary, db: devConfig.dbFilename }, 'starting the Temporal dev server');
      if (binary.type === 'existing-path') {
        // A restart reuses the same SQLite file and ports: workflows, schedules and history survive.
        await supervisor.add({
          name: 'temporal',
          start: async () => {
            system.temporal = await startDevServer(devConfig, binary, logger);
            return system.temporal.process!;
          },
          stop: async () => system.temporal?.stop(),
        });
      } else {
        logger.warn('the Temporal dev server runs through the SDK download: it is not restarted if it dies');
        system.temporal = await startDevServer(devConfig, binary, logger);
      }
      if (!system.temporal) throw new Error('the Temporal dev server did not start');
      childEnv.TEMPORAL_ADDRESS = system.temporal.address;
      childEnv.TEMPORAL_NAMESPACE ??= system.temporal.namespace;
      logger.info({ address: system.temporal.address, ui: system.temporal.uiUrl }, 'Temporal dev server ready');
    }

    let databaseDescription: string;
    if (config.databaseUrl) {
      childEnv.DATABASE_URL = config.databaseUrl;
      databaseDescription = `DATABASE_URL (${new URL(config.databaseUrl).host})`;
    } else {
      logger.info('starting the embedded PostgreSQL');
      // A restart reuses the same cluster directory and port, so the URL the services hold stays valid.
      const postgresOptions = {
        clusterDir: path.join(config.dataDir, 'postgres'),
        port: config.embeddedPgPort,
        database: APPLICATION_DATABASE,
        logger,
      };
      await supervisor.add({
        name: 'postgres',
        start: async () => {
          system.postgres = await startEmbeddedPostgres(postgresOptions);
          return system.postgres.process;
        },
        stop: async () => system.postgres?.stop(),
      });
      if (!system.postgres) throw new Error('the embedded PostgreSQL did not start');
      childEnv.DATABASE_URL = system.postgres.url;
      databaseDescription = `embedded on 127.0.0.1:${config.embeddedPgPort} (data in ${path.join(config.dataDir, 'postgres')})`;
    }

    if (config.smtpUrl) {
      childEnv.SMTP_URL = config.smtpUrl;
    } else {
      const mailDir = path.join(config.dataDir, 'mail');
      system.mailSink = await startSmtpSink({
        port: config.smtpSinkPort,
        directory: mailDir,
        onMail: (mail) =>
          logger.info(
            { component: 'mail', to: mail.to, subject: mail.subject },
            'email delivered to the local mail sink',
          ),
      });
      childEnv.SMTP_URL = system.mailSink.url;
      logger.info({ url: system.mailSink.url, mailDir }, 'local mail sink ready (emails are kept as .eml files)');
    }

    logger.info('applying database migrations');
    await runMigrations(childEnv.DATABASE_URL);

    // The worker's Prometheus endpoint, on a fixed port a local scraper can be pointed at.
    if (config.workerMetricsPort === undefined) childEnv.WORKER_METRICS_PORT = String(DEFAULT_WORKER_METRICS_PORT);

    logger.info('starting worker and API');
    const stopGraceMs = (config.workerShutdownGraceSeconds + 10) * 1000;
    await supervisor.add(nodeService('worker', childEnv, stopGraceMs, config.cpuProfileDir));
    await supervisor.add(nodeService('api', childEnv, 10_000, config.cpuProfileDir));
    await waitForHealthy(`http://127.0.0.1:${config.port}/health`, 180_000, () => gaveUp);
    printBanner(config, system, databaseDescription);
  } catch (error) {
    if (gaveUp) return; // the give-up message said why, and the shutdown is under way
    logger.error({ err: error }, 'start failed; stopping what was started');
    await shutdown(1);
  }
}

runMain(main);
