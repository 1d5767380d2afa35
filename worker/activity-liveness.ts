import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** How often a running activity with a heartbeat timeout tells Temporal its worker is alive. */
export const LIVENESS_HEARTBEAT_MS = 5000;

/**
 * Heartbeats every activity the workflow gave a `heartbeatTimeout`, for as long as it runs, so a
 * worker killed mid-task (an OOM kill, a crashed host) is noticed by Temporal within that timeout
 * and the task is retried elsewhere, instead of after its whole start-to-close time (up to three
 * hours for a system task). A heartbeat says "this process lives", not "this much is done": the
 * activities that report progress (pg_dump, exports) still heartbeat on their own; nothing reads
 * the details back.
 */
export function activityLiveness(intervalMs = LIVENESS_HEARTBEAT_MS): ActivityInterceptorsFactory {
  return (ctx: Context) => ({
    inbound: {
      async execute(input, next) {
        if (!ctx.info.heartbeatTimeoutMs) return next(input);
        ctx.heartbeat();
        const timer = setInterval(() => ctx.heartbeat(), intervalMs);
        try {
          return await next(input);
        } finally {
          clearInterval(timer);
        }
      },
    },
  });
}
