import type { Client } from '@temporalio/client';
import type { Transporter } from 'nodemailer';
import type { DatabaseHandle } from '../db';
import { createDocumentActivities } from './documents';
import { createJobRunActivities, createJobTemplateActivities, type JobTemplateSettings } from './jobs';
import { dispatchThroughTemporal } from './notification-dispatch';
import { assignmentKeys, type MailSettings, type OutboxDeps } from '../outbox';
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
  // The document workflow delivers these changes' emails itself, as its own activities (one fewer
  // workflow per email): they only write them.
  const timed = deps.timedEvents ? { timedEvents: deps.timedEvents } : {};
  const recorded = createDocumentActivities({
    database: deps.database,
    dispatchNotifications: async () => undefined,
    ...timed,
  });
  return {
    ...createSystemActivities(deps),
    ...createDocumentActivities({ database: deps.database, dispatchNotifications, ...timed }),
    /** transitionDocument, returning the keys of the emails it wrote for the caller to deliver. */
    recordTransition: recorded.transitionDocument,
    /** openReviewRound, returning the tasks and the keys of their assignment emails for the caller to deliver. */
    async recordReviewRound(request: Parameters<typeof recorded.openReviewRound>[0]) {
      const tasks = await recorded.openReviewRound(request);
      return { tasks, notificationKeys: assignmentKeys(tasks) };
    },
    /** notifyOverdueTask, returning the keys of the emails it wrote for the caller (the review timers) to deliver. */
    recordOverdueTask: recorded.notifyOverdueTask,
    /** reassignTask, returning the task and the key of its assignment email for the caller to deliver. */
    async recordTaskReassignment(request: Parameters<typeof recorded.reassignTask>[0]) {
      const task = await recorded.reassignTask(request);
      return { task, notificationKeys: assignmentKeys([task]) };
    },
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
