import type { SystemTaskOptions } from './system-task-definition';
import type { SystemTaskName } from './system-tasks';
import type { TaskTrigger } from './task-executions';

/**
 * Temporal's priority keys run 1 (first) to 5 (last); the old Celery priorities 0-9 map onto them,
 * so backups (9) go before health checks (4) when a queue is backed up.
 */
export const temporalPriorityKey = (celeryPriority: number): number =>
  Math.min(5, Math.max(1, 5 - Math.floor(celeryPriority / 2)));

/** Input of the `systemTask` workflow, whether a schedule, an admin or the CLI started it. */
export interface SystemTaskInput {
  taskName: SystemTaskName;
  dryRun?: boolean;
  trigger?: TaskTrigger;
  /** Username for manual runs; schedules run as `system_scheduler`. */
  triggeredBy?: string;
  scheduleId?: string;
  options?: SystemTaskOptions;
}

/** The result every document task reports (as the old Celery tasks did). */
export interface DocumentTaskResult {
  processed_count: number;
  success_count: number;
  error_count: number;
  processed_documents: { id: string; document_number: string; action: string }[];
  errors: { id: string; document_number: string; error: string }[];
  timestamp: string;
  dry_run: boolean;
}

export type TaskResult = Record<string, unknown>;

export interface SystemTaskOutcome {
  taskName: SystemTaskName;
  executionId: string;
  dryRun: boolean;
  result: TaskResult;
}
