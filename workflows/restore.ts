import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType, type RestoreInput } from '../common';
import { HEARTBEAT_TIMEOUT } from './activity-options';

// The worker heartbeats running activities every 5 s (worker/activity-liveness.ts), so a worker that
// died mid-restore is noticed in 20 s; the transaction it held is rolled back by PostgreSQL.
const restore = proxyActivities<Activities>({
  startToCloseTimeout: '3 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  // pg_restore runs in one transaction: an attempt cut short leaves the database as it was.
  retry: {
    initialInterval: '30 seconds',
    maximumAttempts: 2,
    nonRetryableErrorTypes: [FailureType.UnknownBackupRun, FailureType.NoArchive],
  },
});

const reload = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', maximumInterval: '1 minute' },
});

/**
 * Restores a backup (workflow id `restore-backup`: one at a time), then hands every document back
 * to its workflow so the lifecycle timers follow the restored dates.
 */
export async function restoreBackup(input: RestoreInput) {
  const report = await restore.restoreFromBackup(input);
  if (input.dryRun) return { ...report, document_workflows: null };
  return { ...report, document_workflows: await reload.reloadDocumentWorkflows() };
}
