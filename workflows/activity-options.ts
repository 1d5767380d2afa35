import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_DOCUMENT_ERRORS } from '../common';

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
