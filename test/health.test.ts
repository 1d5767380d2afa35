import pino from 'pino';
import { buildApp } from '../api/app';
import { ALL_TASK_QUEUES, DEFAULT_LIFECYCLE_SETTINGS } from '../common';
import { connectDatabase } from '../db';
import { plainTemporalSettings } from '../lib/temporal';
import { startWorkerHeartbeat } from '../worker/heartbeat';
import { createWorker } from '../worker/workers';
import { buildTestApi, TEST_JWT_SECRET } from './helpers/api';
import { testActivities, workflowBundle } from './helpers/temporal';
import { useDevServerApi } from './helpers/suite';

const suite = useDevServerApi();

beforeAll(async () => {
  // The suites share one database: a worker another suite killed a moment ago may still look alive.
  await suite.api.database.sql`delete from worker_heartbeats`;
});

const health = async (app = suite.api.app) => {
  const response = await app.inject({ url: '/health' });
  return { status: response.statusCode, body: response.json() };
};

/** Health once Temporal lists the new pollers (it takes a moment), or the last answer after 10 s. */
async function healthOnceUp() {
  let result = await health();
  for (let attempt = 0; attempt < 40 && result.status !== 200; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    result = await health();
  }
  return result;
}

/** A worker on every task queue, with a heartbeat row written as the worker process writes it. */
async function withAllQueueWorkers(
  heartbeatOptions: Omit<Parameters<typeof startWorkerHeartbeat>[0], 'sql' | 'taskQueues'>,
  body: (heartbeat: ReturnType<typeof startWorkerHeartbeat>) => Promise<void>,
) {
  const setup = {
    connection: suite.env.nativeConnection,
    namespace: suite.env.namespace ?? 'edms',
    workflowBundle: await workflowBundle(),
    activities: await testActivities(suite.env, suite.api.database),
    shutdownGraceSeconds: 1,
  };
  const workers = await Promise.all(ALL_TASK_QUEUES.map((queue) => createWorker(setup, queue, queue)));
  const running = workers.map((worker) => worker.run());
  const heartbeat = startWorkerHeartbeat({
    ...heartbeatOptions,
    sql: suite.api.database.sql,
    taskQueues: ALL_TASK_QUEUES,
  });
  try {
    await body(heartbeat);
  } finally {
    await heartbeat.stop();
    workers.forEach((worker) => worker.shutdown());
    await Promise.all(running);
  }
}

test('503 while no worker polls the task queues, naming each queue', async () => {
  const { status, body } = await health();
  expect(status).toBe(503);
  expect(body.status).toBe('down');
  expect(body.components.database.status).toBe('up');
  expect(body.components.temporal).toMatchObject({ status: 'up', namespace: 'edms', address: suite.env.address });
  expect(body.components.workers.status).toBe('down');
  for (const queue of ALL_TASK_QUEUES) {
    expect(body.components.workers.task_queues[queue]).toEqual({
      status: 'down',
      workflow_pollers: 0,
      activity_pollers: 0,
      live_workers: 0,
    });
  }
});

test('200 once a worker with a fresh heartbeat polls every task queue', async () => {
  await withAllQueueWorkers({ identity: 'health-test' }, async () => {
    const result = await healthOnceUp();
    expect(result.status).toBe(200);
    expect(result.body.status).toBe('up');
    for (const queue of ALL_TASK_QUEUES) {
      expect(result.body.components.workers.task_queues[queue].status).toBe('up');
      expect(result.body.components.workers.task_queues[queue].workflow_pollers).toBeGreaterThanOrEqual(1);
      expect(result.body.components.workers.task_queues[queue].live_workers).toBe(1);
    }
  });
});

test('503 with the database named as down when PostgreSQL is unreachable', async () => {
  const unreachable = connectDatabase('postgres://postgres:x@127.0.0.1:1/edms', { max: 1 });
  const app = await buildApp({
    database: unreachable,
    temporalSettings: plainTemporalSettings(suite.env.address),
    jwtSecret: TEST_JWT_SECRET,
    jwtTtlSeconds: 60,
    loginAttemptsPerMinute: 1000,
    logger: pino({ level: 'silent' }),
    timezone: 'UTC',
    lifecycle: DEFAULT_LIFECYCLE_SETTINGS,
    version: 'test',
  });
  try {
    const { status, body } = await health(app);
    expect(status).toBe(503);
    expect(body.components.database).toMatchObject({ status: 'down', error: expect.any(String) });
    expect(body.components.temporal.status).toBe('up');
  } finally {
    await app.close();
    await unreachable.close();
  }
});

test('503 with Temporal named as down when the frontend is unreachable', async () => {
  const offline = await buildTestApi();
  try {
    const { status, body } = await health(offline.app);
    expect(status).toBe(503);
    expect(body.components.temporal).toMatchObject({ status: 'down', address: '127.0.0.1:1' });
    expect(body.components.workers.status).toBe('down');
    expect(body.components.database.status).toBe('up');
  } finally {
    await offline.close();
  }
});

test('a queue whose only worker stopped heartbeating is down within 10 s, though Temporal still lists its pollers', async () => {
  // A worker process that hangs or is killed writes no more beats; its pollers stay registered.
  // One beat only (the next is an hour away), so the test ages the row without a race.
  await withAllQueueWorkers({ identity: 'stalled', intervalMs: 3_600_000 }, async (heartbeat) => {
    await heartbeat.started;
    expect((await healthOnceUp()).status).toBe(200);
    // The row stays, ageing, as a SIGKILLed worker's would.
    await suite.api.database
      .sql`update worker_heartbeats set last_seen_at = now() - interval '11 seconds' where identity = 'stalled'`;
    const stalled = await health();
    expect(stalled.status).toBe(503);
    for (const queue of ALL_TASK_QUEUES) {
      expect(stalled.body.components.workers.task_queues[queue]).toMatchObject({ status: 'down', live_workers: 0 });
      expect(stalled.body.components.workers.task_queues[queue].workflow_pollers).toBeGreaterThanOrEqual(1);
    }
    await suite.api.database
      .sql`update worker_heartbeats set last_seen_at = now() - interval '9 seconds' where identity = 'stalled'`;
    expect((await health()).status).toBe(200);
  });
});

test('a stopped heartbeat deletes its row at once, so the queue is down without waiting for staleness', async () => {
  const heartbeat = startWorkerHeartbeat({
    sql: suite.api.database.sql,
    identity: 'clean-stop',
    taskQueues: ['documents'],
  });
  await heartbeat.started;
  const rows = await suite.api.database.sql`select task_queues from worker_heartbeats where identity = 'clean-stop'`;
  expect(rows).toEqual([{ task_queues: ['documents'] }]);
  await heartbeat.stop();
  expect(await suite.api.database.sql`select 1 from worker_heartbeats where identity = 'clean-stop'`).toHaveLength(0);
});
