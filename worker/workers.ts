import { Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TASK_QUEUES, type TaskQueueName } from '../common';
import type { Activities } from '../activities';
import { activityLiveness } from './activity-liveness';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  workflowBundle: WorkflowBundleWithSourceMap;
  activities: Activities;
  shutdownGraceSeconds: number;
  identity?: string;
}

/**
 * Per-queue tuning: maintenance runs pg_dump and cleanups, so few at a time; the others are short
 * database transactions.
 */
const ACTIVITY_CONCURRENCY: Record<TaskQueueName, number> = {
  [TASK_QUEUES.documents]: 50,
  [TASK_QUEUES.scheduler]: 10,
  [TASK_QUEUES.maintenance]: 2,
};

/** One Worker for `taskQueue`, sharing the process's connection, bundle and activities. */
export function createWorker(setup: WorkerSetup, taskQueue: string, queueKind: TaskQueueName): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue,
    workflowBundle: setup.workflowBundle,
    activities: setup.activities,
    ...(setup.identity ? { identity: setup.identity } : {}),
    maxConcurrentActivityTaskExecutions: ACTIVITY_CONCURRENCY[queueKind],
    // An in-flight activity (a pg_dump, an email) gets this long to finish on SIGTERM.
    shutdownGraceTime: `${setup.shutdownGraceSeconds} seconds`,
    interceptors: { activity: [activityLiveness()] },
    // Heartbeats reach Temporal at least every 5 s (the SDK's default throttle is 80% of the
    // heartbeat timeout), leaving a 20 s timeout room for a busy event loop.
    maxHeartbeatThrottleInterval: '5 seconds',
    // A workflow task held for a worker that died moves to the shared queue after 5 s (default 10)
    // so its replacement picks the document up sooner; a live worker answers well within that.
    stickyQueueScheduleToStartTimeout: '5 seconds',
  });
}
