import type { Client } from '@temporalio/client';
import type { Transporter } from 'nodemailer';
import type { DatabaseHandle } from '../db';
import { createDocumentActivities } from './documents';
import { dispatchThroughTemporal } from './notification-dispatch';
import { createNotificationActivities, type MailSettings } from './notifications';
import { createSystemActivities } from './system';
import { createSystemTaskActivities, type SystemTaskSettings } from './system-tasks';
import { createTaskExecutionActivities } from './task-executions';

export interface ActivityDeps {
  database: DatabaseHandle;
  mailer: Transporter;
  mail: MailSettings;
  /** Starts the workflows that deliver outbox emails and wakes document workflows. */
  temporal: Client;
  systemTasks: SystemTaskSettings;
}

/** All activities, built once per worker process from real dependencies (tests pass test resources). */
export function createActivities(deps: ActivityDeps) {
  const dispatchNotifications = dispatchThroughTemporal(deps.temporal);
  return {
    ...createSystemActivities(deps),
    ...createDocumentActivities({ database: deps.database, dispatchNotifications }),
    ...createNotificationActivities(deps),
    ...createTaskExecutionActivities(deps),
    ...createSystemTaskActivities({
      database: deps.database,
      temporal: deps.temporal,
      dispatchNotifications,
      settings: deps.systemTasks,
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
