import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { bookkeepingOptions, HEARTBEAT_TIMEOUT } from './activity-options';
import { FailureType, performBackup, type BackupInput, type BackupOutcome } from '../common';
import { rootCause } from './failures';

/** Quick database bookkeeping around the backup (a dead worker's attempt is retried after 10 s). */
const bookkeeping = proxyActivities<Activities>(bookkeepingOptions([FailureType.BackupConfigMissing]));

/**
 * The long steps heartbeat every few seconds: a worker that dies mid-dump is noticed within 20 s
 * and the step starts over on another. Three attempts, then the backup has failed and the
 * admins are told; the next scheduled run tries again.
 */
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '3 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '30 seconds',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FailureType.PgToolMissing, FailureType.PgToolTooOld, FailureType.UnknownBackupRun],
  },
});

/**
 * One backup of one configuration (workflow id `backup-<config>`, so two never overlap): dump the
 * database, archive the document storage, pack, verify and publish the archive, record the run.
 */
export async function backup(input: BackupInput): Promise<BackupOutcome> {
  const plan = await bookkeeping.beginBackupRun(input);
  // Activity proxies have no own keys to spread: each step is named.
  const backupSteps = {
    dumpDatabase: steps.dumpDatabase,
    archiveStorage: steps.archiveStorage,
    packageBackup: steps.packageBackup,
    finishBackupRun: bookkeeping.finishBackupRun,
  };
  return performBackup(backupSteps, plan, (error) => rootCause(error).message);
}
