import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NotificationDeliveryInput } from '../common';

const { deliverNotification } = proxyActivities<Activities>({
  // One SMTP conversation; a relay that has not answered in 30 s is down, and the retry is the cure.
  startToCloseTimeout: '30 seconds',
  // SMTP outages last minutes to hours: keep trying for about a day. After that the run fails
  // visibly in the Web UI, the outbox row stays `failed` with its last error, and resetting or
  // restarting the run (same workflow id) sends it.
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes', maximumAttempts: 60 },
});

/**
 * Delivers one outbox email, retried until the mail server takes it. Started by the activity that
 * wrote the email (workflow id `notify-<key>`), so that a slow or absent mail server never holds up
 * a document and a retried activity never starts a second delivery.
 */
export async function notificationDelivery({ notificationKey }: NotificationDeliveryInput): Promise<string> {
  return deliverNotification(notificationKey);
}
