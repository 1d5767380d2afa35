/**
 * Task queues, mapped from the old Celery queues. `maintenance` runs with low concurrency so that a
 * pg_dump never starves document work.
 */
export const TASK_QUEUES = {
  documents: 'documents',
  scheduler: 'scheduler',
  maintenance: 'maintenance',
} as const;

export type TaskQueueName = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];

export const ALL_TASK_QUEUES: readonly TaskQueueName[] = Object.values(TASK_QUEUES);
