import type { Client } from '@temporalio/client';
import { and, count, desc, eq, gte, sql } from 'drizzle-orm';
import type { DocumentStatus } from '../../../common';
import { overdueReviewTask, schema, type Database } from '../../../db';

const { taskExecutions, documents, reviewTasks, backupRuns, backupConfigs, systemHealthChecks } = schema;

const HOUR_MS = 3_600_000;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const SINCE_24H = sql`now() - interval '24 hours'`;

const documentsIn = (db: Database, status: DocumentStatus) => db.$count(documents, eq(documents.status, status));

/** Backup runs started in the last 24 hours, all of them or those that ended so. */
const backupRunsLastDay = (db: Database, status?: 'succeeded' | 'failed') =>
  db.$count(backupRuns, and(gte(backupRuns.startedAt, SINCE_24H), status ? eq(backupRuns.status, status) : undefined));

/** Hours since the last backup that succeeded (one decimal), or null when none ever did. */
async function hoursSinceLastBackup(db: Database): Promise<number | null> {
  const [lastBackup] = await db
    .select({ at: backupRuns.finishedAt })
    .from(backupRuns)
    .where(eq(backupRuns.status, 'succeeded'))
    .orderBy(desc(backupRuns.finishedAt))
    .limit(1);
  return lastBackup?.at ? round((Date.now() - lastBackup.at.getTime()) / HOUR_MS) : null;
}

export type TaskStatistics = Awaited<ReturnType<typeof taskStatistics>>;

/**
 * What the scheduler keeps in motion: documents waiting for their instant, open workflows, overdue
 * review tasks, and how the backups went. `active_workflows` is null when Temporal cannot count them.
 */
export async function taskStatistics(db: Database, temporal: Client) {
  return {
    documents_pending_effective: await documentsIn(db, 'APPROVED_PENDING_EFFECTIVE'),
    documents_scheduled_obsolescence: await documentsIn(db, 'SCHEDULED_FOR_OBSOLESCENCE'),
    active_workflows: await temporal.workflow
      .count('ExecutionStatus = "Running"')
      .then((result) => result.count)
      .catch(() => null),
    overdue_workflows: await db.$count(reviewTasks, overdueReviewTask),
    backup_jobs_last_24h: await backupRunsLastDay(db),
    backup_jobs_failed_24h: await backupRunsLastDay(db, 'failed'),
    backup_jobs_completed_24h: await backupRunsLastDay(db, 'succeeded'),
    enabled_backup_configs: await db.$count(backupConfigs, eq(backupConfigs.enabled, true)),
    last_successful_backup_hours_ago: await hoursSinceLastBackup(db),
  };
}

/** The latest run of each system task. */
export const lastRunOfEachTask = (db: Database) =>
  db
    .selectDistinctOn([taskExecutions.taskName])
    .from(taskExecutions)
    .orderBy(taskExecutions.taskName, desc(taskExecutions.startedAt));

/** How often each system task failed in the last 24 hours (tasks that did not fail are absent). */
export const taskFailuresLastDay = (db: Database) =>
  db
    .select({ taskName: taskExecutions.taskName, value: count() })
    .from(taskExecutions)
    .where(and(eq(taskExecutions.status, 'failed'), gte(taskExecutions.startedAt, SINCE_24H)))
    .groupBy(taskExecutions.taskName);

/** The verdict of the latest system health check task, if it ever ran. */
export async function latestHealthCheck(db: Database) {
  const [latest] = await db.select().from(systemHealthChecks).orderBy(desc(systemHealthChecks.checkedAt)).limit(1);
  return latest;
}
