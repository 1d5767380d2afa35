import { isWorkflowRunning } from '../../lib/temporal';
import { and, eq, lt, sql } from 'drizzle-orm';
import { documentWorkflowId, SYSTEM_SCHEDULER, DAY_MS } from '../../common';
import { recordAudit, schema } from '../../db';
import { reconcileAbandonedRuns } from '../../schedules/run-reconciliation';
import type { SystemTaskDeps, TaskRequest } from './settings';

const { reviewTasks, documents, users } = schema;

/** A task overdue this long whose workflow is gone will never be decided through it. */
const EXPIRY_DAYS = 90;

/** The states in which a round of each kind is still open. */
const OPEN_ROUND_STATES = {
  review: ['PENDING_REVIEW', 'UNDER_REVIEW'],
  approval: ['PENDING_APPROVAL'],
} as const;

interface TaskLine {
  task_id: string;
  document_id: string;
  document_number: string;
  kind: string;
  round: number;
  assignee: string;
  due_at: string;
}

/** Overview and repair of review and approval tasks (the timers in the workflows do the nagging). */
export function createReviewTaskTasks({ database, temporal, settings }: SystemTaskDeps) {
  const { db } = database;

  async function pendingTasks(where = sql`true`) {
    const rows = await db
      .select({ task: reviewTasks, document: documents, assignee: users.username })
      .from(reviewTasks)
      .innerJoin(documents, eq(documents.id, reviewTasks.documentId))
      .innerJoin(users, eq(users.id, reviewTasks.assigneeId))
      .where(and(eq(reviewTasks.status, 'pending'), where))
      .orderBy(reviewTasks.dueAt, reviewTasks.id);
    return rows.map((row) => ({
      ...row,
      line: {
        task_id: row.task.id,
        document_id: row.document.id,
        document_number: row.document.documentNumber,
        kind: row.task.kind,
        round: row.task.round,
        assignee: row.assignee,
        due_at: row.task.dueAt.toISOString(),
      } satisfies TaskLine,
    }));
  }

  /** Orphaned: its round is over. Duplicate: a second pending task for one person in one round. Expired: see EXPIRY_DAYS. */
  async function findStaleTasks() {
    const pending = await pendingTasks();
    const orphaned: TaskLine[] = [];
    const duplicates: TaskLine[] = [];
    const expired: TaskLine[] = [];
    const latestRound = new Map<string, number>();
    for (const { task } of pending) {
      const key = `${task.documentId}:${task.kind}`;
      latestRound.set(key, Math.max(latestRound.get(key) ?? 0, task.round));
    }
    const seen = new Set<string>();
    for (const { task, document, line } of [...pending].sort((a, b) => +a.task.createdAt - +b.task.createdAt)) {
      const roundOpen = (OPEN_ROUND_STATES[task.kind] as readonly string[]).includes(document.status);
      if (!roundOpen || task.round < (latestRound.get(`${task.documentId}:${task.kind}`) ?? 0)) {
        orphaned.push(line);
        continue;
      }
      const person = `${task.documentId}:${task.kind}:${task.round}:${task.assigneeId}`;
      if (seen.has(person)) {
        duplicates.push(line);
        continue;
      }
      seen.add(person);
      if (
        Date.now() - task.dueAt.getTime() > EXPIRY_DAYS * DAY_MS &&
        !(await isWorkflowRunning(temporal, documentWorkflowId(task.documentId)))
      ) {
        expired.push(line);
      }
    }
    return { orphaned, duplicates, expired };
  }

  async function cancelTasks(lines: TaskLine[], reason: string): Promise<number> {
    let cancelled = 0;
    for (const line of lines) {
      await db.transaction(async (tx) => {
        const [task] = await tx
          .update(reviewTasks)
          .set({ status: 'cancelled', decidedAt: new Date(), comment: `cancelled by cleanup: ${reason}` })
          .where(and(eq(reviewTasks.id, line.task_id), eq(reviewTasks.status, 'pending')))
          .returning();
        if (!task) return;
        cancelled++;
        await recordAudit(tx, {
          action: 'REVIEW_TASK_CANCELLED',
          actor: SYSTEM_SCHEDULER,
          entityType: 'review_task',
          entityId: task.id,
          details: { document_id: task.documentId, kind: task.kind, round: task.round, reason },
        });
      });
    }
    return cancelled;
  }

  async function cleanupWorkflowTasks({ dryRun }: TaskRequest) {
    const stale = await findStaleTasks();
    const cancelled = dryRun
      ? 0
      : (await cancelTasks(stale.orphaned, 'orphaned')) +
        (await cancelTasks(stale.duplicates, 'duplicate')) +
        (await cancelTasks(stale.expired, 'expired'));
    // Runs whose workflow an operator terminated would otherwise stay `running` for ever.
    const abandonedRuns = await reconcileAbandonedRuns(database.db, temporal, { dryRun });
    return {
      dry_run: dryRun,
      abandoned_runs: abandonedRuns,
      orphaned: stale.orphaned,
      duplicates: stale.duplicates,
      expired: stale.expired,
      would_cancel_count: stale.orphaned.length + stale.duplicates.length + stale.expired.length,
      cancelled_count: cancelled,
      timestamp: new Date().toISOString(),
    };
  }

  return {
    cleanupWorkflowTasks,

    /** A report of overdue tasks: how late, whether escalated, whether a workflow still watches them. */
    async checkWorkflowTimeouts({ dryRun }: TaskRequest) {
      const overdue = await pendingTasks(lt(reviewTasks.dueAt, sql`now()`));
      const severeAfterMs = settings.lifecycle.escalationDays * DAY_MS;
      const running = new Map<string, boolean>();
      const tasks = [];
      for (const { task, line } of overdue) {
        if (!running.has(task.documentId))
          running.set(task.documentId, await isWorkflowRunning(temporal, documentWorkflowId(task.documentId)));
        const overdueMs = Date.now() - task.dueAt.getTime();
        tasks.push({
          ...line,
          overdue_hours: Math.round((overdueMs / 3_600_000) * 10) / 10,
          severely_overdue: overdueMs > severeAfterMs,
          reminders_sent: task.remindersSent,
          escalated: task.escalatedAt !== null,
          workflow_running: running.get(task.documentId)!,
        });
      }
      return {
        dry_run: dryRun,
        overdue_count: tasks.length,
        severely_overdue_count: tasks.filter((t) => t.severely_overdue).length,
        without_workflow_count: tasks.filter((t) => !t.workflow_running).length,
        overdue_tasks: tasks,
        timestamp: new Date().toISOString(),
      };
    },
  };
}
