import { Type, type Static } from '@sinclair/typebox';

const UpOrDown = Type.Union([Type.Literal('up'), Type.Literal('down')]);

const Component = Type.Object({
  status: UpOrDown,
  latency_ms: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String()),
});
export type ComponentHealth = Static<typeof Component>;

/**
 * One task queue: served ('up') when Temporal lists workflow and activity pollers on it and at least
 * one worker process naming it has a fresh heartbeat.
 */
const TaskQueue = Type.Object({
  status: UpOrDown,
  /** Temporal's view: pollers seen within the last two minutes (a killed worker stays listed that long). */
  workflow_pollers: Type.Integer({ description: "Temporal's pollers seen within 2 min (a dead worker stays listed)" }),
  activity_pollers: Type.Integer(),
  /** Worker processes naming this queue whose heartbeat (worker_heartbeats) is younger than 10 s. */
  live_workers: Type.Integer({ description: 'worker processes polling this queue with a heartbeat younger than 10 s' }),
});
export type TaskQueueHealth = Static<typeof TaskQueue>;

export const HealthReport = Type.Object(
  {
    status: UpOrDown,
    checked_at: Type.String({ format: 'date-time' }),
    components: Type.Object({
      database: Component,
      temporal: Type.Intersect([Component, Type.Object({ address: Type.String(), namespace: Type.String() })]),
      workers: Type.Object({
        status: UpOrDown,
        task_queues: Type.Record(Type.String(), TaskQueue),
      }),
    }),
  },
  { $id: 'HealthReport' },
);
export type HealthReport = Static<typeof HealthReport>;
