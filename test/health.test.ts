import { DEFAULT_LIFECYCLE_SETTINGS } from '../common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { buildApp } from '../api/app';
import { ALL_TASK_QUEUES } from '../common';
import { connectDatabase } from '../db';
import { plainTemporalSettings } from '../lib/temporal';
import { startWorkerHeartbeat } from '../worker/heartbeat';
import { createWorker } from '../worker/workers';
import { buildTestApi, TEST_JWT_SECRET, type TestApi } from './helpers/api';
import { createDevServerEnv, testActivities, workflowBundle } from './helpers/temporal';

let env: TestWorkflowEnvironment;
let api: TestApi;

beforeAll(async () => {
  env = await createDevServerEnv();
  api = await buildTestApi({ temporalAddress: env.address });
  // The suites share one database: a worker another suite killed a moment ago may still look alive.
  await api.database.sql`delete from worker_heartbeats`;
});
afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

const health = async (app = api.app) => {
  const response = await app.inject({ url: '/health' });
  return { status: response.statusCode, body: response.json() };
};

test('503 while no worker polls the task queues, naming each queue', async () => {
  const { status, body } = await health();
  expect(status).toBe(503);
  expect(body.status).toBe('down');
  expect(body.components.database.status).toBe('up');
  expect(body.components.temporal).toMatchObject({ status: 'up', namespace: 'edms', address: env.address });
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
  const bundle = await workflowBundle();
  const setup = {
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'edms',
    workflowBundle: bundle,
    activities: await testActivities(env, api.database),
    shutdownGraceSeconds: 1,
  };
  const workers = await Promise.all(ALL_TASK_QUEUES.map((queue) => createWorker(setup, queue, queue)));
  const running = workers.map((worker) => worker.run());
  const heartbeat = startWorkerHeartbeat({
    sql: api.database.sql,
    identity: 'health-test',
    taskQueues: ALL_TASK_QUEUES,
  });
  try {
    let result = await health();
    for (let attempt = 0; attempt < 40 && result.status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      result = await health();
    }
    expect(result.status).toBe(200);
    expect(result.body.status).toBe('up');
    for (const queue of ALL_TASK_QUEUES) {
      expect(result.body.components.workers.task_queues[queue].status).toBe('up');
      expect(result.body.components.workers.task_queues[queue].workflow_pollers).toBeGreaterThanOrEqual(1);
      expect(result.body.components.workers.task_queues[queue].live_workers).toBe(1);
    }
  } finally {
    await heartbeat.stop();
    workers.forEach((worker) => worker.shutdown());
    await Promise.all(running);
  }
});

test('503 with the database named as down when PostgreSQL is unreachable', async () => {
  const unreachable = connectDatabase('postgres://postgres:x@127.0.0.1:1/edms', { max: 1 });
  const app = await buildApp({
    database: unreachable,
    temporalSettings: plainTemporalSettings(env.address),
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
  const bundle = await workflowBundle();
  const setup = {
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'edms',
    workflowBundle: bundle,
    activities: await testActivities(env, api.database),
    shutdownGraceSeconds: 1,
  };
  const workers = await Promise.all(ALL_TASK_QUEUES.map((queue) => createWorker(setup, queue, queue)));
  const running = workers.map((worker) => worker.run());
  // A worker process that hangs or is killed writes no more beats; its pollers stay registered.
  // One beat only (the next is an hour away), so the test ages the row without a race.
  const heartbeat = startWorkerHeartbeat({
    sql: api.database.sql,
    identity: 'stalled',
    taskQueues: ALL_TASK_QUEUES,
    intervalMs: 3_600_000,
  });
  try {
    await heartbeat.started;
    let result = await health();
    for (let attempt = 0; attempt < 40 && result.status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      result = await health();
    }
    expect(result.status).toBe(200);
    // The row stays, ageing, as a SIGKILLed worker's would.
    await api.database
      .sql`update worker_heartbeats set last_seen_at = now() - interval '11 seconds' where identity = 'stalled'`;
    const stalled = await health();
    expect(stalled.status).toBe(503);
    for (const queue of ALL_TASK_QUEUES) {
      expect(stalled.body.components.workers.task_queues[queue]).toMatchObject({ status: 'down', live_workers: 0 });
      expect(stalled.body.components.workers.task_queues[queue].workflow_pollers).toBeGreaterThanOrEqual(1);
    }
    await api.database
      .sql`update worker_heartbeats set last_seen_at = now() - interval '9 seconds' where identity = 'stalled'`;
    expect((await health()).status).toBe(200);
  } finally {
    await heartbeat.stop();
    workers.forEach((worker) => worker.shutdown());
    await Promise.all(running);
  }
});

test('a stopped heartbeat deletes its row at once, so the queue is down without waiting for staleness', async () => {
  const heartbeat = startWorkerHeartbeat({ sql: api.database.sql, identity: 'clean-stop', taskQueues: ['documents'] });
  await heartbeat.started;
  const rows = await api.database.sql`select task_queues from worker_heartbeats where identity = 'clean-stop'`;
  expect(rows).toEqual([{ task_queues: ['documents'] }]);
  await heartbeat.stop();
  expect(await api.database.sql`select 1 from worker_heartbeats where identity = 'clean-stop'`).toHaveLength(0);
});
