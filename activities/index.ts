import type { Client } from '@temporalio/client';
import type { Transporter } from 'nodemailer';
import type { DatabaseHandle } from '../db';
import { createDocumentActivities } from './documents';
import { createJobRunActivities, createJobTemplateActivities, type JobTemplateSettings } from './jobs';
import { dispatchThroughTemporal } from './notification-dispatch';
import type { MailSettings, OutboxDeps } from '../outbox';
import { createNotificationActivities } from './notifications';
import { createSystemActivities } from './system';
import { createSystemTaskActivities, type SystemTaskSettings } from './system-tasks';
import { createTaskExecutionActivities } from './task-executions';
import type { TimedEventSettings } from './timed-events';

export interface ActivityDeps {
  database: DatabaseHandle;
  mailer: Transporter;
  mail: MailSettings;
  /** Starts the workflows that deliver outbox emails and wakes document workflows. */
  temporal: Client;
  systemTasks: SystemTaskSettings;
  /** Admin-defined scheduled jobs: where exports go, what webhooks may reach. */
  jobs: JobTemplateSettings;
  /** The worker's Temporal identity, recorded on job executions (default pid@host). */
  workerIdentity?: string;
  /** The lateness SLA of timed events and the worker's metrics of them (default: a 60 s SLA, no metrics). */
  timedEvents?: TimedEventSettings;
  /** Told the outcome of every email delivery attempt (the worker's metrics). */
  onDelivery?: OutboxDeps['onDelivery'];
}

/** All activities, built once per worker process from real dependencies (tests pass test resources). */
export function createActivities(deps: ActivityDeps) {
  const dispatchNotifications = dispatchThroughTemporal(deps.temporal);
  return {
    ...createSystemActivities(deps),
    ...createDocumentActivities({
      database: deps.database,
      dispatchNotifications,
      ...(deps.timedEvents ? { timedEvents: deps.timedEvents } : {}),
    }),
    ...createNotificationActivities(deps),
    ...createTaskExecutionActivities(deps),
    ...createSystemTaskActivities({
      database: deps.database,
      temporal: deps.temporal,
      dispatchNotifications,
      settings: deps.systemTasks,
    }),
    ...createJobTemplateActivities({
      database: deps.database,
      mailer: deps.mailer,
      mail: deps.mail,
      ...(deps.onDelivery ? { onDelivery: deps.onDelivery } : {}),
      settings: deps.jobs,
      ...(deps.workerIdentity ? { workerIdentity: deps.workerIdentity } : {}),
    }),
    ...createJobRunActivities({
      database: deps.database,
      temporal: deps.temporal,
      dispatchNotifications,
      ...(deps.workerIdentity ? { workerIdentity: deps.workerIdentity } : {}),
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
