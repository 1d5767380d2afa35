import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../common';
import { deliverOutboxEmail, enqueueEmails, type Delivered, type RenderedEmail } from '../../outbox';
import type { JobTemplateDeps } from './types';

export interface JobEmail {
  recipient: string;
  /** An EMAIL_TEMPLATES kind, or one of JOB_COMPOSED_KINDS for what a job composed itself. */
  kind: string;
  variables: Record<string, unknown>;
}

/** One email per recipient and job execution: the outbox's unique key makes a retry find, not resend, it. */
export const jobEmailKey = (executionKey: string, recipient: string) => `job:${executionKey}:${recipient}`;

export interface JobEmailOutcome {
  recipient: string;
  key: string;
  outcome: Delivered;
}

/**
 * Sends a job's emails through the notification outbox, delivering them in this activity.
 *
 * The rows are written first (idempotency key `job:<executionKey>:<recipient>`), then each is claimed
 * and sent with the same lease protocol as `deliverNotification`, so a retried activity, or a second
 * run with the same execution key, finds the row `sent` and sends nothing. Delivery happens here
 * rather than in a `notificationDelivery` workflow because `deliverNotification` can only render the
 * kinds of EMAIL_TEMPLATES, and a job's plain message or report is none of them; it also lets the
 * job's result say what was actually sent. Both refusals are retryable under the job's own policy.
 */
export async function sendJobEmails(
  deps: JobTemplateDeps,
  executionKey: string,
  emails: JobEmail[],
  render: (email: JobEmail) => Promise<RenderedEmail>,
): Promise<JobEmailOutcome[]> {
  const claimant = `job:${executionKey}`;
  await enqueueEmails(
    deps.database.db,
    emails.map((email) => ({ key: jobEmailKey(executionKey, email.recipient), ...email })),
  );
  const outcomes: JobEmailOutcome[] = [];
  for (const { recipient } of emails) {
    const key = jobEmailKey(executionKey, recipient);
    const delivery = await deliverOutboxEmail(
      deps,
      key,
      claimant,
      (row) => render({ recipient: row.recipient, kind: row.kind, variables: row.variables }),
      Context.current().cancellationSignal,
    );
    switch (delivery.outcome) {
      case 'sent':
      case 'already_sent':
        outcomes.push({ recipient, key, outcome: delivery.outcome });
        break;
      case 'missing':
      case 'busy':
        throw ApplicationFailure.retryable(
          `email ${key} is being sent by another attempt; retrying later`,
          FailureType.JobEmailBusy,
        );
      case 'failed':
        throw ApplicationFailure.retryable(
          `sending ${key} failed: ${delivery.error}`,
          FailureType.JobEmailDeliveryFailed,
        );
    }
  }
  return outcomes;
}
