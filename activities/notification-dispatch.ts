import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import {
  NOTIFICATION_DELIVERY_WORKFLOW,
  notificationDeliveryWorkflowId,
  type NotificationDeliveryInput,
} from '../common';
import type { Database, DatabaseHandle } from '../db';

/** Starts the delivery of outbox emails that an activity has just committed. */
export type DispatchNotifications = (notificationKeys: readonly string[]) => Promise<void>;

/** What activities that write emails need: the database, and a way to start the emails' delivery. */
export interface EmailWriterDeps {
  database: DatabaseHandle;
  dispatchNotifications: DispatchNotifications;
}

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

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/**
 * Runs `write` as one transaction, then dispatches the emails it wrote (`keysOf` its result). Only
 * once the change has committed: a delivery started earlier could find no row, or send an email
 * about a change that was rolled back. A retried activity returns the keys its first attempt wrote,
 * so a dispatch lost after a commit is made good.
 */
export async function commitThenDispatch<T>(
  { database, dispatchNotifications }: EmailWriterDeps,
  write: (tx: Transaction) => Promise<T>,
  keysOf: (result: T) => readonly string[],
): Promise<T> {
  const result = await database.db.transaction(write);
  await dispatchNotifications(keysOf(result));
  return result;
}
