import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_DOCUMENT_ERRORS, type FailureType } from '../common';

/**
 * How long a worker running a long activity (a system task, a backup step, a restore, a job's attempt)
 * may go silent before Temporal counts the attempt as failed. The worker heartbeats every such activity
 * every 5 s (worker/activity-liveness.ts), so a killed or hung worker is noticed within this instead of
 * after the activity's whole timeout, which may be hours.
 */
export const HEARTBEAT_TIMEOUT = '20 seconds';

/**
 * Document activities are short database transactions: retried quickly and for as long as it
 * takes (the database may be restarting), except for failures no retry can fix. They finish in
 * milliseconds, so 10 s is ample; it is also how long a document waits when its worker is killed
 * mid-transition (a replacement worker takes about as long to start, so the retry is waiting for it).
 */
export const DOCUMENT_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: [...NON_RETRYABLE_DOCUMENT_ERRORS],
  },
};

/**
 * The bookkeeping around scheduled work (execution rows, backup runs, audit entries): short
 * transactions retried until the database answers, a dead worker's attempt retried after 10 s,
 * except the failures listed (a configuration or job that no longer exists).
 */
export function bookkeepingOptions(nonRetryable: readonly FailureType[]): ActivityOptions {
  return {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: [...nonRetryable] },
  };
}
