import { WorkflowNotFoundError } from '@temporalio/client';
import { and, desc, eq, gte, inArray, lt, notInArray, or, sql } from 'drizzle-orm';
import { JOB_COMPOSED_KINDS, notificationDeliveryWorkflowId } from '../../common';
import { overdueReviewTask, schema } from '../../db';
import { activeAdminEmails, CLAIM_LEASE, enqueueEmails } from '../../outbox';
import type { SystemTaskDeps, TaskRequest } from './settings';

const { notificationOutbox, documents, documentTransitions, reviewTasks, taskExecutions, systemHealthChecks } = schema;

/** Fresh rows belong to the delivery workflow their activity just started. */
const SETTLING = '2 minutes';

/** The notification queue and the daily summary. */
export function createNotificationTasks({ database, temporal, dispatchNotifications, settings }: SystemTaskDeps) {
  const { db } = database;

  async function deliveryStatus(key: string): Promise<string> {
    try {
      return (await temporal.workflow.getHandle(notificationDeliveryWorkflowId(key)).describe()).status.name;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'NOT_FOUND';
      throw error;
    }
  }

  return {
    /**
     * Emails not sent yet whose delivery workflow has ended without sending them (it gave up after a
     * day of retries, was terminated, or never started) get a new delivery.
     */
    async processNotificationQueue({ dryRun }: TaskRequest) {
      const waiting = await db
        .select()
        .from(notificationOutbox)
        .where(
          and(
            lt(notificationOutbox.createdAt, sql`now() - ${SETTLING}::interval`),
            // A job's own message or report is rendered and sent only by its job (retried by the job's
            // policy): no template here can render them.
            notInArray(notificationOutbox.kind, [...JOB_COMPOSED_KINDS]),
            or(
              inArray(notificationOutbox.status, ['pending', 'failed']),
              and(
                eq(notificationOutbox.status, 'sending'),
                lt(notificationOutbox.claimedAt, sql`now() - ${CLAIM_LEASE}::interval`),
              ),
            ),
          ),
        )
        .orderBy(notificationOutbox.createdAt)
        .limit(500);
      const resend: string[] = [];
      const inProgress: string[] = [];
      for (const row of waiting) {
        const status = await deliveryStatus(row.idempotencyKey);
        (status === 'RUNNING' ? inProgress : resend).push(row.idempotencyKey);
      }
      if (!dryRun) await dispatchNotifications(resend);
      return {
        dry_run: dryRun,
        checked_count: waiting.length,
        resent_count: dryRun ? 0 : resend.length,
        would_resend: resend,
        in_progress: inProgress,
        timestamp: new Date().toISOString(),
      };
    },

    /** One summary email per active admin per day (in EDMS_TIMEZONE); a second run that day sends nothing. */
    async sendDailySummary({ executionId }: TaskRequest) {
      const until = new Date();
      const since = sql`now() - interval '24 hours'`;
      const date = new Intl.DateTimeFormat('en-CA', { timeZone: settings.timezone }).format(until);
      const becameCount = (status: 'EFFECTIVE' | 'OBSOLETE') =>
        db.$count(
          documentTransitions,
          and(eq(documentTransitions.toStatus, status), gte(documentTransitions.occurredAt, since)),
        );
      const counts = {
        documents_created: await db.$count(documents, gte(documents.createdAt, since)),
        documents_effective: await becameCount('EFFECTIVE'),
        documents_obsolete: await becameCount('OBSOLETE'),
        documents_pending_effective: await db.$count(documents, eq(documents.status, 'APPROVED_PENDING_EFFECTIVE')),
        open_tasks: await db.$count(reviewTasks, eq(reviewTasks.status, 'pending')),
        overdue_tasks: await db.$count(reviewTasks, overdueReviewTask),
        escalations: await db.$count(reviewTasks, gte(reviewTasks.escalatedAt, since)),
        task_runs: await db.$count(taskExecutions, gte(taskExecutions.startedAt, since)),
        task_runs_failed: await db.$count(
          taskExecutions,
          and(eq(taskExecutions.status, 'failed'), gte(taskExecutions.startedAt, since)),
        ),
        notifications_undelivered: await db.$count(
          notificationOutbox,
          inArray(notificationOutbox.status, ['pending', 'sending', 'failed']),
        ),
      };
      const [health] = await db
        .select({ status: systemHealthChecks.status })
        .from(systemHealthChecks)
        .orderBy(desc(systemHealthChecks.checkedAt))
        .limit(1);
      const recipients = await activeAdminEmails(db);
      const variables = {
        date,
        until: until.toISOString(),
        counts,
        health_status: health?.status ?? null,
        execution_id: executionId,
      };
      const keys = await enqueueEmails(
        db,
        recipients.map((recipient) => ({
          key: `daily-summary:${date}:${recipient}`,
          kind: 'daily_summary',
          recipient,
          variables,
        })),
      );
      if (keys.length > 0) await dispatchNotifications(keys);
      return { date, recipients, counts, health_status: health?.status ?? null };
    },
  };
}
