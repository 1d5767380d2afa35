import type { Client } from '@temporalio/client';
import type { Transporter } from 'nodemailer';
import { createActivities } from '../activities';
import { DEFAULT_BACKUP_RETENTION } from '../activities/system-tasks';
import { ALL_TASK_QUEUES, TASK_QUEUES } from '../common';
import type { DatabaseHandle } from '../db';
import type { AppConfig } from '../lib/config';
import type { WorkerMetrics } from '../lib/metrics';
import { APP_VERSION, gitCommit } from '../lib/version';

/** The connections a worker process's activities use; the process opens and closes them. */
export interface WorkerConnections {
  database: DatabaseHandle;
  /** The same database, for pg_dump and psql. */
  databaseUrl: string;
  mailer: Transporter;
  /** A client SDK connection: activities start email deliveries through it, not the worker's native one. */
  temporal: Client;
  /** `<pid>@<host>`, recorded on the job runs this worker executes. */
  identity: string;
  /** The worker's metrics, when it serves them. */
  metrics?: WorkerMetrics;
}

/**
 * Every activity of a worker process, configured from the environment as `npm run worker` is:
 * one place that turns configuration into activity settings, for the worker and for anything that
 * runs the real system in-process (benchmarks, crash tests).
 */
export function activitiesFor(
  config: AppConfig,
  { database, databaseUrl, mailer, temporal, identity, metrics }: WorkerConnections,
) {
  return createActivities({
    database,
    mailer,
    mail: { from: config.mailFrom, publicUrl: config.publicUrl, timezone: config.timezone },
    temporal,
    systemTasks: {
      documentsTaskQueue: TASK_QUEUES.documents,
      lifecycle: config.lifecycle,
      storageDir: config.storageDir,
      taskRetentionDays: config.taskRetentionDays,
      notificationRetentionDays: config.notificationRetentionDays,
      timezone: config.timezone,
      monitoredTaskQueues: ALL_TASK_QUEUES,
      databaseUrl,
      backupDir: config.backupDir,
      backupRetention: DEFAULT_BACKUP_RETENTION,
      backupCompressionLevel: config.backupCompressionLevel,
      pgBinDir: config.pgBinDir,
      appVersion: APP_VERSION,
      gitCommit: gitCommit(),
    },
    jobs: { exportsDir: config.exportsDir, outboundPolicy: config.outboundPolicy, timezone: config.timezone },
    workerIdentity: identity,
    timedEvents: {
      slaSeconds: config.latenessSlaSeconds,
      observe: (record) => {
        // Early (negative) lateness is clock skew between the timer and the database: on time.
        metrics?.timedEventLateness.observe({ event: record.event }, Math.max(0, record.latenessMs) / 1000);
        if (record.breached) metrics?.slaBreaches.inc({ event: record.event });
      },
    },
    ...(metrics ? { onDelivery: (outcome: string) => metrics.emailDeliveries.inc({ outcome }) } : {}),
  });
}
