import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { SYSTEM_TASK_NAMES, SYSTEM_TASKS } from '../../../common';
import type { TaskExecutionRow } from '../../../db';
import { SYSTEM_SCHEDULES } from '../../../schedules/system-schedules';

/**
 * Temporal's description of each system schedule: undefined for one Temporal does not have, absent
 * (with `error` saying why) for one it could not be asked about.
 */
export interface SystemScheduleStates {
  described: Map<string, ScheduleDescription | undefined>;
  error?: string;
}

export async function describeSystemSchedules(temporal: Client): Promise<SystemScheduleStates> {
  const described = new Map<string, ScheduleDescription | undefined>();
  let error: string | undefined;
  await Promise.all(
    SYSTEM_SCHEDULES.map(async (schedule) => {
      try {
        described.set(schedule.scheduleId, await temporal.schedule.getHandle(schedule.scheduleId).describe());
      } catch (cause) {
        if (cause instanceof ScheduleNotFoundError) described.set(schedule.scheduleId, undefined);
        else error = (cause as Error).message;
      }
    }),
  );
  return { described, error };
}

const nextRunTimes = (description: ScheduleDescription | undefined) =>
  description?.info.nextActionTimes.slice(0, 3).map((time) => time.toISOString()) ?? [];

/** Schedules that exist and are not paused. */
export const schedulesRunning = (schedules: SystemScheduleStates) =>
  [...schedules.described.values()].filter((d) => d && !d.state.paused).length;

/** Every schedule, even when two share a task (the weekly and monthly backups run run_scheduled_backup too). */
export function scheduleList(schedules: SystemScheduleStates) {
  return SYSTEM_SCHEDULES.map((schedule) => {
    const description = schedules.described.get(schedule.scheduleId);
    return {
      schedule_id: schedule.scheduleId,
      task_name: schedule.taskName,
      schedule: schedule.when,
      exists: description ? true : schedules.described.has(schedule.scheduleId) ? false : null,
      paused: description?.state.paused ?? null,
      note: description?.state.note ?? null,
      next_run_times: nextRunTimes(description),
    };
  });
}

/** Every system task as the dashboard lists it: what it is, its schedule, its last run, Run now's options. */
export function availableTasks(schedules: SystemScheduleStates, lastRuns: TaskExecutionRow[]) {
  const lastRunOf = new Map(lastRuns.map((row) => [row.taskName, row]));
  return Object.fromEntries(
    SYSTEM_TASK_NAMES.map((taskName) => {
      const task = SYSTEM_TASKS[taskName];
      const schedule = SYSTEM_SCHEDULES.find((s) => s.taskName === taskName);
      const description = schedule ? schedules.described.get(schedule.scheduleId) : undefined;
      const last = lastRunOf.get(taskName);
      return [
        taskName,
        {
          name: task.displayName,
          description: task.description,
          category: task.category,
          priority: task.priority,
          icon: task.icon,
          schedule_id: schedule?.scheduleId ?? null,
          schedule: schedule?.when ?? null,
          paused: description?.state.paused ?? null,
          next_run_times: nextRunTimes(description),
          last_run: last
            ? { status: last.status, at: last.startedAt.toISOString(), duration_seconds: last.durationSeconds }
            : null,
          supports_dry_run: task.supportsDryRun,
        },
      ];
    }),
  );
}
