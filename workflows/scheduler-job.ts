import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  TimeoutFailure,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { bookkeepingOptions } from './activity-options';
import type { JobRequest, JobTemplateResult } from '../activities/jobs';
import {
  FailureType,
  NON_RETRYABLE_JOB_ERRORS,
  backupWorkflowId,
  isJobTemplateId,
  JOB_TEMPLATE_DESCRIPTORS,
  JOB_RUN_SLOT_FREED_SIGNAL,
  type BackupVerifyMode,
  type JobExecutionStatus,
  type JobRunOutcome,
  type JobRunPlan,
  type SchedulerJobInput,
} from '../common';

import type { backup } from './backup';

/**
 * Reading and recording the run (execution rows, notifications): short transactions each, retried
 * until the database answers.
 */
const bookkeeping = proxyActivities<Activities>(
  bookkeepingOptions([FailureType.JobMissing, FailureType.BackupConfigMissing]),
);

/** How long an attempt's worker may go silent before the attempt counts as failed. */
const JOB_HEARTBEAT_TIMEOUT = '20 seconds';

const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

export interface JobRunState {
  jobId: string;
  name: string | null;
  attempt: number;
  status: JobExecutionStatus | 'planning' | 'waiting_to_retry' | 'waiting_for_previous_run' | 'skipped';
  lastError: string | null;
}

/** Where the run is: `temporal workflow query -w <id> --type jobRunState`. */
export const jobRunStateQuery = defineQuery<JobRunState>('jobRunState');

/** The slot is this run's now (a `buffer_one` run that waited for the previous one). */
const slotFreedSignal = defineSignal(JOB_RUN_SLOT_FREED_SIGNAL);

/**
 * Since this patch every run of a `skip` or `buffer_one` job holds the job's run slot while it works,
 * whoever started it; runs recorded before it replay without the slot.
 */
const RUN_SLOT_PATCH = 'job-run-slot';

/**
 * A waiting run is woken by the run it waits for; it also asks again this often, for a run that was
 * terminated and so never handed the slot on.
 */
const SLOT_RECHECK = '1 minute';

interface AttemptFailure {
  status: 'failed' | 'timeout';
  message: string;
  retryable: boolean;
}

/** Names what went wrong in one attempt, without Temporal's wrappers. */
function describeFailure(error: unknown): AttemptFailure {
  let cause = error;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause) {
    // A missed heartbeat means the worker running the attempt died or hung, not that the job is slow:
    // the attempt failed and the job's retry policy decides what comes next.
    if (cause.cause instanceof TimeoutFailure && cause.cause.timeoutType === 'HEARTBEAT') {
      return {
        status: 'failed',
        message: `the worker running it stopped answering (no heartbeat for ${JOB_HEARTBEAT_TIMEOUT})`,
        retryable: true,
      };
    }
    if (cause.cause instanceof TimeoutFailure) {
      return { status: 'timeout', message: 'the run took longer than its timeout_seconds', retryable: false };
    }
    cause = cause.cause;
  }
  if (cause instanceof ApplicationFailure) {
    const retryable =
      !cause.nonRetryable && !(NON_RETRYABLE_JOB_ERRORS as readonly string[]).includes(cause.type ?? '');
    return { status: 'failed', message: cause.message, retryable };
  }
  return { status: 'failed', message: cause instanceof Error ? cause.message : String(cause), retryable: true };
}

/**
 * One attempt of the template's work, limited to the job's timeout. Temporal's own retries are off:
 * the workflow retries, so that each attempt has its execution row.
 */
async function runTemplate(plan: JobRunPlan): Promise<JobTemplateResult> {
  const { workflowId, runId } = workflowInfo();
  // Typed as an activity name: a descriptor naming an activity the worker does not register fails to compile.
  const activity: keyof Activities | null | undefined = isJobTemplateId(plan.templateType)
    ? JOB_TEMPLATE_DESCRIPTORS[plan.templateType].activity
    : undefined;
  if (activity === null) return runBackup(plan, workflowId);
  const work = proxyActivities<Activities>({
    startToCloseTimeout: `${plan.timeoutSeconds} seconds`,
    // The worker heartbeats every running activity (worker/activity-liveness.ts): a worker killed
    // mid-attempt is noticed within this, not after the job's whole timeout_seconds.
    heartbeatTimeout: JOB_HEARTBEAT_TIMEOUT,
    retry: { maximumAttempts: 1 },
  });
  if (!activity)
    throw ApplicationFailure.nonRetryable(`unknown template ${plan.templateType}`, FailureType.UnknownTemplate);
  const request: JobRequest<unknown> = {
    params: plan.parameters,
    dryRun: plan.dryRun,
    jobId: plan.jobId,
    // The same for every attempt of this run: a retried export rewrites its file, an email is not resent.
    executionKey: `${workflowId}:${runId}`,
  };
  return (work[activity] as (request: JobRequest<unknown>) => Promise<JobTemplateResult>)(request);
}

/** A backup job runs its configuration's `backup` workflow, which is never doubled (id `backup-<config>`). */
async function runBackup(plan: JobRunPlan, jobWorkflowId: string): Promise<JobTemplateResult> {
  const params = plan.parameters as { config: string; verify?: BackupVerifyMode };
  const config = await bookkeeping.resolveBackupConfig({ config: params.config });
  if (!config.enabled) {
    throw ApplicationFailure.nonRetryable(
      `backup configuration ${config.name} is disabled`,
      FailureType.BackupConfigDisabled,
    );
  }
  const workflowId = backupWorkflowId(config.name);
  try {
    const outcome = await executeChild<typeof backup>('backup', {
      workflowId,
      workflowExecutionTimeout: `${plan.timeoutSeconds} seconds`,
      args: [
        {
          backupRunId: uuid4(),
          configId: config.id,
          triggeredBy: `job:${plan.name}`,
          ...(params.verify ? { verifyMode: params.verify } : {}),
        },
      ],
    });
    return {
      summary: `Backup ${config.name}: ${outcome.size_bytes} bytes, verified by ${String(outcome.verification.mode ?? 'checksums')}`,
      result: { ...outcome, skipped: false, workflow_id: workflowId },
      logs: [`ran ${workflowId} for job workflow ${jobWorkflowId}`, `archive ${outcome.path}`],
    };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return {
      summary: `Skipped: a backup of ${config.name} is already running`,
      result: { skipped: true, config: config.name, workflow_id: workflowId },
      logs: [`${workflowId} was already running; this run did not start a second backup`],
    };
  }
}

const retryDelaySeconds = (plan: JobRunPlan, attempt: number) =>
  plan.retryPolicy.initial_interval_seconds * plan.retryPolicy.backoff_coefficient ** (attempt - 1);

/**
 * One run of an admin-defined scheduled job, started by its schedule (`job-<id>`), by `temporal
 * schedule trigger`, or by an admin's run-now: reads the job, runs the template's work with the job's
 * timeout, retries it by the job's policy with one execution row per attempt, and ends the run:
 * completed, exhausted after the last attempt, failed (an error no retry can fix) or timeout.
 */
export async function schedulerJob(input: SchedulerJobInput): Promise<JobRunOutcome> {
  const state: JobRunState = { jobId: input.jobId, name: null, attempt: 0, status: 'planning', lastError: null };
  setHandler(jobRunStateQuery, () => state);

  const scheduledAt = workflowInfo().typedSearchAttributes.get(SCHEDULED_START_TIME);
  const planned = await bookkeeping.planJobRun({
    ...input,
    ...(scheduledAt ? { scheduledAt: scheduledAt.toISOString() } : {}),
  });
  if ('skipped' in planned) {
    state.status = 'skipped';
    return { jobId: input.jobId, status: 'skipped', attempts: 0, executionIds: [], summary: planned.skipped };
  }
  const { plan } = planned;
  state.name = plan.name;

  let slotFreed = false;
  setHandler(slotFreedSignal, () => {
    slotFreed = true;
  });
  let holdsSlot = false;
  if (patched(RUN_SLOT_PATCH)) {
    for (;;) {
      // Cleared before asking: a hand-over signalled while the claim is answered is not lost.
      slotFreed = false;
      const claim = await bookkeeping.claimJobRunSlot({ jobId: plan.jobId });
      if (claim.claimed) {
        holdsSlot = !claim.unlimited;
        break;
      }
      if (!claim.waiting) {
        // `skip`, or `buffer_one` with a run already waiting: this run does not happen, visibly.
        const executionId = await bookkeeping.recordSkippedJobRun({ plan, holder: claim.holder });
        state.status = 'skipped';
        return {
          jobId: plan.jobId,
          status: 'skipped',
          attempts: 0,
          executionIds: [executionId],
          summary: `Skipped: a run of ${plan.name} was in progress (${claim.holder})`,
        };
      }
      state.status = 'waiting_for_previous_run';
      await condition(() => slotFreed, SLOT_RECHECK);
    }
  }
  try {
    return await runAttempts(plan, state);
  } finally {
    if (holdsSlot) await CancellationScope.nonCancellable(() => bookkeeping.releaseJobRunSlot({ jobId: plan.jobId }));
  }
}

/** The attempts of one run, each with its execution row, then the end of the run (emails, audit). */
async function runAttempts(plan: JobRunPlan, state: JobRunState): Promise<JobRunOutcome> {
  const executionIds: string[] = [];
  let outcome: JobRunOutcome | undefined;
  for (let attempt = 1; !outcome; attempt++) {
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
      outcome = { jobId: plan.jobId, status: 'completed', attempts: attempt, executionIds, summary: result.summary };
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
      if (status === 'failed' && failure.retryable) {
        state.status = 'waiting_to_retry';
        await sleep(retryDelaySeconds(plan, attempt) * 1000);
        continue;
      }
      outcome = {
        jobId: plan.jobId,
        status,
        attempts: attempt,
        executionIds,
        summary: `${plan.name} ended ${status} after ${attempt} attempt(s)`,
        error: failure.message,
      };
    }
  }
  state.status = outcome.status === 'skipped' ? 'skipped' : outcome.status;
  await bookkeeping.settleJobRun({ plan, outcome });
  return outcome;
}
