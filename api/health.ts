import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type postgres from 'postgres';
import { ALL_TASK_QUEUES, type TaskQueueName } from '../common';

type Status = 'up' | 'down';

export interface ComponentHealth {
  status: Status;
  latency_ms?: number;
  error?: string;
}

export interface TaskQueueHealth {
  status: Status;
  workflow_pollers: number;
  activity_pollers: number;
}

export interface HealthReport {
  status: Status;
  checked_at: string;
  components: {
    database: ComponentHealth;
    temporal: ComponentHealth & { address: string; namespace: string };
    workers: { status: Status; task_queues: Record<TaskQueueName, TaskQueueHealth> };
  };
}

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

async function timed(check: () => Promise<unknown>): Promise<ComponentHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { status: 'down', latency_ms: Math.round(performance.now() - started), error: (error as Error).message };
  } finally {
    clearTimeout(timer);
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

async function checkTaskQueue(
  connection: Connection,
  namespace: string,
  name: TaskQueueName,
): Promise<TaskQueueHealth> {
  try {
    const [workflowPollers, activityPollers] = await Promise.all([
      countLivePollers(connection, namespace, name, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
      countLivePollers(connection, namespace, name, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    ]);
    return {
      status: workflowPollers > 0 && activityPollers > 0 ? 'up' : 'down',
      workflow_pollers: workflowPollers,
      activity_pollers: activityPollers,
    };
  } catch {
    return { status: 'down', workflow_pollers: 0, activity_pollers: 0 };
  }
}

/** Database, Temporal frontend and worker pollers on each task queue, checked in parallel. */
export async function checkHealth(deps: HealthDeps): Promise<HealthReport> {
  const { temporal: connection, namespace } = deps;
  const withDeadline = <T>(fn: () => Promise<T>) => connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, fn);

  const [database, temporalFrontend] = await Promise.all([
    timed(() => deps.sql`select 1`),
    timed(() => withDeadline(() => connection.workflowService.describeNamespace({ namespace }))),
  ]);
  const queues = await Promise.all(
    ALL_TASK_QUEUES.map(async (name) => {
      const health: TaskQueueHealth =
        temporalFrontend.status === 'up'
          ? await withDeadline(() => checkTaskQueue(connection, namespace, name))
          : { status: 'down', workflow_pollers: 0, activity_pollers: 0 };
      return [name, health] as const;
    }),
  );
  const taskQueues = Object.fromEntries(queues) as Record<TaskQueueName, TaskQueueHealth>;
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
