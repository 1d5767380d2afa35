import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NotificationDeliveryInput } from '../common';
import { EMAIL_DELIVERY_OPTIONS } from './activity-options';

// After a day of retries the run fails visibly in the Web UI, the outbox row stays `failed` with its
// last error, and resetting or restarting the run (same workflow id) sends it.
const { deliverNotification } = proxyActivities<Activities>(EMAIL_DELIVERY_OPTIONS);

/**
 * Delivers one outbox email, retried until the mail server takes it. Started by the activity that
 * wrote the email (workflow id `notify-<key>`), so that a slow or absent mail server never holds up
 * the workflow that wrote it and a retried activity never starts a second delivery. Document
 * workflows deliver their own emails (patch `document-local-activities`); system tasks, scheduled
 * jobs, review timers and the notification queue's resends still start one of these.
 */
export async function notificationDelivery({ notificationKey }: NotificationDeliveryInput): Promise<string> {
  return deliverNotification(notificationKey);
}
