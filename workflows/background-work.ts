import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { EMAIL_DELIVERY_OPTIONS } from './activity-options';

const { deliverNotification } = proxyActivities<Activities>(EMAIL_DELIVERY_OPTIONS);

/**
 * Work a workflow starts and does not wait for (emails, review timers, signals to them): counted
 * until it ends, so the run ends or continues as new only once it is `settled`; a failure is logged
 * as a warning with the workflow's own details (`context`), never thrown into the change that
 * started it, which is committed already.
 */
export class BackgroundWork {
  private inFlight = 0;

  constructor(private readonly context: Record<string, unknown>) {}

  /** Nothing started here is still going. */
  settled(): boolean {
    return this.inFlight === 0;
  }

  /** Lets `work` go on; the promise settles (never rejects) once it has ended. */
  run(work: Promise<unknown>, message: string, details: Record<string, unknown>): Promise<void> {
    this.inFlight++;
    return work
      .then(
        () => undefined,
        (error: unknown) => log.warn(message, { ...this.context, ...details, error: String(error) }),
      )
      .finally(() => this.inFlight--);
  }

  /**
   * Sends the emails a committed change wrote, each once (the outbox row's claim) and retried for
   * about a day, visible meanwhile as this workflow's pending activity. Not awaited: a slow or absent
   * mail server must not hold up the workflow. One that gives up leaves its row `failed`, and the
   * `process_notification_queue` system task sends it again.
   */
  deliver(notificationKeys: readonly string[]): void {
    for (const notificationKey of notificationKeys) {
      void this.run(
        deliverNotification(notificationKey),
        'email delivery gave up; the notification queue will send it again',
        { notificationKey },
      );
    }
  }
}
