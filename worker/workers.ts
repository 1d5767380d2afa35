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
  /**
   * Workflows the documents queue's Worker keeps in its sticky cache (WORKER_MAX_CACHED_WORKFLOWS);
   * unset is DEFAULT_DOCUMENT_CACHE. The other queues keep their own small caches.
   */
  maxCachedWorkflows?: number;
}

/**
 * Sleeping documents cached by default. Every document sleeps in a workflow until its next instant,
 * so a cache as large as the SDK's default (about 600 per GB of heap, per Worker) grows the worker
 * by the number of documents; an evicted document costs only a replay of its short history when its
 * instant comes. Measured on a 2-core machine: about 0.26 MB of RSS per cached document with the
 * workflow modules shared (workflow-bundle.ts), 0.5 MB before; with this cache the worker stayed at
 * 0.65 to 0.83 GB up to 1,500 documents, where the SDK's default (2,300 per queue on a 4 GB heap)
 * kept growing. A burst of at most this many documents due at one instant needs no replays.
 */
export const DEFAULT_DOCUMENT_CACHE = 1000;

/**
 * Per-queue tuning: maintenance runs pg_dump and cleanups, so few at a time; the others are short
 * database transactions.
 */
const ACTIVITY_CONCURRENCY: Record<TaskQueueName, number> = {
  [TASK_QUEUES.documents]: 50,
  [TASK_QUEUES.scheduler]: 10,
  [TASK_QUEUES.maintenance]: 2,
};

/** Scheduled jobs, system tasks and backups run a few workflows at a time. */
const SMALL_QUEUE_CACHE = 100;

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
    maxCachedWorkflows:
      queueKind === TASK_QUEUES.documents ? (setup.maxCachedWorkflows ?? DEFAULT_DOCUMENT_CACHE) : SMALL_QUEUE_CACHE,
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
