import { and, eq, inArray } from 'drizzle-orm';
import { JOB_OUTCOME_KIND, SYSTEM_SCHEDULER, type JobRunOutcome, type JobRunPlan } from '../../common';
import { recordAudit, schema, type DatabaseHandle } from '../../db';
import type { DispatchNotifications } from '../notification-dispatch';
import { enqueueEmails } from '../../outbox';
import { currentRun } from './types';

const { schedulerJobs } = schema;

/** The end of each run of a scheduled job: what it means for a `once` job, its audit entry, its emails. */
export function createJobRunSettlement(deps: {
  database: DatabaseHandle;
  dispatchNotifications: DispatchNotifications;
}) {
  const { db } = deps.database;
  return {
    /**
     * The end of a run: a `once` job that its schedule ran is over (completed, or failed), the outcome
     * is audited, and the job's notification addresses are emailed through the outbox, once per run.
     */
    async settleJobRun({
      plan,
      outcome,
    }: {
      plan: JobRunPlan;
      outcome: JobRunOutcome;
    }): Promise<{ emailed: string[] }> {
      const { workflowId, runId } = currentRun();
      const succeeded = outcome.status === 'completed';
      const recipients = plan.dryRun ? [] : succeeded ? plan.notifications.on_success : plan.notifications.on_failure;
      const kind = succeeded ? JOB_OUTCOME_KIND.success : JOB_OUTCOME_KIND.failure;
      const keys = recipients.map((recipient) => `job-run:${workflowId}:${runId}:${kind}:${recipient}`);
      const actor = plan.trigger === 'manual' ? plan.triggeredBy.replace(/^manual:/, '') : SYSTEM_SCHEDULER;
      await db.transaction(async (tx) => {
        if (plan.once && plan.trigger !== 'manual' && !plan.dryRun) {
          await tx
            .update(schedulerJobs)
            .set({ status: succeeded ? 'completed' : 'failed', updatedAt: new Date(), updatedBy: SYSTEM_SCHEDULER })
            .where(and(eq(schedulerJobs.id, plan.jobId), inArray(schedulerJobs.status, ['active', 'paused'])));
        }
        await recordAudit(tx, {
          action: succeeded ? 'JOB_EXECUTION_COMPLETED' : 'JOB_EXECUTION_FAILED',
          actor,
          entityType: 'scheduler_job',
          entityId: plan.jobId,
          idempotencyKey: `job-run:${workflowId}:${runId}:settled`,
          details: {
            job_name: plan.name,
            template_type: plan.templateType,
            status: outcome.status,
            attempts: outcome.attempts,
            triggered_by: plan.triggeredBy,
            dry_run: plan.dryRun,
            workflow_id: workflowId,
            run_id: runId,
            ...(outcome.error ? { error: outcome.error.slice(0, 1000) } : {}),
          },
        });
        const variables = {
          job_id: plan.jobId,
          job_name: plan.name,
          template_type: plan.templateType,
          status: outcome.status,
          attempts: outcome.attempts,
          summary: outcome.summary.slice(0, 1000),
          error: outcome.error?.slice(0, 1000) ?? null,
          triggered_by: plan.triggeredBy,
          workflow_id: workflowId,
          finished_at: new Date().toISOString(),
        };
        await enqueueEmails(
          tx,
          recipients.map((recipient, index) => ({ key: keys[index]!, kind, recipient, variables })),
        );
      });
      await deps.dispatchNotifications(keys);
      return { emailed: recipients };
    },
  };
}
