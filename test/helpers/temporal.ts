import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { CUSTOM_SEARCH_ATTRIBUTES, type TaskQueueName } from '../../common';
import { createActivities, type Activities } from '../../activities';
import { devServerSharedArgs, loadDevServerConfig } from '../../lib/dev-server-config';
import { WORKFLOWS_PATH } from '../../lib/paths';
import { createWorker } from '../../worker/workers';
import { TEST_ENV } from './resources';
import type { DatabaseHandle } from '../../db';

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

const { IndexedValueType } = temporal.api.enums.v1;
const INDEXED_TYPE = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/**
 * The Java time-skipping test server: timers of months pass in milliseconds. It knows no custom
 * search attributes until told, so ours are registered here.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: executable(TEST_ENV.testServer) },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.entries(CUSTOM_SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED_TYPE[type]]),
    ),
  });
  return env;
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
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

export const uniqueTaskQueue = (prefix = 'test') => `${prefix}-${randomUUID()}`;

export interface WorkerOptions {
  taskQueue: string;
  queueKind?: TaskQueueName;
  database: DatabaseHandle;
  activities?: Partial<Activities>;
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
      activities: { ...createActivities({ database: options.database }), ...options.activities },
      shutdownGraceSeconds: 1,
    },
    options.taskQueue,
    options.queueKind ?? 'documents',
  );
  return worker.runUntil(body());
}
