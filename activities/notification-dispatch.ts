import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import {
  NOTIFICATION_DELIVERY_WORKFLOW,
  notificationDeliveryWorkflowId,
  type NotificationDeliveryInput,
} from '../common';

/** Starts the delivery of outbox emails that an activity has just committed. */
export type DispatchNotifications = (notificationKeys: readonly string[]) => Promise<void>;

/**
 * Dispatch through Temporal: one `notificationDelivery` workflow per email, on the task queue of
 * the activity that wrote it. The workflow id is the email's key, so a retried activity finds the
 * delivery already started (or done) and starts nothing; only a delivery that gave up may start again.
 */
export function dispatchThroughTemporal(client: Client): DispatchNotifications {
  return async (notificationKeys) => {
    const { taskQueue } = Context.current().info;
    await Promise.all(
      notificationKeys.map(async (notificationKey) => {
        try {
          await client.workflow.start(NOTIFICATION_DELIVERY_WORKFLOW, {
            taskQueue,
            workflowId: notificationDeliveryWorkflowId(notificationKey),
            args: [{ notificationKey } satisfies NotificationDeliveryInput],
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          });
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
      }),
    );
  };
}
