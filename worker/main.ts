import { TASK_QUEUES } from '../common';
import { connectDatabase } from '../db';
import { loadConfig, requireDatabaseUrl, requireSmtpUrl } from '../lib/config';
import { createLogger } from '../lib/logger';
import { runMain } from '../lib/process';
import { createMailer } from '../outbox';
import { syncJobSchedules } from '../schedules/job-schedules';
import { syncSchedules } from '../schedules/system-schedules';
import { connectWorkerConnection, createLazyClient, loadTemporalSettings, processIdentity } from '../lib/temporal';
import { startWorkerHeartbeat, type WorkerHeartbeat } from './heartbeat';
import { createSdkLogger, installRuntime } from './runtime';
import { activitiesFor } from './activities';
import { prepareWorkerMetrics } from './metrics';
import { loadWorkflowBundle } from './workflow-bundle';
import { createWorker } from './workers';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'worker');
  const databaseUrl = requireDatabaseUrl(config);
  const mailer = createMailer(requireSmtpUrl(config));
  const temporalSettings = loadTemporalSettings();
  const metricsEndpoint =
    config.workerMetricsPort === undefined
      ? undefined
      : await prepareWorkerMetrics(config.host, config.workerMetricsPort, logger);
  installRuntime(logger, metricsEndpoint?.sdkBindAddress);

  const database = connectDatabase(databaseUrl, { applicationName: 'edms-worker' });
  const connection = await connectWorkerConnection(temporalSettings);
  // Activities start email deliveries through the client SDK (gRPC), not the worker's native connection.
  const client = createLazyClient(temporalSettings);
  let heartbeat: WorkerHeartbeat | undefined;
  const metricsServer = await metricsEndpoint?.serve();
  try {
    // The bundler reports every module at INFO; only its warnings are worth a line.
    const workflowBundle = await loadWorkflowBundle(createSdkLogger(logger, 'WARN'));
    const identity = processIdentity();
    const setup = {
      connection,
      namespace: temporalSettings.namespace,
      workflowBundle,
      activities: activitiesFor(config, {
        database,
        databaseUrl,
        mailer,
        temporal: client,
        identity,
        ...(metricsEndpoint ? { metrics: metricsEndpoint.metrics } : {}),
      }),
      shutdownGraceSeconds: config.workerShutdownGraceSeconds,
      identity,
      ...(config.workerMaxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: config.workerMaxCachedWorkflows }),
    };
    if (config.workerTaskQueues.includes(TASK_QUEUES.scheduler)) {
      // The workers that run system tasks keep their schedules as each task declares them (common/system-tasks.ts).
      const report = await syncSchedules(client, config.timezone);
      logger.info({ ...report, timezone: config.timezone }, 'system schedules in sync');
      const jobs = await syncJobSchedules(client, database.db);
      logger.info(jobs, 'scheduled job schedules in sync');
    }
    const workers = await Promise.all(config.workerTaskQueues.map((queue) => createWorker(setup, queue, queue)));
    heartbeat = startWorkerHeartbeat({ sql: database.sql, identity, taskQueues: config.workerTaskQueues, logger });
    // A stopping worker polls no more: its queues stop counting it while in-flight activities drain.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void heartbeat?.stop());
    logger.info(
      { taskQueues: config.workerTaskQueues, namespace: temporalSettings.namespace, address: temporalSettings.address },
      'worker polling',
    );
    // The SDK's Runtime stops every worker on SIGINT/SIGTERM, letting in-flight activities finish
    // within shutdownGraceTime; run() resolves once they are all drained.
    await Promise.all(workers.map((worker) => worker.run()));
    logger.info('worker stopped');
  } finally {
    await heartbeat?.stop();
    await metricsServer?.close();
    mailer.close();
    await Promise.allSettled([connection.close(), client.connection.close(), database.close()]);
  }
}

runMain(main);
