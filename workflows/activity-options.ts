import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ACTIVITY_ERRORS } from '../activities/errors';

/**
 * Document activities are short database transactions: retried quickly and for as long as it
 * takes (the database may be restarting), except for failures no retry can fix.
 */
export const DOCUMENT_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: NON_RETRYABLE_ACTIVITY_ERRORS,
  },
};

export const DAY_MS = 24 * 60 * 60 * 1000;
