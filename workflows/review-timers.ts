import { condition, patched, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DOCUMENT_ACTIVITY_OPTIONS, DOCUMENT_LOCAL_ACTIVITY_OPTIONS } from './activity-options';
import { BackgroundWork } from './background-work';
import { taskClosedSignal, taskReassignedSignal, type ReviewTimersInput } from '../common';
import { closeWatched, reassignWatched, watchedTask, watchTask, type OverdueNotice } from './review-reminders';

const { notifyOverdueTask } = proxyActivities<Activities>(DOCUMENT_ACTIVITY_OPTIONS);
const { recordOverdueTask } = proxyLocalActivities<Activities>(DOCUMENT_LOCAL_ACTIVITY_OPTIONS);

/**
 * Reminders and escalations sent after this patch write their emails in a local activity and
 * deliver them as activities of these timers, as the document workflow does its own emails
 * (patch `document-local-activities`): one workflow task and an activity per email instead of an
 * activity task, a second workflow task and a `notificationDelivery` workflow per email. Histories
 * recorded before it replay the activity unchanged.
 */
export const TIMERS_LOCAL_ACTIVITIES_PATCH = 'review-timers-local-activities';

/**
 * Writes a reminder or an escalation and delivers its emails without waiting for them (a slow mail
 * server must not hold up the next reminder).
 */
async function notify(emails: BackgroundWork, request: OverdueNotice): Promise<void> {
  if (!patched(TIMERS_LOCAL_ACTIVITIES_PATCH)) {
    await notifyOverdueTask(request);
    return;
  }
  const { notificationKeys } = await recordOverdueTask(request);
  emails.deliver(notificationKeys);
}

/**
 * The timers of one review or approval round, as a child of the document workflow: it ends when the
 * parent has closed every task (decided, cancelled by a rejection, or the round finished). Rounds
 * opened after the patch review-timers-in-document are watched by the document workflow itself;
 * this runs on for the rounds opened before it.
 */
export async function reviewTimers(input: ReviewTimersInput): Promise<void> {
  const tasks = new Map(input.tasks.map((task) => [task.taskId, watchedTask(task)]));
  setHandler(taskClosedSignal, ({ taskId }) => {
    const task = tasks.get(taskId);
    if (task) closeWatched(task);
  });
  setHandler(taskReassignedSignal, ({ taskId, assignee, dueAt }) => {
    const task = tasks.get(taskId);
    if (task) reassignWatched(task, { assignee, dueAt });
  });
  const emails = new BackgroundWork({ documentId: input.documentId });
  await Promise.all(
    [...tasks.values()].map((task) => watchTask(task, input.settings, (request) => notify(emails, request))),
  );
  await condition(() => emails.settled());
}
