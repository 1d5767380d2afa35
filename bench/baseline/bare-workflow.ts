/**
 * The bare Temporal baseline of the burst scenario (workflow code, bundled on its own): sleep to an
 * instant, then one activity doing one INSERT. What the server and one worker can do at best.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import { DOCUMENT_ACTIVITY_OPTIONS } from '../../workflows/activity-options';
import type { BareActivities } from './bare-activities';

const { recordMark } = proxyActivities<BareActivities>(DOCUMENT_ACTIVITY_OPTIONS);

export async function bareBurst(input: { markId: string; at: number }): Promise<void> {
  await sleep(Math.max(0, input.at - Date.now()));
  await recordMark(input.markId);
}
