import { condition, patched, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DOCUMENT_ACTIVITY_OPTIONS, DOCUMENT_LOCAL_ACTIVITY_OPTIONS } from './activity-options';
import { BackgroundWork } from './background-work';
import {
  DAY_MS,
  taskClosedSignal,
  taskReassignedSignal,
  type LifecycleSettings,
  type OpenTask,
  type ReviewTimersInput,
} from '../common';
import { RearmableDeadline } from './deadline';

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
async function notify(emails: BackgroundWork, request: Parameters<Activities['notifyOverdueTask']>[0]): Promise<void> {
  if (!patched(TIMERS_LOCAL_ACTIVITIES_PATCH)) {
    await notifyOverdueTask(request);
    return;
  }
  const { notificationKeys } = await recordOverdueTask(request);
  emails.deliver(notificationKeys);
}

interface WatchedTask extends OpenTask {
  closed: boolean;
  /** Re-armed by a reassignment (timers restart from the new due instant) and by the task's closing. */
  deadline: RearmableDeadline;
}

/** When an overdue task next gets a reminder, and when it is escalated. */
function overdueSchedule(dueAt: string, settings: LifecycleSettings) {
  const due = Date.parse(dueAt);
  return { nextReminderAt: due, escalateAt: due + settings.escalationDays * DAY_MS, escalated: false };
}

/**
 * Nags one task until it is closed: a reminder to the assignee at the due instant and every
 * `reminderIntervalDays` after, and one escalation to their manager `escalationDays` after it was due.
 */
async function watchTask(task: WatchedTask, settings: LifecycleSettings, emails: BackgroundWork): Promise<void> {
  let schedule = overdueSchedule(task.dueAt, settings);
  while (!task.closed) {
    const nextAt = schedule.escalated
      ? schedule.nextReminderAt
      : Math.min(schedule.nextReminderAt, schedule.escalateAt);
    const reached = await task.deadline.sleepUntil(nextAt);
    if (task.closed) return;
    if (!reached) {
      schedule = overdueSchedule(task.dueAt, settings);
      continue;
    }
    // `at` is the instant each email was due, whatever the timer's small lateness.
    if (Date.now() >= schedule.nextReminderAt) {
      const at = new Date(schedule.nextReminderAt).toISOString();
      await notify(emails, { taskId: task.taskId, kind: 'review_reminder', at });
      schedule.nextReminderAt += settings.reminderIntervalDays * DAY_MS;
    }
    if (!schedule.escalated && Date.now() >= schedule.escalateAt) {
      const at = new Date(schedule.escalateAt).toISOString();
      await notify(emails, { taskId: task.taskId, kind: 'review_escalated', at });
      schedule.escalated = true;
    }
  }
}

/**
 * The timers of one review or approval round, as a child of the document workflow: it ends when the
 * parent has closed every task (decided, cancelled by a rejection, or the round finished).
 */
export async function reviewTimers(input: ReviewTimersInput): Promise<void> {
  const tasks = new Map(
    input.tasks.map((task) => [task.taskId, { ...task, closed: false, deadline: new RearmableDeadline() }]),
  );
  setHandler(taskClosedSignal, ({ taskId }) => {
    const task = tasks.get(taskId);
    if (!task) return;
    task.closed = true;
    task.deadline.rearm();
  });
  setHandler(taskReassignedSignal, ({ taskId, assignee, dueAt }) => {
    const task = tasks.get(taskId);
    if (!task || task.closed) return;
    Object.assign(task, { assignee, dueAt });
    task.deadline.rearm();
  });
  const emails = new BackgroundWork({ documentId: input.documentId });
  await Promise.all([...tasks.values()].map((task) => watchTask(task, input.settings, emails)));
  await condition(() => emails.settled());
}
