import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { SYSTEM_SCHEDULER } from '../common';
import { recordAudit, schema, type Database } from '../db';
import type { ClosedReason, JobRunRef } from '../db/job-run-slots';

const { schedulerJobExecutions, backupRuns, taskExecutions } = schema;
const CLOSE_EVENT = temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;

/** How many open rows one pass looks at: each costs a describe, and normally there are a handful. */
const BATCH = 200;

/**
 * Asks Temporal whether a run's workflow still works: null while it is running, otherwise why it
 * stopped in an operator's words ("workflow terminated: <reason>", "workflow timed out", ...).
 */
export function temporalClosedReason(client: Client): ClosedReason {
  return async ({ workflowId, runId }: JobRunRef) => {
    let description;
    try {
      description = await client.workflow.getHandle(workflowId, runId ?? undefined).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'workflow no longer known to Temporal';
      throw error;
    }
    const status = description.status.name;
    if (status === 'RUNNING') return null;
    const event = await client.workflowService
      .getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId, runId: description.runId },
        historyEventFilterType: CLOSE_EVENT,
        waitNewEvent: false,
      })
      .then((response) => response.history?.events?.[0])
      .catch(() => undefined);
    switch (status) {
      case 'TERMINATED':
        return `workflow terminated: ${event?.workflowExecutionTerminatedEventAttributes?.reason || 'no reason given'}`;
      case 'TIMED_OUT':
        return 'workflow timed out';
      case 'FAILED':
        return `workflow failed: ${event?.workflowExecutionFailedEventAttributes?.failure?.message ?? 'unknown error'}`;
      case 'CANCELLED':
        return 'workflow cancelled';
      case 'CONTINUED_AS_NEW':
        return 'workflow continued as new without closing this run';
      default:
        return 'workflow completed without closing this run';
    }
  };
}

export interface ReconciledRun {
  id: string;
  workflow_id: string;
  reason: string;
}

export interface Reconciliation {
  dry_run: boolean;
  job_executions: ReconciledRun[];
  backup_runs: ReconciledRun[];
  task_executions: ReconciledRun[];
}

export type ReconciledTable = 'jobs' | 'backups' | 'tasks';

/**
 * Rows left `running` by a workflow that closed without finishing them (an operator terminated it,
 * it timed out, it failed between its steps) are marked failed with the reason and audited, so they
 * stop counting as running and stop blocking anything. A dry run only lists them. `tables` limits the
 * pass (job executions, backup runs, task executions; default all), `jobId` to one job's executions.
 */
export async function reconcileAbandonedRuns(
  db: Database,
  client: Client,
  options: { dryRun?: boolean; jobId?: string; tables?: ReconciledTable[] } = {},
): Promise<Reconciliation> {
  const dryRun = options.dryRun ?? false;
  const known = new Map<string, Promise<string | null>>();
  const closedReason = temporalClosedReason(client);
  const reasonOf = (run: JobRunRef) => {
    const key = `${run.workflowId}/${run.runId ?? ''}`;
    // Temporal unreachable: nothing is known to be over, so nothing is marked (the next pass will).
    if (!known.has(key))
      known.set(
        key,
        closedReason(run).catch(() => null),
      );
    return known.get(key)!;
  };
  const report: Reconciliation = { dry_run: dryRun, job_executions: [], backup_runs: [], task_executions: [] };
  const tables = new Set<ReconciledTable>(options.jobId ? ['jobs'] : (options.tables ?? ['jobs', 'backups', 'tasks']));
  type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

  /**
   * One open row: if its workflow is over, `close` marks it failed and audits it in one transaction
   * (false when someone finished the row meanwhile), and the row is reported; a dry run only reports.
   */
  const settle = async (
    row: { id: string; workflowId: string; runId: string | null },
    reported: ReconciledRun[],
    close: (tx: Tx, reason: string) => Promise<boolean>,
  ) => {
    const reason = await reasonOf({ workflowId: row.workflowId, runId: row.runId });
    if (reason === null) return;
    if (!dryRun && !(await db.transaction((tx) => close(tx, reason)))) return;
    reported.push({ id: row.id, workflow_id: row.workflowId, reason });
  };

  const openJobs = !tables.has('jobs')
    ? []
    : await db
        .select()
        .from(schedulerJobExecutions)
        .where(
          and(
            eq(schedulerJobExecutions.status, 'running'),
            options.jobId ? eq(schedulerJobExecutions.jobId, options.jobId) : undefined,
          ),
        )
        .limit(BATCH);
  for (const row of openJobs) {
    await settle(row, report.job_executions, async (tx, reason) => {
      const [updated] = await tx
        .update(schedulerJobExecutions)
        .set({
          status: 'failed',
          error: reason,
          completedAt: sql`now()`,
          durationSeconds: sql`extract(epoch from now() - ${schedulerJobExecutions.startedAt})`,
        })
        .where(and(eq(schedulerJobExecutions.id, row.id), eq(schedulerJobExecutions.status, 'running')))
        .returning({ id: schedulerJobExecutions.id });
      if (!updated) return false;
      await recordAudit(tx, {
        action: 'JOB_EXECUTION_FAILED',
        actor: SYSTEM_SCHEDULER,
        entityType: 'scheduler_job',
        entityId: row.jobId,
        idempotencyKey: `reconciled:job-execution:${row.id}`,
        details: {
          job_name: row.jobName,
          execution_id: row.id,
          attempt: row.attempt,
          workflow_id: row.workflowId,
          run_id: row.runId,
          error: reason,
          reconciled: true,
        },
      });
      return true;
    });
  }

  const openBackups = !tables.has('backups')
    ? []
    : await db
        .select()
        .from(backupRuns)
        .where(and(eq(backupRuns.status, 'running'), isNotNull(backupRuns.workflowId)))
        .limit(BATCH);
  for (const run of openBackups) {
    const ref = { id: run.id, workflowId: run.workflowId!, runId: run.workflowRunId };
    await settle(ref, report.backup_runs, async (tx, reason) => {
      const [updated] = await tx
        .update(backupRuns)
        .set({
          status: 'failed',
          error: reason,
          finishedAt: sql`now()`,
          durationSeconds: sql`extract(epoch from now() - ${backupRuns.startedAt})`,
        })
        .where(and(eq(backupRuns.id, run.id), eq(backupRuns.status, 'running')))
        .returning({ id: backupRuns.id });
      if (!updated) return false;
      await recordAudit(tx, {
        action: 'BACKUP_FAILED',
        actor: SYSTEM_SCHEDULER,
        entityType: 'backup',
        entityId: run.id,
        idempotencyKey: `reconciled:backup-run:${run.id}`,
        details: {
          backup_type: run.backupType,
          workflow_id: run.workflowId,
          run_id: run.workflowRunId,
          error: reason,
          reconciled: true,
        },
      });
      return true;
    });
  }

  const openTasks = !tables.has('tasks')
    ? []
    : await db.select().from(taskExecutions).where(eq(taskExecutions.status, 'running')).limit(BATCH);
  for (const execution of openTasks) {
    await settle(execution, report.task_executions, async (tx, reason) => {
      const [updated] = await tx
        .update(taskExecutions)
        .set({
          status: 'failed',
          error: reason,
          finishedAt: sql`now()`,
          durationSeconds: sql`extract(epoch from now() - ${taskExecutions.startedAt})`,
        })
        .where(and(eq(taskExecutions.id, execution.id), eq(taskExecutions.status, 'running')))
        .returning({ id: taskExecutions.id });
      if (!updated) return false;
      await recordAudit(tx, {
        action: 'TASK_EXECUTION_FAILED',
        actor: execution.triggeredBy,
        entityType: 'task_execution',
        entityId: execution.id,
        idempotencyKey: `task-execution:${execution.id}:finished`,
        details: { task_name: execution.taskName, trigger: execution.trigger, error: reason, reconciled: true },
      });
      return true;
    });
  }
  return report;
}
