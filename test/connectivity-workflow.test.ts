import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectDatabase, type DatabaseHandle } from '../db';
import { connectivityCheck } from '../workflows';
import { testDatabaseUrl } from './helpers/resources';
import { createDevServerEnv, createTimeSkippingEnv, uniqueTaskQueue, withWorker } from './helpers/temporal';

let database: DatabaseHandle;

beforeAll(() => {
  database = connectDatabase(testDatabaseUrl());
});
afterAll(() => database.close());

async function runConnectivityCheck(env: TestWorkflowEnvironment) {
  const taskQueue = uniqueTaskQueue('connectivity');
  return withWorker(env, { taskQueue, database }, () =>
    env.client.workflow.execute(connectivityCheck, { taskQueue, workflowId: `connectivity-${taskQueue}` }),
  );
}

describe('the connectivity workflow proves worker, workflow code and database are wired', () => {
  test('on the time-skipping test server', async () => {
    const env = await createTimeSkippingEnv();
    try {
      const result = await runConnectivityCheck(env);
      expect(result.database.serverVersion).toMatch(/^15\./);
      expect(result.database.databaseName).toMatch(/^edms_test_/);
      expect(result.taskQueue).toMatch(/^connectivity-/);
    } finally {
      await env.teardown();
    }
  });

  test('on the dev server, in the namespace of temporal-dev.yaml, with its search attributes registered', async () => {
    const env = await createDevServerEnv();
    try {
      const result = await runConnectivityCheck(env);
      expect(result.database.serverVersion).toMatch(/^15\./);
      expect(env.namespace).toBe('edms');
      const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace: 'edms' });
      expect(customAttributes).toMatchObject({
        DocumentStatus: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        DocumentNumber: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        EffectiveAt: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
        ObsoleteAt: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
      });
    } finally {
      await env.teardown();
    }
  });
});
