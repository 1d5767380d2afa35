import { defineQuery, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { FailureType, type JobExecutionStatus } from '../../common';
import { bookkeepingOptions } from '../activity-options';

/**
 * Reading and recording the run (execution rows, notifications): short transactions each, retried
 * until the database answers.
 */
export const bookkeeping = proxyActivities<Activities>(
  bookkeepingOptions([FailureType.JobMissing, FailureType.BackupConfigMissing]),
);

export interface JobRunState {
  jobId: string;
  name: string | null;
  attempt: number;
  status: JobExecutionStatus | 'planning' | 'waiting_to_retry' | 'waiting_for_previous_run' | 'skipped';
  lastError: string | null;
}

/** Where the run is: `temporal workflow query -w <id> --type jobRunState`. */
export const jobRunStateQuery = defineQuery<JobRunState>('jobRunState');
