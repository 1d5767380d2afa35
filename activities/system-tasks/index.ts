import { createBackupRestoreTasks } from './backup-restore';
import { createBackupRetentionTasks } from './backup-retention';
import { createBackupTasks } from './backups';
import { createDocumentDateTasks } from './document-dates';
import { createHealthCheckTask } from './health-check';
import { createHousekeepingTasks } from './housekeeping';
import { createNotificationTasks } from './notification-tasks';
import { createReviewTaskTasks } from './review-tasks';
import type { SystemTaskActivity } from '../../common';
import type { SystemTaskDeps, TaskRequest } from './settings';

export {
  DEFAULT_BACKUP_RETENTION,
  defaultSystemTaskSettings,
  type SystemTaskSettings,
  type TaskRequest,
} from './settings';

/**
 * A failed run's recorded error should say why: drizzle reports "Failed query: ..." and keeps the
 * database's reason (connection ended, deadlock...) in `cause`, which Temporal would drop.
 */
function withCauses<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        if (error instanceof Error && error.cause instanceof Error && !error.message.includes(error.cause.message)) {
          error.message = `${error.cause.message} (${error.message.split('\n')[0]})`;
        }
        throw error;
      }
    };
  }
  return wrapped as T;
}

/**
 * The activities behind the system tasks: one per task, under the name its descriptor gives
 * (common/system-tasks.ts), and the steps of backups and restores.
 */
export function createSystemTaskActivities(deps: SystemTaskDeps) {
  const reviewTasks = createReviewTaskTasks(deps);
  const activities = withCauses({
    ...createDocumentDateTasks(deps),
    ...reviewTasks,
    ...createNotificationTasks(deps),
    ...createHealthCheckTask(deps),
    ...createHousekeepingTasks(deps, reviewTasks),
    ...createBackupTasks(deps),
    ...createBackupRetentionTasks(deps),
    ...createBackupRestoreTasks(deps),
  });
  return activities satisfies Record<SystemTaskActivity, (request: TaskRequest) => Promise<unknown>>;
}
