import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import {
  JOB_TEMPLATE_DESCRIPTORS,
  manualJobWorkflowId,
  type SchedulerJobInput,
  type JobTemplateId,
} from '../../../common';
import { JOB_TEMPLATES } from '../../../jobs/templates';
import { recordAudit, schema } from '../../../db';
import { claimJobRunSlot } from '../../../db/job-run-slots';
import { reconcileAbandonedRuns, temporalClosedReason } from '../../../schedules/run-reconciliation';
import { badRequest, conflict } from '../../errors';
import type { JobServiceDeps } from './deps';
import { findJob } from './views';

const { schedulerJobExecutions, schedulerJobRunSlots } = schema;

/**
 * The workflow of a run of the job going by its execution rows, or null. Rows that a closed workflow
 * left `running` (an operator terminated it) are marked failed first, so they never block the job.
 */
async function runInProgress(deps: JobServiceDeps, jobId: string): Promise<string | null> {
  await reconcileAbandonedRuns(deps.db, deps.temporal, { jobId });
  const [open] = await deps.db
    .select({ workflowId: schedulerJobExecutions.workflowId })
    .from(schedulerJobExecutions)
    .where(and(eq(schedulerJobExecutions.jobId, jobId), eq(schedulerJobExecutions.status, 'running')))
    .limit(1);
  return open?.workflowId ?? null;
}

/**
 * Runs the job now, whatever its schedule says (paused included), as its own workflow. A job that
 * must not overlap (`skip`, `buffer_one`) is refused with 409 `job_running` while a run of it is in
 * progress, whoever started that run. The run slot is claimed for the new workflow in the same
 * transaction that starts it, so of two run-nows at once exactly one is started.
 */
export async function runJobNow(deps: JobServiceDeps, id: string, dryRun: boolean, actor: string) {
  const job = await findJob(deps.db, id);
  if (dryRun && !JOB_TEMPLATES[job.templateType as JobTemplateId]?.supports_dry_run) {
    throw badRequest('dry_run_unsupported', `${job.templateType} jobs cannot run as a dry run`, { field: 'dry_run' });
  }
  const refuse = (running: string) =>
    conflict('job_running', `A run of ${job.name} is in progress and its overlap policy is ${job.overlap}`, {
      overlap: job.overlap,
      running_workflow_id: running,
    });
  // Runs started before run slots existed hold none: their open execution rows still count.
  if (job.overlap !== 'allow_all') {
    const running = await runInProgress(deps, id);
    if (running) throw refuse(running);
  }
  const input: SchedulerJobInput = { jobId: id, trigger: 'manual', triggeredBy: actor, dryRun };
  const workflowId = manualJobWorkflowId(id, new Date());
  const start = () =>
    deps.temporal.workflow
      .start('schedulerJob', {
        taskQueue: JOB_TEMPLATE_DESCRIPTORS[job.templateType as JobTemplateId].taskQueue,
        workflowId,
        args: [input],
        staticSummary: `Run now: job ${job.name} by ${actor}${dryRun ? ' (dry run)' : ''}`,
      })
      .catch((error: unknown) => {
        // Another run-now of this job in the same millisecond has this workflow id.
        if (error instanceof WorkflowExecutionAlreadyStartedError) throw refuse(workflowId);
        throw error;
      });
  const handle =
    job.overlap === 'allow_all'
      ? await start()
      : await deps.db.transaction(async (tx) => {
          const claim = await claimJobRunSlot(
            tx,
            id,
            { workflowId, runId: null },
            { wait: false, fresh: true, closedReason: temporalClosedReason(deps.temporal) },
          );
          if (!claim.claimed) throw refuse(claim.holder);
          const started = await start();
          await tx
            .update(schedulerJobRunSlots)
            .set({ runId: started.firstExecutionRunId })
            .where(and(eq(schedulerJobRunSlots.jobId, id), eq(schedulerJobRunSlots.workflowId, workflowId)));
          return started;
        });
  await recordAudit(deps.db, {
    action: 'JOB_RUN_REQUESTED',
    actor,
    entityType: 'scheduler_job',
    entityId: id,
    details: { name: job.name, dry_run: dryRun, workflow_id: workflowId, run_id: handle.firstExecutionRunId },
  });
  return {
    job_id: id,
    workflow_id: workflowId,
    run_id: handle.firstExecutionRunId,
    dry_run: dryRun,
    triggered_by: `manual:${actor}`,
    status: 'running' as const,
  };
}
