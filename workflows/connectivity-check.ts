import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { checkDatabase } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

export interface ConnectivityCheckResult {
  taskQueue: string;
  database: { serverVersion: string; databaseName: string };
  /** The workflow's clock when the check finished (the test server's clock under time skipping). */
  checkedAt: string;
}

/**
 * Proves the chain operators rely on: a worker polls the task queue, runs workflow code and reaches
 * the database through an activity.
 */
export async function connectivityCheck(): Promise<ConnectivityCheckResult> {
  const database = await checkDatabase();
  return { taskQueue: workflowInfo().taskQueue, database, checkedAt: new Date().toISOString() };
}
