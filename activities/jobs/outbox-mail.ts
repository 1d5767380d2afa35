import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { schema } from '../../db';
import type { RenderedEmail } from '../email/render';
import { claimOutboxRow } from '../notifications';
import type { JobTemplateDeps } from './types';
import { FailureType } from '../../common';

const { notificationOutbox } = schema;

export interface JobEmail {
  recipient: string;
  /** An EMAIL_TEMPLATES kind, or `job_message` / `job_report` for what a job composed itself. */
  kind: string;
  variables: Record<string, unknown>;
}

/** One email per recipient and job execution: the outbox's unique key makes a retry find, not resend, it. */
export const jobEmailKey = (executionKey: string, recipient: string) => `job:${executionKey}:${recipient}`;

export interface JobEmailOutcome {
  recipient: string;
  key: string;
  outcome: 'sent' | 'already_sent';
}

/**
 * Sends a job's emails through the notification outbox, delivering them in this activity.
 *
 * The rows are written first (idempotency key `job:<executionKey>:<recipient>`), then each is claimed
 * and sent with the same lease protocol as `deliverNotification`, so a retried activity, or a second
 * run with the same execution key, finds the row `sent` and sends nothing. Delivery happens here
 * rather than in a `notificationDelivery` workflow because `deliverNotification` can only render the
 * kinds of EMAIL_TEMPLATES, and a job's plain message or report is none of them; it also lets the
 * job's result say what was actually sent.
 */
export async function sendJobEmails(
  { database, mailer, mail }: JobTemplateDeps,
  executionKey: string,
  emails: JobEmail[],
  render: (email: JobEmail) => Promise<RenderedEmail>,
): Promise<JobEmailOutcome[]> {
  const { db } = database;
  if (emails.length === 0) return [];
  const claimant = `job:${executionKey}`;
  await db
    .insert(notificationOutbox)
    .values(
      emails.map((email) => ({
        idempotencyKey: jobEmailKey(executionKey, email.recipient),
        kind: email.kind,
        recipient: email.recipient,
        variables: email.variables,
      })),
    )
    .onConflictDoNothing({ target: notificationOutbox.idempotencyKey });

  const outcomes: JobEmailOutcome[] = [];
  for (const email of emails) {
    const key = jobEmailKey(executionKey, email.recipient);
    const row = await claimOutboxRow(database, key, claimant);
    if (!row) {
      const [current] = await db
        .select({ status: notificationOutbox.status })
        .from(notificationOutbox)
        .where(eq(notificationOutbox.idempotencyKey, key));
      if (current?.status === 'sent') {
        outcomes.push({ recipient: email.recipient, key, outcome: 'already_sent' });
        continue;
      }
      throw ApplicationFailure.retryable(
        `email ${key} is being sent by another attempt; retrying later`,
        FailureType.JobEmailBusy,
      );
    }
    try {
      // Rendered from the stored row, so every attempt sends what the first one recorded.
      const rendered = await render({ recipient: row.recipient, kind: row.kind, variables: row.variables });
      await mailer.sendMail({
        from: mail.from,
        to: row.recipient,
        subject: rendered.subject,
        html: rendered.html || undefined,
        text: rendered.text,
        messageId: row.messageId ?? undefined,
        headers: { 'X-EDMS-Notification': `${row.kind}; id=${row.id}` },
      });
    } catch (error) {
      await db
        .update(notificationOutbox)
        .set({ status: 'failed', lastError: String((error as Error).message ?? error).slice(0, 2000), claimedBy: null })
        .where(eq(notificationOutbox.id, row.id));
      throw ApplicationFailure.retryable(
        `sending ${key} failed: ${(error as Error).message}`,
        FailureType.JobEmailDeliveryFailed,
      );
    }
    await db
      .update(notificationOutbox)
      .set({ status: 'sent', sentAt: new Date(), lastError: null })
      .where(eq(notificationOutbox.id, row.id));
    outcomes.push({ recipient: email.recipient, key, outcome: 'sent' });
  }
  return outcomes;
}
