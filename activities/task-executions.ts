import { Context } from '@temporalio/activity';
import { and, eq, sql } from 'drizzle-orm';
import { SYSTEM_SCHEDULER, type SystemTaskName, type TaskResult, type TaskTrigger } from '../common';
import { recordAudit, schema, type DatabaseHandle } from '../db';
import { auditIfChanged } from './idempotency';

const { taskExecutions } = schema;

export interface TaskExecutionStart {
  taskName: SystemTaskName;
  scheduleId?: string;
  trigger: TaskTrigger;
  triggeredBy?: string;
  dryRun: boolean;
}

export type TaskExecutionEnd =
  | { executionId: string; status: 'succeeded'; result: TaskResult }
  | { executionId: string; status: 'failed'; error: string };

/** Records every run of a system task, with its audit entries, once per workflow run. */
export function createTaskExecutionActivities({ database }: { database: DatabaseHandle }) {
  const { db } = database;
  return {
    /** The execution row of this workflow run (created on the first attempt, found on a retry). */
    async startTaskExecution(start: TaskExecutionStart): Promise<string> {
      const { workflowExecution } = Context.current().info;
      if (!workflowExecution) throw new Error('a task execution is recorded by its workflow');
      const actor = start.triggeredBy ?? SYSTEM_SCHEDULER;
      return db.transaction(async (tx) => {
        const [created] = await tx
          .insert(taskExecutions)
          .values({
            taskName: start.taskName,
            scheduleId: start.scheduleId ?? null,
            workflowId: workflowExecution.workflowId,
            runId: workflowExecution.runId,
            trigger: start.trigger,
            triggeredBy: actor,
            dryRun: start.dryRun,
          })
          .onConflictDoNothing({ target: [taskExecutions.workflowId, taskExecutions.runId] })
          .returning({ id: taskExecutions.id });
        const execution =
          created ??
          (
            await tx
              .select({ id: taskExecutions.id })
              .from(taskExecutions)
              .where(
                and(
                  eq(taskExecutions.workflowId, workflowExecution.workflowId),
                  eq(taskExecutions.runId, workflowExecution.runId),
                ),
              )
          )[0];
        if (!execution) throw new Error(`no task execution for run ${workflowExecution.runId}`);
        await recordAudit(tx, {
          action: 'TASK_EXECUTION_STARTED',
          actor,
          entityType: 'task_execution',
          entityId: execution.id,
          idempotencyKey: `task-execution:${execution.id}:started`,
          details: {
            task_name: start.taskName,
            schedule_id: start.scheduleId ?? null,
            trigger: start.trigger,
            dry_run: start.dryRun,
            workflow_id: workflowExecution.workflowId,
            run_id: workflowExecution.runId,
          },
        });
        return execution.id;
      });
    },

    /** Closes the execution with its result or error; a second call finds it closed and does nothing. */
    async finishTaskExecution(end: TaskExecutionEnd): Promise<void> {
      await db.transaction((tx) =>
        auditIfChanged(
          tx,
          tx
            .update(taskExecutions)
            .set({
              status: end.status,
              finishedAt: sql`now()`,
              durationSeconds: sql`extract(epoch from now() - ${taskExecutions.startedAt})`,
              result: end.status === 'succeeded' ? end.result : null,
              error: end.status === 'failed' ? end.error.slice(0, 4000) : null,
            })
            .where(and(eq(taskExecutions.id, end.executionId), eq(taskExecutions.status, 'running')))
            .returning(),
          (finished) => ({
            action: end.status === 'succeeded' ? 'TASK_EXECUTION_COMPLETED' : 'TASK_EXECUTION_FAILED',
            actor: finished.triggeredBy,
            entityType: 'task_execution',
            entityId: finished.id,
            idempotencyKey: `task-execution:${finished.id}:finished`,
            details: {
              task_name: finished.taskName,
              trigger: finished.trigger,
              dry_run: finished.dryRun,
              duration_seconds: finished.durationSeconds,
              ...(end.status === 'failed' ? { error: end.error } : {}),
            },
          }),
        ),
      );
    },
  };
}
