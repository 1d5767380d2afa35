import { and, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { Transporter } from 'nodemailer';
import { schema, type DatabaseHandle } from '../db';
import type { RenderedEmail } from './render';
import type { TemplateContext } from './templates';

const { notificationOutbox } = schema;

export interface MailSettings extends TemplateContext {
  /** The From address of every email. */
  from: string;
}

export interface OutboxDeps {
  database: DatabaseHandle;
  mailer: Transporter;
  mail: MailSettings;
  /** Told the outcome of every delivery attempt (the worker's `edms_email_deliveries_total`). */
  onDelivery?: (outcome: DeliveryResult['outcome']) => void;
}

export type OutboxRow = typeof notificationOutbox.$inferSelect;

/**
 * How long a sender may hold a row before another attempt takes it over (its sender died). The
 * notification queue task waits as long before it restarts a delivery.
 */
export const CLAIM_LEASE = '10 minutes';

/**
 * What one delivery attempt did. `missing`: no row has the key. `busy`: another live sender holds
 * it. `failed`: rendering or the SMTP hand-off failed, the row is `failed` with the error and free
 * for the next attempt.
 */
export type DeliveryResult =
  { outcome: Delivered | 'missing' | 'busy' } | { outcome: 'failed'; row: OutboxRow; error: string };

/**
 * How long one email's hand-off to the mail server may take, the wait for a free pooled connection
 * included (ms). Below the delivery activity's start-to-close timeout (EMAIL_DELIVERY_OPTIONS, 30 s):
 * a send its attempt has timed out on is abandoned (the pool drops it, or closes the connection
 * carrying it before the message ends) instead of going on while the retry claims the row and sends
 * the email again.
 */
export const SMTP_HANDOFF_TIMEOUT_MS = 20_000;

/** An email handed to the mail server: by this attempt, or by an earlier one (a retry sends nothing). */
export type Delivered = 'sent' | 'already_sent';

/**
 * Claims an outbox row for one sender: a lease keyed by the sender, so two senders never send it
 * together; a lease older than CLAIM_LEASE is taken over (its sender died). Undefined when the row
 * is missing, already sent, or held by another live sender.
 */
async function claimOutboxRow(
  database: DatabaseHandle,
  notificationKey: string,
  claimant: string,
): Promise<OutboxRow | undefined> {
  const [row] = await database.db
    .update(notificationOutbox)
    .set({
      status: 'sending',
      claimedBy: claimant,
      claimedAt: new Date(),
      attempts: sql`${notificationOutbox.attempts} + 1`,
      messageId: sql`coalesce(${notificationOutbox.messageId}, '<' || ${notificationOutbox.id}::text || '@edms-temporal>')`,
    })
    .where(
      and(
        eq(notificationOutbox.idempotencyKey, notificationKey),
        or(
          inArray(notificationOutbox.status, ['pending', 'failed']),
          and(
            eq(notificationOutbox.status, 'sending'),
            or(
              eq(notificationOutbox.claimedBy, claimant),
              lt(notificationOutbox.claimedAt, sql`now() - ${CLAIM_LEASE}::interval`),
            ),
          ),
        ),
      ),
    )
    .returning();
  return row;
}

/**
 * Sends one outbox email: claim, render, hand to SMTP, mark `sent`. `claimant` names the sender and
 * is the same on each of its retries, so a retry takes its own lease back at once. A sent row is
 * never sent again; only a crash between the SMTP hand-off and the `sent` mark repeats it, with the
 * same Message-ID so the receiver can drop the copy. `render` gets the stored row, so every attempt
 * sends what the writer recorded. The hand-off is abandoned, as a failed attempt, when `signal`
 * aborts (the activity is cancelled) or after SMTP_HANDOFF_TIMEOUT_MS.
 */
export async function deliverOutboxEmail(
  deps: OutboxDeps,
  notificationKey: string,
  claimant: string,
  render: (row: OutboxRow) => Promise<RenderedEmail>,
  signal?: AbortSignal,
): Promise<DeliveryResult> {
  const timeout = AbortSignal.timeout(SMTP_HANDOFF_TIMEOUT_MS);
  const handoff = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const result = await attemptDelivery(deps, notificationKey, claimant, render, handoff);
  deps.onDelivery?.(result.outcome);
  return result;
}

async function attemptDelivery(
  { database, mailer, mail }: OutboxDeps,
  notificationKey: string,
  claimant: string,
  render: (row: OutboxRow) => Promise<RenderedEmail>,
  signal: AbortSignal,
): Promise<DeliveryResult> {
  const { db } = database;
  const row = await claimOutboxRow(database, notificationKey, claimant);
  if (!row) {
    const [current] = await db
      .select({ status: notificationOutbox.status })
      .from(notificationOutbox)
      .where(eq(notificationOutbox.idempotencyKey, notificationKey));
    if (!current) return { outcome: 'missing' };
    return { outcome: current.status === 'sent' ? 'already_sent' : 'busy' };
  }
  try {
    const email = await render(row);
    await mailer.sendMail({
      from: mail.from,
      to: row.recipient,
      subject: email.subject,
      // A job's plain message has no HTML part.
      html: email.html || undefined,
      text: email.text,
      messageId: row.messageId ?? undefined,
      headers: { 'X-EDMS-Notification': `${row.kind}; id=${row.id}` },
      signal,
    });
  } catch (caught) {
    const error = String((caught as Error).message ?? caught);
    // Only while this sender still holds the row: a failure reported late (its lease taken over, the
    // email sent by another attempt) must not turn a sent row back into one to send again.
    await db
      .update(notificationOutbox)
      .set({ status: 'failed', lastError: error.slice(0, 2000), claimedBy: null })
      .where(
        and(
          eq(notificationOutbox.id, row.id),
          eq(notificationOutbox.status, 'sending'),
          eq(notificationOutbox.claimedBy, claimant),
        ),
      );
    return { outcome: 'failed', row, error };
  }
  await db
    .update(notificationOutbox)
    .set({ status: 'sent', sentAt: new Date(), lastError: null })
    .where(eq(notificationOutbox.id, row.id));
  return { outcome: 'sent' };
}
