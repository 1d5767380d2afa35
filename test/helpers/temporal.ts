import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import {
  createSystemTaskActivities,
  defaultSystemTaskSettings,
  type SystemTaskSettings,
} from '../../activities/system-tasks';
import { dispatchThroughTemporal } from '../../activities/notification-dispatch';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ALL_TASK_QUEUES, notificationDeliveryWorkflowId, type TaskQueueName } from '../../common';
import { createActivities, type Activities } from '../../activities';
import type { JobTemplateSettings } from '../../activities/jobs';
import { devServerSharedArgs, loadDevServerConfig } from '../../launcher/dev-server-config';
import { createTimeSkippingEnv as startTimeSkippingEnv } from '../../launcher/time-skipping';
import { startWorkerHeartbeat } from '../../worker/heartbeat';
import { bundleWorkflows } from '../../worker/workflow-bundle';
import { createWorker } from '../../worker/workers';
import { TEST_MAIL_SETTINGS, testMailer } from './mail';
import { TEST_ENV, testDatabaseUrl } from './resources';
import { connectDatabase, type DatabaseHandle } from '../../db';

/** Document storage for tests (the health check writes a probe file there). */
const TEST_STORAGE_DIR = path.join(os.tmpdir(), 'edms-test-storage');
/** Backups made by tests land under `<this>/backups/<type>/`. */
export const TEST_BACKUP_DIR = path.join(os.tmpdir(), `edms-test-backups-${process.pid}`);

let runtimeInstalled = false;
/** Keeps the SDK quiet in test output unless something is wrong. */
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger(process.env.EDMS_TEST_SDK_LOG === 'info' ? 'INFO' : 'WARN') });
  } catch {
    // Already installed in this process by another suite.
  }
}

function executable(variable: string) {
  const path = process.env[variable];
  return path ? { type: 'existing-path' as const, path } : { type: 'cached-download' as const };
}

/**
 * The time-skipping test server (launcher/time-skipping.ts) with the binary the global setup found,
 * the SDK kept quiet.
 */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return startTimeSkippingEnv(executable(TEST_ENV.testServer));
}

/**
 * A private dev server (real time, visibility, schedules) on a random port, in memory, with the
 * namespace, search attributes and tuning of temporal-dev.yaml.
 */
export async function createDevServerEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const config = loadDevServerConfig({ dataDir: '/nonexistent' });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: executable(TEST_ENV.cli),
      ip: '127.0.0.1',
      namespace: config.namespace,
      ui: false,
      extraArgs: devServerSharedArgs(config),
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflows(new DefaultLogger('WARN'));
  return bundle;
}

export const uniqueTaskQueue = (prefix = 'test') => `${prefix}-${randomUUID()}`;

export interface WorkerOptions {
  taskQueue: string;
  queueKind?: TaskQueueName;
  database: DatabaseHandle;
  activities?: Partial<Activities>;
  systemTasks?: Partial<SystemTaskSettings>;
  jobs?: Partial<JobTemplateSettings>;
}

/** Exports and reports of scheduled jobs made by tests. */
export const TEST_EXPORTS_DIR = path.join(os.tmpdir(), `edms-test-exports-${process.pid}`);

/** Tests call webhooks on loopback servers: private addresses are allowed, any host name. */
export const TEST_JOB_SETTINGS: JobTemplateSettings = {
  exportsDir: TEST_EXPORTS_DIR,
  outboundPolicy: { allowedHosts: [], allowPrivateNetworks: true },
  timezone: 'UTC',
};

/** The real activities on the test database, the test mail sink and this Temporal server. */
export async function testActivities(
  env: TestWorkflowEnvironment,
  database: DatabaseHandle,
  systemTasks: Partial<SystemTaskSettings> = {},
  jobs: Partial<JobTemplateSettings> = {},
): Promise<Activities> {
  return createActivities({
    database,
    mailer: await testMailer(),
    mail: TEST_MAIL_SETTINGS,
    temporal: env.client,
    systemTasks: { ...defaultSystemTaskSettings(TEST_STORAGE_DIR, testDatabaseUrl(), TEST_BACKUP_DIR), ...systemTasks },
    jobs: { ...TEST_JOB_SETTINGS, ...jobs },
  });
}

/** Runs a real worker (real activities on the test database) while `body` runs, then shuts it down. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  options: WorkerOptions,
  body: () => Promise<T>,
): Promise<T> {
  const worker = await createWorker(
    {
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      workflowBundle: await workflowBundle(),
      activities: {
        ...(await testActivities(
          env,
          options.database,
          {
            documentsTaskQueue: options.taskQueue,
            monitoredTaskQueues: [options.taskQueue],
            ...options.systemTasks,
          },
          options.jobs,
        )),
        ...options.activities,
      },
      shutdownGraceSeconds: 1,
    },
    options.taskQueue,
    options.queueKind ?? 'documents',
  );
  return worker.runUntil(body());
}

/** Ids of the open workflows (the test server answers this old list API, not visibility queries). */
export async function openWorkflowIds(env: TestWorkflowEnvironment): Promise<string[]> {
  const ids: string[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await env.client.workflowService.listOpenWorkflowExecutions({
      namespace: env.namespace ?? 'default',
      maximumPageSize: 1000,
      nextPageToken,
    });
    ids.push(...page.executions.map((execution) => execution.execution?.workflowId ?? ''));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return ids;
}

/**
 * Ends every open workflow. On the time-skipping server a run left with a task and no worker holds
 * the shared clock still for every later test, and parent-close policies are not applied there.
 */
export async function terminateOpenWorkflows(env: TestWorkflowEnvironment): Promise<void> {
  for (const workflowId of await openWorkflowIds(env)) {
    await env.client.workflow
      .getHandle(workflowId)
      .terminate('test finished')
      .catch(() => undefined);
  }
}

/** Whether a workflow is delivering an email itself (a document workflow's own deliveries). */
async function deliveringEmail(env: TestWorkflowEnvironment, workflowId: string): Promise<boolean> {
  try {
    const { raw } = await env.client.workflow.getHandle(workflowId).describe();
    return (raw.pendingActivities ?? []).some((activity) => activity.activityType?.name === 'deliverNotification');
  } catch {
    return false; // ended or gone meanwhile
  }
}

/**
 * Waits (with the worker still running) until every email delivery has finished: every delivery
 * workflow, and every delivery a document workflow runs as its own activity.
 */
export async function deliveriesSettled(env: TestWorkflowEnvironment, timeoutMs = 15_000): Promise<void> {
  const prefix = notificationDeliveryWorkflowId('');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids = await openWorkflowIds(env);
    const open = ids.filter((id) => id.startsWith(prefix));
    for (const id of ids) if (!id.startsWith(prefix) && (await deliveringEmail(env, id))) open.push(id);
    if (open.length === 0) return;
    if (Date.now() > deadline) throw new Error(`email deliveries still running: ${open.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `withWorker`, kept running until the emails its workflows started are delivered: assertions on the
 * mailbox hold, and no delivery outlives its test into the next one.
 */
export function withWorkerUntilDelivered<T>(
  env: TestWorkflowEnvironment,
  options: WorkerOptions,
  body: () => Promise<T>,
): Promise<T> {
  return withWorker(env, options, async () => {
    const result = await body();
    await deliveriesSettled(env);
    return result;
  });
}

/** Workers on the real task queues (dev-server tests of schedules, whose actions name them). */
export async function withQueueWorkers<T>(
  env: TestWorkflowEnvironment,
  options: { database: DatabaseHandle; activities?: Partial<Activities> },
  body: () => Promise<T>,
): Promise<T> {
  const activities = { ...(await testActivities(env, options.database)), ...options.activities };
  const setup = {
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    workflowBundle: await workflowBundle(),
    activities,
    shutdownGraceSeconds: 1,
  };
  const workers = await Promise.all(ALL_TASK_QUEUES.map((queue) => createWorker(setup, queue, queue)));
  const [first, ...others] = workers;
  // As a worker process does, so /health and the monitoring status count these workers.
  const heartbeat = startWorkerHeartbeat({
    sql: options.database.sql,
    identity: `test-${randomUUID()}`,
    taskQueues: ALL_TASK_QUEUES,
  });
  // Each worker's runUntil stops it once the body is done; they run side by side.
  const nested = others.reduce<() => Promise<T>>((inner, worker) => () => worker.runUntil(inner()), body);
  try {
    return await first!.runUntil(nested());
  } finally {
    await heartbeat.stop();
  }
}

/**
 * The real system-task activities over a database connection that is already closed: a task run
 * with them fails as it would when PostgreSQL goes away mid-run.
 */
export async function systemTasksWithoutDatabase(env: TestWorkflowEnvironment) {
  const closed = connectDatabase(testDatabaseUrl());
  await closed.close();
  return createSystemTaskActivities({
    database: closed,
    temporal: env.client,
    dispatchNotifications: dispatchThroughTemporal(env.client),
    settings: defaultSystemTaskSettings(TEST_STORAGE_DIR, testDatabaseUrl(), TEST_BACKUP_DIR),
  });
}

/** `temporal schedule trigger`, as an operator runs it: the CLI against the dev server's `edms` namespace. */
export async function triggerScheduleFromCli(env: TestWorkflowEnvironment, scheduleId: string): Promise<void> {
  await promisify(execFile)(process.env[TEST_ENV.cli]!, [
    'schedule',
    'trigger',
    '--schedule-id',
    scheduleId,
    '--address',
    env.address,
    '--namespace',
    'edms',
  ]);
}
