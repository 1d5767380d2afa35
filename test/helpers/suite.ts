import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectDatabase, type DatabaseHandle } from '../../db';
import { buildTestApi, type TestApi } from './api';
import { testDatabaseUrl } from './resources';
import { createDevServerEnv, createTimeSkippingEnv, terminateOpenWorkflows, uniqueTaskQueue } from './temporal';

/**
 * The servers a test file runs against, started once in `beforeAll` and stopped in `afterAll` (the
 * Fastify demo's `build()` idea): a file says what it needs in one line instead of copying the hooks.
 * Read the fields inside tests and hooks only; they are set when the file's `beforeAll` has run.
 */
export interface TimeSkippingSuite {
  env: TestWorkflowEnvironment;
  database: DatabaseHandle;
  /** A fresh task queue for every test, so no test's worker picks up another's workflows. */
  taskQueue: string;
}

/**
 * The time-skipping test server and the test database. Workflows a test leaves open are terminated
 * after it unless `keepOpenWorkflows` is set (a file whose tests share long-running workflows).
 */
export function useTimeSkipping(options: { taskQueuePrefix?: string; keepOpenWorkflows?: boolean } = {}) {
  const suite = {} as TimeSkippingSuite;
  beforeAll(async () => {
    suite.env = await createTimeSkippingEnv();
    suite.database = connectDatabase(testDatabaseUrl());
  });
  beforeEach(() => {
    suite.taskQueue = uniqueTaskQueue(options.taskQueuePrefix);
  });
  if (!options.keepOpenWorkflows) afterEach(() => terminateOpenWorkflows(suite.env));
  afterAll(async () => {
    await suite.database?.close();
    await suite.env?.teardown();
  });
  return suite;
}

/** A Temporal server and the real API on it and on the test database. */
export interface ApiSuite {
  env: TestWorkflowEnvironment;
  api: TestApi;
}

/**
 * A private dev server (Schedules, visibility, real time) and the API on it, in the `edms` namespace.
 * For the time-skipping server's missing parts: Schedules and visibility queries.
 */
export function useDevServerApi(options: Omit<Parameters<typeof buildTestApi>[0], 'temporalAddress'> = {}) {
  const suite = {} as ApiSuite;
  beforeAll(async () => {
    suite.env = await createDevServerEnv();
    suite.api = await buildTestApi({ ...options, temporalAddress: suite.env.address, namespace: 'edms' });
  });
  afterAll(async () => {
    await suite.api?.close();
    await suite.env?.teardown();
  });
  return suite;
}

/**
 * The time-skipping test server and the API on it: API tests whose workflows need months to pass.
 * Workflows a test leaves open are terminated after it.
 */
export function useTimeSkippingApi() {
  const suite = {} as ApiSuite;
  beforeAll(async () => {
    suite.env = await createTimeSkippingEnv();
    suite.api = await buildTestApi({ temporalAddress: suite.env.address, namespace: suite.env.namespace ?? 'default' });
  });
  afterEach(() => terminateOpenWorkflows(suite.env));
  afterAll(async () => {
    await suite.api?.close();
    await suite.env?.teardown();
  });
  return suite;
}
