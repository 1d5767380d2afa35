import { and, count, eq, lt, ne, sql } from 'drizzle-orm';
import { schema } from '../../db';
import type { createReviewTaskTasks } from './review-tasks';
import type { SystemTaskDeps, TaskRequest } from './settings';

const { taskExecutions, notificationOutbox } = schema;

/** Pruning of stored task results and delivered emails past their retention. */
export function createHousekeepingTasks(
  { database, settings }: SystemTaskDeps,
  reviewTasks: ReturnType<typeof createReviewTaskTasks>,
) {
  const { db } = database;

  async function pruneExecutions(dryRun: boolean) {
    const older = and(
      lt(taskExecutions.startedAt, sql`now() - make_interval(days => ${settings.taskRetentionDays})`),
      ne(taskExecutions.status, 'running'),
    );
    if (dryRun) {
      const [row] = await db.select({ value: count() }).from(taskExecutions).where(older);
      return { retention_days: settings.taskRetentionDays, would_delete_count: row?.value ?? 0, deleted_count: 0 };
    }
    const deleted = await db.delete(taskExecutions).where(older).returning({ id: taskExecutions.id });
    return {
      retention_days: settings.taskRetentionDays,
      would_delete_count: deleted.length,
      deleted_count: deleted.length,
    };
  }

  async function pruneNotifications(dryRun: boolean) {
    const older = and(
      eq(notificationOutbox.status, 'sent'),
      lt(notificationOutbox.sentAt, sql`now() - make_interval(days => ${settings.notificationRetentionDays})`),
    );
    if (dryRun) {
      const [row] = await db.select({ value: count() }).from(notificationOutbox).where(older);
      return {
        retention_days: settings.notificationRetentionDays,
        would_delete_count: row?.value ?? 0,
        deleted_count: 0,
      };
    }
    const deleted = await db.delete(notificationOutbox).where(older).returning({ id: notificationOutbox.id });
    return {
      retention_days: settings.notificationRetentionDays,
      would_delete_count: deleted.length,
      deleted_count: deleted.length,
    };
  }

  return {
    async cleanupExecutionHistory({ dryRun }: TaskRequest) {
      return { dry_run: dryRun, executions: await pruneExecutions(dryRun), timestamp: new Date().toISOString() };
    },

    async weeklyComprehensiveCleanup(request: TaskRequest) {
      return {
        dry_run: request.dryRun,
        workflow_tasks: await reviewTasks.cleanupWorkflowTasks(request),
        notifications: await pruneNotifications(request.dryRun),
        executions: await pruneExecutions(request.dryRun),
        timestamp: new Date().toISOString(),
      };
    },
  };
}
