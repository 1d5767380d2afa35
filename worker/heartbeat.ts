import type postgres from 'postgres';
import type { Logger } from '../lib/logger';

/**
 * How often a worker process says it is alive. api/services/health.ts trusts a row for 10 s, so three beats
 * may be lost to a busy event loop or a slow database before a live worker looks dead, and a killed
 * one looks dead within 10 s (the issue asks for 15).
 */
export const WORKER_HEARTBEAT_INTERVAL_MS = 3000;

export interface WorkerHeartbeatOptions {
  sql: postgres.Sql;
  /** The worker's Temporal identity, `<pid>@<host>`. */
  identity: string;
  taskQueues: readonly string[];
  logger?: Pick<Logger, 'warn' | 'info'>;
  intervalMs?: number;
}

export interface WorkerHeartbeat {
  /** Resolves once the first beat is written (or failed, which is logged and retried). */
  readonly started: Promise<void>;
  /** Stops beating and deletes the row, so the queue stops counting this worker at once. */
  stop(): Promise<void>;
}

/**
 * Keeps this process's row in `worker_heartbeats` fresh (written with the database's clock). A beat
 * that fails (PostgreSQL restarting) is logged and the next one tries again: the worker keeps
 * running, and /health reports its queues unserved until a beat gets through.
 */
export function startWorkerHeartbeat(options: WorkerHeartbeatOptions): WorkerHeartbeat {
  const { sql, identity, logger } = options;
  const taskQueues = [...options.taskQueues];
  const intervalMs = options.intervalMs ?? WORKER_HEARTBEAT_INTERVAL_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;

  const beat = async () => {
    try {
      await sql`
        insert into worker_heartbeats (identity, task_queues, started_at, last_seen_at)
        values (${identity}, ${taskQueues}, now(), now())
        on conflict (identity) do update set task_queues = excluded.task_queues, last_seen_at = now()`;
      if (failing) logger?.info({ identity }, 'worker heartbeat written again');
      failing = false;
    } catch (error) {
      if (!failing) logger?.warn({ err: error, identity }, 'worker heartbeat failed; retrying');
      failing = true;
    }
  };
  // Chained timeouts, not an interval: a slow beat never overlaps the next one.
  let inFlight: Promise<void> = beat();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = beat().then(schedule);
    }, intervalMs);
    timer.unref();
  };
  const started = inFlight.then(schedule);

  return {
    started,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      await sql`delete from worker_heartbeats where identity = ${identity}`.catch((error: unknown) =>
        logger?.warn({ err: error, identity }, 'could not delete the worker heartbeat; it goes stale on its own'),
      );
    },
  };
}
