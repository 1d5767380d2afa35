import { Context } from '@temporalio/activity';
import { FailureType, type NotificationKind } from '../common';
import { deliverOutboxEmail, renderEmail, type Delivered, type OutboxDeps } from '../outbox';
import { activityIdempotencyKey } from './idempotency';

export type NotificationDeps = OutboxDeps;

/** Sending a notification failed; Temporal retries it (the row stays `failed` until then). */
export class NotificationDeliveryFailed extends Error {
  override name = FailureType.NotificationDeliveryFailed;
}

export function createNotificationActivities(deps: NotificationDeps) {
  const { mail } = deps;
  return {
    /**
     * Sends one outbox email of a NotificationKind (outbox/deliver.ts: claimed, sent once, same
     * Message-ID on every attempt). The lease is keyed by this activity execution, so its retries take
     * it back at once. Every refusal is a NotificationDeliveryFailed that the delivery workflow
     * retries: a busy row is freed when its sender finishes or its lease runs out.
     */
    async deliverNotification(notificationKey: string): Promise<Delivered> {
      const delivery = await deliverOutboxEmail(
        deps,
        notificationKey,
        activityIdempotencyKey(),
        (row) => renderEmail(row.kind as NotificationKind, { ...row.variables, document_id: row.documentId }, mail),
        Context.current().cancellationSignal,
      );
      switch (delivery.outcome) {
        case 'sent':
        case 'already_sent':
          return delivery.outcome;
        case 'missing':
          throw new NotificationDeliveryFailed(`notification ${notificationKey} does not exist`);
        case 'busy':
          throw new NotificationDeliveryFailed(
            `notification ${notificationKey} is being sent by another attempt; retrying later`,
          );
        case 'failed':
          throw new NotificationDeliveryFailed(
            `sending notification ${delivery.row.id} to ${delivery.row.recipient} failed: ${delivery.error}`,
          );
      }
    },
  };
}
