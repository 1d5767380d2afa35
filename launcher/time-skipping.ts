import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../common';

const { IndexedValueType } = temporal.api.enums.v1;
const INDEXED_TYPE = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** Where the time-skipping test server binary is: a file on this machine, or the SDK's own download. */
export type TestServerExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

/**
 * The Java time-skipping test server in this process: timers of months pass in milliseconds. It knows
 * no custom search attributes until told, so ours are registered here. The caller installs the SDK's
 * Runtime first (if it wants one of its own) and tears the environment down.
 */
export async function createTimeSkippingEnv(executable: TestServerExecutable): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.entries(CUSTOM_SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED_TYPE[type]]),
    ),
  });
  return env;
}
