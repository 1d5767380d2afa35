import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type postgres from 'postgres';
import { ALL_TASK_QUEUES, type TaskQueueName } from '../../common';
import { countLiveWorkers } from '../../db';
import type { ComponentHealth, HealthReport, TaskQueueHealth } from '../schemas/health';

type Status = HealthReport['status'];

export interface HealthDeps {
  sql: postgres.Sql;
  /** A connection without retries (lib/temporal.ts createProbeConnection). */
  temporal: Connection;
  temporalAddress: string;
  namespace: string;
}

const CHECK_TIMEOUT_MS = 3000;
/**
 * A poller counts as alive if it polled within this window. Idle workers re-poll at least once a
 * minute (the server's long-poll expiry), so two minutes never flags a healthy worker.
 */
const POLLER_FRESHNESS_MS = 120_000;

const { TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;

/** `work`, or a rejection once CHECK_TIMEOUT_MS has passed without an answer. */
async function withinCheckTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function timed(check: () => Promise<unknown>): Promise<ComponentHealth> {
  const started = performance.now();
  try {
    await withinCheckTimeout(check());
    return { status: 'up', latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { status: 'down', latency_ms: Math.round(performance.now() - started), error: (error as Error).message };
  }
}

async function countLivePollers(
  connection: Connection,
  namespace: string,
  taskQueue: string,
  type: temporal.api.enums.v1.TaskQueueType,
) {
  const response = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: type,
  });
  const now = Date.now();
  return (response.pollers ?? []).filter((poller) => {
    const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
    return now - seconds * 1000 <= POLLER_FRESHNESS_MS;
  }).length;
}

async function countPollers(connection: Connection, namespace: string, name: TaskQueueName) {
  try {
    const [workflow, activity] = await Promise.all([
      countLivePollers(connection, namespace, name, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
      countLivePollers(connection, namespace, name, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    ]);
    return { workflow, activity };
  } catch {
    return { workflow: 0, activity: 0 };
  }
}

const queueHealth = (pollers: { workflow: number; activity: number }, liveWorkers: number): TaskQueueHealth => ({
  status: pollers.workflow > 0 && pollers.activity > 0 && liveWorkers > 0 ? 'up' : 'down',
  workflow_pollers: pollers.workflow,
  activity_pollers: pollers.activity,
  live_workers: liveWorkers,
});

/**
 * Database, Temporal frontend and the workers of each task queue, checked in parallel. A queue is
 * served ('up') when Temporal lists workflow and activity pollers on it and at least one worker
 * process naming it has a fresh heartbeat.
 */
export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const { temporal: connection, namespace } = deps;
  const withDeadline = <T>(fn: () => Promise<T>) => connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, fn);

  const [database, temporalFrontend, liveWorkers] = await Promise.all([
    timed(() => deps.sql`select 1`),
    timed(() => withDeadline(() => connection.workflowService.describeNamespace({ namespace }))),
    // Without an answer from the database no worker can be vouched for; its component says why.
    withinCheckTimeout(countLiveWorkers(deps.sql)).catch(() => new Map<string, number>()),
  ]);
  const queues = await Promise.all(
    ALL_TASK_QUEUES.map(async (name) => {
      const pollers =
        temporalFrontend.status === 'up'
          ? await withDeadline(() => countPollers(connection, namespace, name))
          : { workflow: 0, activity: 0 };
      return [name, queueHealth(pollers, liveWorkers.get(name) ?? 0)] as const;
    }),
  );
  const taskQueues: Record<string, TaskQueueHealth> = Object.fromEntries(queues);
  const workersStatus: Status = queues.every(([, q]) => q.status === 'up') ? 'up' : 'down';
  const allUp = database.status === 'up' && temporalFrontend.status === 'up' && workersStatus === 'up';
  return {
    status: allUp ? 'up' : 'down',
    checked_at: new Date().toISOString(),
    components: {
      database,
      temporal: { ...temporalFrontend, address: deps.temporalAddress, namespace },
      workers: { status: workersStatus, task_queues: taskQueues },
    },
  };
}
