import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';
import type { JobExecutionStatus, JobRunOutcome, JobRunPlan } from '../../common';
import { bookkeeping, type JobRunState } from './bookkeeping';
import { describeFailure, runTemplate } from './work';

/** The job's backoff: `initial_interval_seconds × backoff_coefficient^(attempt-1)`. */
const retryDelaySeconds = (plan: JobRunPlan, attempt: number) =>
  plan.retryPolicy.initial_interval_seconds * plan.retryPolicy.backoff_coefficient ** (attempt - 1);

/**
 * The attempts of one run, each with its execution row, until one completes, the last allowed one
 * fails (`exhausted`), one fails in a way no retry can fix (`failed`) or one runs out of time (`timeout`).
 */
export async function runAttempts(plan: JobRunPlan, state: JobRunState): Promise<JobRunOutcome> {
  const executionIds: string[] = [];
  for (let attempt = 1; ; attempt++) {
    state.attempt = attempt;
    state.status = 'running';
    const executionId = await bookkeeping.startJobAttempt({ plan, attempt });
    executionIds.push(executionId);
    try {
      const result = await runTemplate(plan);
      await bookkeeping.finishJobAttempt({
        executionId,
        status: 'completed',
        result: result.result,
        logs: result.logs,
        ...(result.host ? { host: result.host } : {}),
      });
      return { jobId: plan.jobId, status: 'completed', attempts: attempt, executionIds, summary: result.summary };
    } catch (error) {
      if (isCancellation(error)) {
        // An operator cancelled the run: the attempt's row must not stay `running`.
        await CancellationScope.nonCancellable(() =>
          bookkeeping.finishJobAttempt({ executionId, status: 'failed', error: 'cancelled by an operator' }),
        );
        throw error;
      }
      const failure = describeFailure(error);
      const lastAttempt = attempt >= plan.retryPolicy.max_attempts;
      const status: Exclude<JobExecutionStatus, 'running' | 'completed'> =
        failure.status === 'timeout' ? 'timeout' : failure.retryable && lastAttempt ? 'exhausted' : 'failed';
      state.lastError = failure.message;
      await bookkeeping.finishJobAttempt({ executionId, status, error: failure.message });
      if (status !== 'failed' || !failure.retryable) {
        return {
          jobId: plan.jobId,
          status,
          attempts: attempt,
          executionIds,
          summary: `${plan.name} ended ${status} after ${attempt} attempt(s)`,
          error: failure.message,
        };
      }
      state.status = 'waiting_to_retry';
      await sleep(retryDelaySeconds(plan, attempt) * 1000);
    }
  }
}
