import type { Activities } from '../activities';
import { DAY_MS, type LifecycleSettings, type OpenTask } from '../common';
import { RearmableDeadline } from './deadline';

/**
 * The reminders and the escalation of an open review or approval task, by timers: shared by the
 * document workflow, which watches its rounds' tasks itself, and by the `reviewTimers` child
 * workflows that did it for rounds opened before that (patch review-timers-in-document).
 */

/** A reminder or an escalation to write: what `notifyOverdueTask` takes. */
export type OverdueNotice = Parameters<Activities['notifyOverdueTask']>[0];

export interface WatchedTask extends OpenTask {
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
 * It also stops when `notify` answers true: the database has the task closed already.
 */
export async function watchTask(
  task: WatchedTask,
  settings: LifecycleSettings,
  notify: (request: OverdueNotice) => Promise<boolean | void>,
): Promise<void> {
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
      if ((await notify({ taskId: task.taskId, kind: 'review_reminder', at })) === true) return;
      schedule.nextReminderAt += settings.reminderIntervalDays * DAY_MS;
    }
    if (!schedule.escalated && Date.now() >= schedule.escalateAt) {
      const at = new Date(schedule.escalateAt).toISOString();
      if ((await notify({ taskId: task.taskId, kind: 'review_escalated', at })) === true) return;
      schedule.escalated = true;
    }
  }
}

/** A task to watch from now on, open. */
export const watchedTask = (task: OpenTask): WatchedTask => ({
  ...task,
  closed: false,
  deadline: new RearmableDeadline(),
});

/** The task was closed (decided or cancelled): its watcher ends. */
export function closeWatched(task: WatchedTask): void {
  task.closed = true;
  task.deadline.rearm();
}

/** The task has a new assignee and due instant: its reminders start again from that instant. */
export function reassignWatched(task: WatchedTask, change: { assignee: string; dueAt: string }): void {
  if (task.closed) return;
  Object.assign(task, change);
  task.deadline.rearm();
}
