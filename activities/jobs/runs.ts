import { ApplicationFailure, type Client } from '@temporalio/client';
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { and, eq, sql } from 'drizzle-orm';
import {
  FailureType,
  isJobTemplateId,
  JOB_TEMPLATE_DESCRIPTORS,
  jobScheduleId,
  SYSTEM_SCHEDULER,
  type JobExecutionStatus,
  type JobRunPlan,
  type TaskTrigger,
  type SchedulerJobInput,
} from '../../common';
import { recordAudit, schema, type DatabaseHandle } from '../../db';
import type { DispatchNotifications } from '../notification-dispatch';
import { createJobRunSettlement } from './run-settlement';
import { createJobRunSlotActivities } from './run-slots';
import { currentRun } from './types';
import { processIdentity } from '../../lib/temporal';

const { schedulerJobs, schedulerJobExecutions } = schema;

export interface JobRunDeps {
  database: DatabaseHandle;
  temporal: Client;
  dispatchNotifications: DispatchNotifications;
  /** Recorded as each execution's `execution_host`; the worker's Temporal identity. */
  workerIdentity?: string;
}

export type JobRunRequest = SchedulerJobInput & {
  /** TemporalScheduledStartTime of a run its schedule started (ISO), to tell the CLI's trigger apart. */
  scheduledAt?: string;
};

export type PlannedJobRun = { plan: JobRunPlan } | { skipped: string };

export interface JobAttemptEnd {
  executionId: string;
  status: Exclude<JobExecutionStatus, 'running'>;
  result?: Record<string, unknown>;
  error?: string;
  logs?: string[];
  /** The worker that ran the template (it may differ from the one that opened the row). */
  host?: string;
}

/** One execution row per attempt of a run: a retried activity finds its row instead of adding one. */
const ATTEMPT_KEY = [schedulerJobExecutions.workflowId, schedulerJobExecutions.runId, schedulerJobExecutions.attempt];

/**
 * The bookkeeping around each run of a scheduled job: what the run is to do (read from the job row
 * when it starts, so edits apply to the next run), its run slot, one execution row per attempt, and
 * the end of the run (a `once` job completed or failed, the audit entry, the notification emails).
 */
export function createJobRunActivities(deps: JobRunDeps) {
  const { db } = deps.database;
  const host = deps.workerIdentity ?? processIdentity();
  /** The row of one attempt of this run, as every execution row of it starts. */
  const attemptOf = (plan: JobRunPlan, attempt: number) => {
    const { workflowId, runId } = currentRun();
    return {
      jobId: plan.jobId,
      jobName: plan.name,
      templateType: plan.templateType,
      attempt,
      trigger: plan.trigger,
      triggeredBy: plan.triggeredBy,
      dryRun: plan.dryRun,
      executionHost: host,
      workflowId,
      runId,
    };
  };

  /**
   * Schedule-started runs and `temporal schedule trigger` look alike to the workflow; only a run the
   * schedule's own spec produced has its scheduled time among the spec's matching times.
   */
  async function scheduleOrCli(jobId: string, scheduledAt: string | undefined): Promise<TaskTrigger> {
    if (!scheduledAt) return 'schedule';
    const at = new Date(scheduledAt);
    try {
      const request = {
        namespace: deps.temporal.options.namespace,
        scheduleId: jobScheduleId(jobId),
        startTime: msToTs(at.getTime() - 1000),
        endTime: msToTs(at.getTime() + 1000),
      };
      const response: temporal.api.workflowservice.v1.IListScheduleMatchingTimesResponse =
        await deps.temporal.workflowService.listScheduleMatchingTimes(request);
      const matches = (response.startTime ?? []).some((t) => tsToMs(t) === at.getTime());
      return matches ? 'schedule' : 'cli';
    } catch {
      // Without the schedule (deleted meanwhile) there is nothing to compare: call it the schedule's.
      return 'schedule';
    }
  }

  return {
    ...createJobRunSlotActivities(deps),

    /**
     * A run that did not start because another run of the job was going (`skip`): one `skipped`
     * execution row, so the skip is visible next to the runs, and an audit entry.
     */
    async recordSkippedJobRun({ plan, holder }: { plan: JobRunPlan; holder: string }): Promise<string> {
      const { workflowId, runId } = currentRun();
      const reason = `a run of ${plan.name} was in progress (${holder}) and its overlap policy is skip`;
      return db.transaction(async (tx) => {
        const [created] = await tx
          .insert(schedulerJobExecutions)
          .values({
            ...attemptOf(plan, 1),
            status: 'skipped',
            completedAt: new Date(),
            durationSeconds: 0,
            result: { skipped: true, reason, running_workflow_id: holder },
            logs: [`skipped: ${reason}`],
          })
          .onConflictDoNothing({ target: ATTEMPT_KEY })
          .returning({ id: schedulerJobExecutions.id });
        if (created) {
          await recordAudit(tx, {
            action: 'JOB_EXECUTION_SKIPPED',
            actor: SYSTEM_SCHEDULER,
            entityType: 'scheduler_job',
            entityId: plan.jobId,
            idempotencyKey: `job-run:${workflowId}:${runId}:skipped`,
            details: {
              job_name: plan.name,
              triggered_by: plan.triggeredBy,
              running_workflow_id: holder,
              workflow_id: workflowId,
            },
          });
          return created.id;
        }
        const [existing] = await tx
          .select({ id: schedulerJobExecutions.id })
          .from(schedulerJobExecutions)
          .where(and(eq(schedulerJobExecutions.workflowId, workflowId), eq(schedulerJobExecutions.runId, runId)));
        return existing!.id;
      });
    },

    /** Reads the job for this run, or says why the run has nothing to do. */
    async planJobRun(request: JobRunRequest): Promise<PlannedJobRun> {
      const [job] = await db.select().from(schedulerJobs).where(eq(schedulerJobs.id, request.jobId));
      if (!job) throw ApplicationFailure.nonRetryable(`no scheduled job ${request.jobId}`, FailureType.JobMissing);
      if (job.status === 'deleted') return { skipped: `job ${job.name} was deleted` };
      const trigger =
        request.trigger === 'schedule' ? await scheduleOrCli(job.id, request.scheduledAt) : request.trigger;
      // The schedule's own runs stop with the job; an operator's trigger or an admin's run-now does not.
      if (trigger === 'schedule' && job.status !== 'active') {
        return { skipped: `job ${job.name} is ${job.status}` };
      }
      if (!isJobTemplateId(job.templateType)) {
        throw ApplicationFailure.nonRetryable(
          `job ${job.name} has unknown template ${job.templateType}`,
          FailureType.UnknownTemplate,
        );
      }
      const dryRun = request.dryRun ?? false;
      if (dryRun && !JOB_TEMPLATE_DESCRIPTORS[job.templateType].supportsDryRun) {
        throw ApplicationFailure.nonRetryable(
          `${job.templateType} jobs cannot run as a dry run`,
          FailureType.DryRunUnsupported,
        );
      }
      return {
        plan: {
          jobId: job.id,
          name: job.name,
          templateType: job.templateType,
          parameters: job.parameters,
          timeoutSeconds: job.timeoutSeconds,
          retryPolicy: job.retryPolicy,
          notifications: job.notifications,
          once: job.recurrenceType === 'once',
          status: job.status,
          trigger,
          triggeredBy: trigger === 'manual' ? `manual:${request.triggeredBy ?? 'unknown'}` : trigger,
          dryRun,
        },
      };
    },

    /** Opens the execution row of one attempt (a retried activity finds the row it made). */
    async startJobAttempt({ plan, attempt }: { plan: JobRunPlan; attempt: number }): Promise<string> {
      const { workflowId, runId } = currentRun();
      const [created] = await db
        .insert(schedulerJobExecutions)
        .values(attemptOf(plan, attempt))
        .onConflictDoNothing({ target: ATTEMPT_KEY })
        .returning({ id: schedulerJobExecutions.id });
      if (created) return created.id;
      const [existing] = await db
        .select({ id: schedulerJobExecutions.id })
        .from(schedulerJobExecutions)
        .where(
          and(
            eq(schedulerJobExecutions.workflowId, workflowId),
            eq(schedulerJobExecutions.runId, runId),
            eq(schedulerJobExecutions.attempt, attempt),
          ),
        );
      if (!existing) throw new Error(`no execution row for attempt ${attempt} of ${workflowId}`);
      return existing.id;
    },

    /** Closes an attempt's row once: a retry of this activity finds it closed and changes nothing. */
    async finishJobAttempt(end: JobAttemptEnd): Promise<void> {
      await db
        .update(schedulerJobExecutions)
        .set({
          status: end.status,
          completedAt: sql`now()`,
          durationSeconds: sql`extract(epoch from now() - ${schedulerJobExecutions.startedAt})`,
          result: end.result ?? null,
          error: end.error?.slice(0, 4000) ?? null,
          logs: end.logs ?? [],
          ...(end.host ? { executionHost: end.host } : {}),
        })
        .where(and(eq(schedulerJobExecutions.id, end.executionId), eq(schedulerJobExecutions.status, 'running')));
    },

    ...createJobRunSettlement(deps),
  };
}

export type JobRunActivities = ReturnType<typeof createJobRunActivities>;
