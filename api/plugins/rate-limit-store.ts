import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type postgres from 'postgres';

/** How often one API process clears counters of ended windows, in milliseconds. */
const PRUNE_EVERY_MS = 60_000;

type IncrCallback = Parameters<FastifyRateLimitStore['incr']>[1];

/**
 * A @fastify/rate-limit store kept in PostgreSQL (`rate_limit_counters`), so that every API
 * replica counts against the same limit: a password guesser gains nothing from a load balancer.
 *
 * Fixed windows measured on the database clock, so replicas with drifting clocks still agree. Each
 * hit is one atomic upsert: the first hit of a key (or the first after its window ended) opens a
 * window of `timeWindow` ms with one hit; later hits in the window add one. The callback gets the
 * hits so far and the milliseconds left in the window (Retry-After is derived from it).
 */
export function postgresRateLimitStore(sql: postgres.Sql): FastifyRateLimitStoreCtor {
  let lastPruneAt = 0;

  async function pruneEndedWindows(): Promise<void> {
    if (Date.now() - lastPruneAt < PRUNE_EVERY_MS) return;
    lastPruneAt = Date.now();
    await sql`delete from rate_limit_counters where window_ends_at < now()`;
  }

  async function hit(key: string, timeWindowMs: number): Promise<{ current: number; ttl: number }> {
    await pruneEndedWindows();
    const [row] = await sql<{ hits: number; ttl: number }[]>`
      insert into rate_limit_counters as c (key, hits, window_ends_at)
      values (${key}, 1, now() + ${timeWindowMs} * interval '1 millisecond')
      on conflict (key) do update set
        hits = case when c.window_ends_at <= now() then 1 else c.hits + 1 end,
        window_ends_at = case when c.window_ends_at <= now() then excluded.window_ends_at else c.window_ends_at end
      returning hits, greatest(0, ceil(extract(epoch from (window_ends_at - now())) * 1000))::int as ttl`;
    if (!row) throw new Error(`rate limit upsert returned no row for ${key}`);
    return { current: row.hits, ttl: row.ttl };
  }

  class PostgresRateLimitStore implements FastifyRateLimitStore {
    /** Counters of one route are apart from other routes' even when their client keys coincide. */
    constructor(private readonly prefix = '') {}

    incr(key: string, callback: IncrCallback, timeWindow: number): void {
      hit(`${this.prefix}${key}`, timeWindow).then(
        (result) => callback(null, result),
        (error: Error) => callback(error),
      );
    }

    // The plugin passes the route's merged rate-limit options, the route itself under `routeInfo`.
    child(options: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      const route = (options as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      return new PostgresRateLimitStore(`${this.prefix}${String(route.method ?? '')} ${String(route.url ?? '')}|`);
    }
  }

  // The plugin constructs the store with its options, which this store does not need.
  return class extends PostgresRateLimitStore {
    constructor() {
      super();
    }
  };
}
