/**
 * The bare Temporal baselines (workflow code, bundled on its own): what the server and one worker
 * can do at best, for the scenarios to compare the system with.
 */
import {
  allHandlersFinished,
  condition,
  defineUpdate,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { DOCUMENT_ACTIVITY_OPTIONS, DOCUMENT_LOCAL_ACTIVITY_OPTIONS } from '../../workflows/activity-options';
import type { BareActivities } from './bare-activities';

const { recordMark } = proxyActivities<BareActivities>(DOCUMENT_ACTIVITY_OPTIONS);
const local = proxyLocalActivities<BareActivities>(DOCUMENT_LOCAL_ACTIVITY_OPTIONS);

/** The burst scenario's: sleep to an instant, then one activity doing one INSERT. */
export async function bareBurst(input: { markId: string; at: number }): Promise<void> {
  await sleep(Math.max(0, input.at - Date.now()));
  await recordMark(input.markId);
}

/** The bare document's updates, named as the document workflow's; each answers when its row is written. */
export const BARE_DOCUMENT_UPDATES = [
  defineUpdate<void>('submit'),
  defineUpdate<void>('review'),
  defineUpdate<void>('approve'),
] as const;

/**
 * The api scenario's: a document that only waits for its updates. Each runs one local activity
 * (the document workflow's options) doing one INSERT keyed by workflow id and update, and returns;
 * the workflow completes once all of them have run. No state, no checks, no emails.
 */
export async function bareDocument(): Promise<void> {
  const { workflowId } = workflowInfo();
  let done = 0;
  for (const update of BARE_DOCUMENT_UPDATES) {
    setHandler(update, async () => {
      await local.recordMark(`${workflowId}:${update.name}`);
      done += 1;
    });
  }
  await condition(() => done === BARE_DOCUMENT_UPDATES.length && allHandlersFinished());
}
