import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
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
 * The same transactions run as local activities: inside the workflow task, recorded as one marker,
 * instead of an activity task the server schedules, dispatches and records in three events and a
 * second workflow task. They are short and idempotent (keyed by run and activity id, which a retry
 * keeps), which is what local activities are for. A worker killed mid-transaction fails its
 * workflow task, which the server hands to another worker after the task's 10 s timeout.
 */
export const DOCUMENT_LOCAL_ACTIVITY_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: DOCUMENT_ACTIVITY_OPTIONS.startToCloseTimeout,
  retry: DOCUMENT_ACTIVITY_OPTIONS.retry,
};

/**
 * One email to the SMTP relay: one conversation, which a relay that has not answered in 30 s has
 * dropped. Relay outages last minutes to hours: retried for about a day, after which the outbox
 * row stays `failed` with its last error and the `process_notification_queue` system task sends
 * it again in a delivery workflow of its own.
 */
export const EMAIL_DELIVERY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes', maximumAttempts: 60 },
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
