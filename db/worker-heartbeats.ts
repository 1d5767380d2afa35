import type postgres from 'postgres';

/**
 * A worker heartbeat counts for this long. Workers beat every 3 s (worker/heartbeat.ts), so a live
 * one has three chances per window and a killed one is reported within 10 s of its death. Temporal
 * alone cannot tell: the dev server keeps a SIGKILLed worker's pollers listed, their last access
 * time ageing only up to the ~70 s long poll.
 */
export const WORKER_HEARTBEAT_FRESHNESS_SECONDS = 10;

/** Live worker processes per task queue, by their heartbeats in `worker_heartbeats`. */
export async function countLiveWorkers(sql: postgres.Sql): Promise<Map<string, number>> {
  const rows = await sql<{ queue: string; workers: number }[]>`
    select queue, count(*)::int as workers
    from worker_heartbeats, unnest(task_queues) as queue
    where last_seen_at > now() - make_interval(secs => ${WORKER_HEARTBEAT_FRESHNESS_SECONDS})
    group by queue`;
  return new Map(rows.map((row) => [row.queue, row.workers]));
}
