import { ApplicationFailure, proxyActivities, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { JobRequest, JobTemplateResult } from '../../activities/jobs';
import {
  FailureType,
  NON_RETRYABLE_JOB_ERRORS,
  isJobTemplateId,
  JOB_TEMPLATE_DESCRIPTORS,
  type BackupVerifyMode,
  type JobRunPlan,
} from '../../common';
import { HEARTBEAT_TIMEOUT } from '../activity-options';
import { runBackupChild } from '../backup-child';
import { rootCause } from '../failures';
import { bookkeeping } from './bookkeeping';

/**
 * One attempt of the template's work, limited to the job's timeout. Temporal's own retries are off:
 * the workflow retries, so that each attempt has its execution row.
 */
export async function runTemplate(plan: JobRunPlan): Promise<JobTemplateResult> {
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
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
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
  const { workflowId, outcome } = await runBackupChild(
    config,
    { triggeredBy: `job:${plan.name}`, ...(params.verify ? { verifyMode: params.verify } : {}) },
    `${plan.timeoutSeconds} seconds`,
  );
  if (!outcome) {
    return {
      summary: `Skipped: a backup of ${config.name} is already running`,
      result: { skipped: true, config: config.name, workflow_id: workflowId },
      logs: [`${workflowId} was already running; this run did not start a second backup`],
    };
  }
  return {
    summary: `Backup ${config.name}: ${outcome.size_bytes} bytes, verified by ${String(outcome.verification.mode ?? 'checksums')}`,
    result: { ...outcome, skipped: false, workflow_id: workflowId },
    logs: [`ran ${workflowId} for job workflow ${jobWorkflowId}`, `archive ${outcome.path}`],
  };
}

export interface AttemptFailure {
  status: 'failed' | 'timeout';
  message: string;
  retryable: boolean;
}

/** Names what went wrong in one attempt, without Temporal's wrappers. */
export function describeFailure(error: unknown): AttemptFailure {
  const cause = rootCause(error);
  // A missed heartbeat means the worker running the attempt died or hung, not that the job is slow:
  // the attempt failed and the job's retry policy decides what comes next.
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'HEARTBEAT') {
    return {
      status: 'failed',
      message: `the worker running it stopped answering (no heartbeat for ${HEARTBEAT_TIMEOUT})`,
      retryable: true,
    };
  }
  if (cause instanceof TimeoutFailure) {
    return { status: 'timeout', message: 'the run took longer than its timeout_seconds', retryable: false };
  }
  if (cause instanceof ApplicationFailure) {
    const retryable =
      !cause.nonRetryable && !(NON_RETRYABLE_JOB_ERRORS as readonly string[]).includes(cause.type ?? '');
    return { status: 'failed', message: cause.message, retryable };
  }
  return { status: 'failed', message: cause instanceof Error ? cause.message : String(cause), retryable: true };
}
