import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { adminPasswordFile } from '../api/bootstrap';
import { runMigrations } from '../db';
import { loadConfig, type AppConfig } from '../lib/config';
import { loadDevServerConfig } from '../lib/dev-server-config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../lib/embedded-postgres';
import { createLogger, type Logger } from '../lib/logger';
import { ManagedProcess, tsxNodeArgs } from '../lib/managed-process';
import { PROJECT_ROOT } from '../lib/paths';
import { onShutdownSignal, runMain } from '../lib/process';
import { startSmtpSink, type SmtpSink } from '../lib/smtp-sink';
import { resolveTemporalBinary } from '../lib/temporal-binaries';
import { assertPortFree, startDevServer, type RunningDevServer } from './temporal-dev-server';

/** Everything the launcher started, stopped in reverse order of dependency. */
interface System {
  api?: ManagedProcess;
  worker?: ManagedProcess;
  mailSink?: SmtpSink;
  temporal?: RunningDevServer;
  postgres?: EmbeddedPostgres;
}

const APPLICATION_DATABASE = 'edms';

function spawnNodeService(name: 'api' | 'worker', env: NodeJS.ProcessEnv, logger: Logger): ManagedProcess {
  return new ManagedProcess(name, process.execPath, tsxNodeArgs(path.join(PROJECT_ROOT, name, 'main.ts')), {
    cwd: PROJECT_ROOT,
    env,
    // The services log through pino already; relay their lines untouched so formats stay one.
    onLine: (line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`),
  }).onEarlyExitLog(logger);
}

async function waitForHealthy(url: string, services: ManagedProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const dead = services.find((service) => !service.running);
    if (dead) throw new Error(`${dead.name} exited during start:\n${dead.tail()}`);
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

async function stopSystem(system: System, config: AppConfig, logger: Logger): Promise<void> {
  if (system.api) {
    logger.info('stopping API');
    await system.api.stop('SIGTERM', 10_000);
  }
  if (system.worker) {
    logger.info('stopping worker (in-flight activities may finish)');
    await system.worker.stop('SIGTERM', (config.workerShutdownGraceSeconds + 10) * 1000);
  }
  if (system.mailSink) {
    await system.mailSink.close();
  }
  if (system.temporal) {
    logger.info('stopping Temporal dev server');
    await system.temporal.stop();
  }
  if (system.postgres) {
    logger.info('stopping PostgreSQL');
    await system.postgres.stop();
  }
}

function printBanner(config: AppConfig, system: System, databaseDescription: string): void {
  const api = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
  const lines = [
    '',
    'edms-temporal is running',
    `  API            ${api}   (OpenAPI docs: ${api}/docs)`,
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
  const logFormat = process.env.LOG_FORMAT ? config.logFormat : process.stdout.isTTY ? 'pretty' : 'json';
  const logger = createLogger({ ...config, logFormat }, 'launcher');
  const system: System = {};
  let stopping = false;

  const shutdown = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    await stopSystem(system, config, logger);
    logger.info('everything stopped');
    process.exit(exitCode);
  };
  onShutdownSignal(async (signal) => {
    logger.info({ signal }, 'stopping edms-temporal');
    await shutdown(0);
  });

  try {
    await mkdir(config.dataDir, { recursive: true });
    await assertPortFree(config.host, config.port, 'API');

    const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: logFormat, EDMS_DATA_DIR: config.dataDir };

    if (process.env.TEMPORAL_ADDRESS) {
      logger.info({ address: process.env.TEMPORAL_ADDRESS }, 'using the Temporal service at TEMPORAL_ADDRESS');
    } else {
      const devConfig = loadDevServerConfig({
        dataDir: config.dataDir,
        port: config.temporalDevPort,
        uiPort: config.temporalDevUiPort,
      });
      const binary = await resolveTemporalBinary('cli', { log: (message) => logger.info(message) });
      logger.info({ binary, db: devConfig.dbFilename }, 'starting the Temporal dev server');
      system.temporal = await startDevServer(devConfig, binary, logger);
      childEnv.TEMPORAL_ADDRESS = system.temporal.address;
      childEnv.TEMPORAL_NAMESPACE ??= system.temporal.namespace;
      logger.info({ address: system.temporal.address, ui: system.temporal.uiUrl }, 'Temporal dev server ready');
    }

    let databaseDescription: string;
    if (config.databaseUrl) {
      childEnv.DATABASE_URL = config.databaseUrl;
      databaseDescription = `DATABASE_URL (${new URL(config.databaseUrl).host})`;
    } else {
      await assertPortFree('127.0.0.1', config.embeddedPgPort, 'embedded PostgreSQL');
      logger.info('starting the embedded PostgreSQL');
      system.postgres = await startEmbeddedPostgres({
        clusterDir: path.join(config.dataDir, 'postgres'),
        port: config.embeddedPgPort,
        database: APPLICATION_DATABASE,
        logger,
      });
      childEnv.DATABASE_URL = system.postgres.url;
      databaseDescription = `embedded on 127.0.0.1:${config.embeddedPgPort} (data in ${path.join(config.dataDir, 'postgres')})`;
    }

    if (config.smtpUrl) {
      childEnv.SMTP_URL = config.smtpUrl;
    } else {
      await assertPortFree('127.0.0.1', config.smtpSinkPort, 'local mail sink');
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

    logger.info('starting worker and API');
    system.worker = spawnNodeService('worker', childEnv, logger);
    system.api = spawnNodeService('api', childEnv, logger);
    await waitForHealthy(`http://127.0.0.1:${config.port}/health`, [system.worker, system.api], 180_000);
    printBanner(config, system, databaseDescription);

    // A service that dies takes the system down with it: a half-running system hides failures.
    for (const service of [system.worker, system.api]) {
      void service.exited.then(({ code, signal }) => {
        if (stopping) return;
        logger.error(
          { service: service.name, code, signal },
          `${service.name} exited unexpectedly; stopping everything`,
        );
        void shutdown(1);
      });
    }
  } catch (error) {
    logger.error({ err: error }, 'start failed; stopping what was started');
    await shutdown(1);
  }
}

runMain(main);
