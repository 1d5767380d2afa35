import { and, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { Transporter } from 'nodemailer';
import { schema, type DatabaseHandle } from '../db';
import type { NotificationKind } from '../common';
import { renderEmail } from './email/render';
import { activityIdempotencyKey } from './idempotency';
import { FailureType } from '../common';

const { notificationOutbox } = schema;

export interface MailSettings {
  from: string;
  publicUrl: string;
  timezone: string;
}

export interface NotificationDeps {
  database: DatabaseHandle;
  mailer: Transporter;
  mail: MailSettings;
}

/** How long a sender may hold a row before another attempt takes it over. */
const CLAIM_LEASE = '10 minutes';

export type DeliveryOutcome = 'sent' | 'already_sent';

/** Sending a notification failed; Temporal retries it (the row stays `failed` until then). */
export class NotificationDeliveryFailed extends Error {
  override name = FailureType.NotificationDeliveryFailed;
}

/**
 * Claims an outbox row for one sender: a lease keyed by the sender, so two senders never send it
 * together; a lease older than CLAIM_LEASE is taken over (its sender died). Undefined when the row
 * is missing, already sent, or held by another live sender.
 */
export async function claimOutboxRow(database: DatabaseHandle, notificationKey: string, claimant: string) {
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

export function createNotificationActivities({ database, mailer, mail }: NotificationDeps) {
  const { db } = database;
  return {
    /**
     * Sends one outbox email. The row is claimed first (a lease keyed by this activity execution),
     * so two senders never send it together; a sent row is never sent again. Only a crash between
     * the SMTP hand-off and the `sent` mark can repeat it, with the same Message-ID.
     */
    async deliverNotification(notificationKey: string): Promise<DeliveryOutcome> {
      const claimant = activityIdempotencyKey();
      const row = await claimOutboxRow(database, notificationKey, claimant);
      if (!row) {
        const [current] = await db
          .select()
          .from(notificationOutbox)
          .where(eq(notificationOutbox.idempotencyKey, notificationKey));
        if (!current) throw new NotificationDeliveryFailed(`notification ${notificationKey} does not exist`);
        if (current.status === 'sent') return 'already_sent';
        throw new NotificationDeliveryFailed(
          `notification ${notificationKey} is being sent by another attempt; retrying later`,
        );
      }
      try {
        const email = await renderEmail(
          row.kind as NotificationKind,
          { ...row.variables, document_id: row.documentId },
          { publicUrl: mail.publicUrl, timezone: mail.timezone },
        );
        await mailer.sendMail({
          from: mail.from,
          to: row.recipient,
          subject: email.subject,
          html: email.html,
          text: email.text,
          messageId: row.messageId ?? undefined,
          headers: { 'X-EDMS-Notification': `${row.kind}; id=${row.id}` },
        });
      } catch (error) {
        await db
          .update(notificationOutbox)
          .set({
            status: 'failed',
            lastError: String((error as Error).message ?? error).slice(0, 2000),
            claimedBy: null,
          })
          .where(eq(notificationOutbox.id, row.id));
        throw new NotificationDeliveryFailed(
          `sending notification ${row.id} to ${row.recipient} failed: ${(error as Error).message}`,
        );
      }
      await db
        .update(notificationOutbox)
        .set({ status: 'sent', sentAt: new Date(), lastError: null })
        .where(eq(notificationOutbox.id, row.id));
      return 'sent';
    },
  };
}
