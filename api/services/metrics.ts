import type { Client } from '@temporalio/client';
import { count, sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DOCUMENT_STATUSES, NOTIFICATION_STATUSES, REVIEW_KINDS, TIMED_EVENTS } from '../../common';
import { overdueReviewTask, schema, type Database } from '../../db';
import type { Logger } from '../../lib/logger';
import { SYSTEM_SCHEDULES } from '../../schedules/system-schedules';
import { latenessSummary } from './monitoring/lateness';
import { describeSystemSchedules } from './monitoring/schedules';

export interface BusinessMetricsDeps {
  db: Database;
  /** A client on a connection without retries (the health probe's): a scrape must not wait them out. */
  temporal: Client;
  latenessSlaSeconds: number;
  /** Told of every family a scrape had to leave out, and why. */
  log: FailureLog;
}

type Row = Record<string, unknown>;

/**
 * `edms_metrics_collect_failures_total{family}`: scrapes that had to leave a family out. Every
 * family has its series at 0 from the start, so a rate() or increase() sees the first failure.
 */
class CollectFailures {
  private readonly counter: Counter<'family'>;
  /** The families' reads of the scrapes under way. */
  private readonly reading = new Set<Promise<void>>();

  constructor(
    registry: Registry,
    private readonly log: FailureLog,
  ) {
    const reading = this.reading;
    this.counter = new Counter({
      name: 'edms_metrics_collect_failures_total',
      help: 'Scrapes that left a metric family out because the database or Temporal did not answer',
      labelNames: ['family'],
      registers: [registry],
      // prom-client reads every metric of a scrape at once: without waiting, this counter would be
      // read before the failures of its own scrape were counted, and show them one scrape late.
      async collect() {
        await Promise.resolve(); // the scrape starts every family's read before this continues
        await Promise.allSettled(reading);
      },
    });
  }

  /** A family whose failures are counted (at 0 until one fails). */
  track(family: string): void {
    this.counter.inc({ family }, 0);
  }

  /** Runs a family's read of one scrape; a failure is counted in this scrape and logged. */
  async read(family: string, read: () => Promise<void>): Promise<boolean> {
    const attempt = read();
    const settled = attempt.then(
      () => undefined,
      () => undefined,
    );
    this.reading.add(settled);
    try {
      await attempt;
      return true;
    } catch (error) {
      this.counter.inc({ family });
      this.log.warn({ err: error, family }, 'a metric family was left out of the scrape: reading it failed');
      return false;
    } finally {
      this.reading.delete(settled);
    }
  }
}

/** Where a family that could not be read is reported (the API's logger). */
export type FailureLog = Pick<Logger, 'warn'>;

/**
 * A gauge family read afresh at every scrape: the database (and Temporal) hold the truth, shared by
 * every API replica and surviving restarts, so the figures are counted there rather than in one
 * process's memory. `read` sets the values after the family is cleared.
 */
function gaugeFromQuery<L extends string>(
  registry: Registry,
  failures: CollectFailures,
  options: { name: string; help: string; labelNames: readonly L[] },
  read: (gauge: Gauge<L>) => Promise<void>,
): Gauge<L> {
  failures.track(options.name);
  return new Gauge<L>({
    ...options,
    labelNames: options.labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      // A source that does not answer drops this family from the scrape, never the whole scrape:
      // the process series and the other families are what an operator needs during an outage.
      if (!(await failures.read(options.name, () => read(this)))) this.reset();
    },
  });
}

/** How long a scrape waits for Temporal's schedule descriptions (a Prometheus scrape times out at 10 s). */
const TEMPORAL_SCRAPE_TIMEOUT_MS = 3000;

const rowsOf = (db: Database, query: ReturnType<typeof sql>) => db.execute<Row>(query);

/**
 * The business series of `GET /metrics` on the API, each one database query (or one description
 * per system schedule) per scrape:
 * - `edms_documents{status}`, `edms_overdue_tasks{kind}`
 * - `edms_task_executions{task,status}` (system task runs kept, EDMS_TASK_RETENTION_DAYS)
 * - `edms_schedule_actions`, `edms_schedule_missed_catchup_window`, `edms_schedule_skipped_overlap`
 *   `{schedule}`: Temporal's own running counts per system schedule
 * - `edms_backup_last_success_timestamp_seconds{type}`, `edms_backup_last_size_bytes{type}`
 * - `edms_job_executions{template,status}`, `edms_notifications{status}` (outbox rows kept)
 * - `edms_timed_event_lateness_p99_seconds_24h{event}`, `edms_timed_event_sla_breaches_24h{event}`
 * A family whose source does not answer (Temporal is given 3 s) is left out of that scrape and
 * counted in `edms_metrics_collect_failures_total{family}` (in that same scrape, every family at 0
 * from the start) and logged as a warning; the rest is still served.
 */
export function registerBusinessMetrics(registry: Registry, deps: BusinessMetricsDeps): void {
  const { db } = deps;
  const failures = new CollectFailures(registry, deps.log);

  gaugeFromQuery(
    registry,
    failures,
    { name: 'edms_documents', help: 'Documents by lifecycle status', labelNames: ['status'] },
    async (gauge) => {
      for (const status of DOCUMENT_STATUSES) gauge.set({ status }, 0);
      for (const row of await rowsOf(db, sql`select status, count(*)::int as n from documents group by status`)) {
        gauge.set({ status: String(row.status) }, Number(row.n));
      }
    },
  );

  gaugeFromQuery(
    registry,
    failures,
    {
      name: 'edms_overdue_tasks',
      help: 'Review and approval tasks pending past their due instant',
      labelNames: ['kind'],
    },
    async (gauge) => {
      for (const kind of REVIEW_KINDS) gauge.set({ kind }, 0);
      const rows = await db
        .select({ kind: schema.reviewTasks.kind, n: count() })
        .from(schema.reviewTasks)
        .where(overdueReviewTask)
        .groupBy(schema.reviewTasks.kind);
      for (const row of rows) gauge.set({ kind: row.kind }, row.n);
    },
  );

  gaugeFromQuery(
    registry,
    failures,
    {
      name: 'edms_task_executions',
      help: 'System task runs on record by task and outcome (kept EDMS_TASK_RETENTION_DAYS)',
      labelNames: ['task', 'status'],
    },
    async (gauge) => {
      const rows = await rowsOf(
        db,
        sql`select task_name, status, count(*)::int as n from task_executions group by task_name, status`,
      );
      for (const row of rows) gauge.set({ task: String(row.task_name), status: String(row.status) }, Number(row.n));
    },
  );

  // One Temporal description per system schedule serves three families; a scrape reads them once.
  let schedulesRead: Promise<Awaited<ReturnType<typeof describeSystemSchedules>>> | undefined;
  const scheduleInfo = () => {
    schedulesRead ??= deps.temporal.connection
      .withDeadline(Date.now() + TEMPORAL_SCRAPE_TIMEOUT_MS, () => describeSystemSchedules(deps.temporal))
      .then((states) => {
        if (states.error) throw new Error(states.error);
        return states;
      })
      .finally(() => setTimeout(() => (schedulesRead = undefined), 1000).unref());
    return schedulesRead;
  };
  // Temporal's running counts per schedule, exposed as gauges (they are read, not incremented here).
  const scheduleCounts = {
    edms_schedule_actions: ['Workflow runs a system schedule has started', 'numActionsTaken'],
    edms_schedule_missed_catchup_window: [
      'Runs a system schedule missed (the server was down past the catch-up window)',
      'numActionsMissedCatchupWindow',
    ],
    edms_schedule_skipped_overlap: [
      'Runs a system schedule skipped because the previous run was still going',
      'numActionsSkippedOverlap',
    ],
  } as const;
  for (const [name, [help, field]] of Object.entries(scheduleCounts)) {
    gaugeFromQuery(registry, failures, { name, help, labelNames: ['schedule'] }, async (gauge) => {
      const { described } = await scheduleInfo();
      for (const schedule of SYSTEM_SCHEDULES) {
        const description = described.get(schedule.scheduleId);
        if (description) gauge.set({ schedule: schedule.scheduleId }, description.info[field]);
      }
    });
  }

  const lastBackups = () =>
    rowsOf(
      db,
      sql`select distinct on (backup_type) backup_type, extract(epoch from finished_at)::float8 as at, size_bytes
            from backup_runs where status = 'succeeded' and finished_at is not null
           order by backup_type, finished_at desc`,
    );
  gaugeFromQuery(
    registry,
    failures,
    {
      name: 'edms_backup_last_success_timestamp_seconds',
      help: 'When the last successful backup of each type finished (Unix seconds; age = time() - this)',
      labelNames: ['type'],
    },
    async (gauge) => {
      for (const row of await lastBackups()) gauge.set({ type: String(row.backup_type) }, Number(row.at));
    },
  );
  gaugeFromQuery(
    registry,
    failures,
    {
      name: 'edms_backup_last_size_bytes',
      help: 'Size of the last successful backup of each type',
      labelNames: ['type'],
    },
    async (gauge) => {
      for (const row of await lastBackups()) {
        if (row.size_bytes !== null) gauge.set({ type: String(row.backup_type) }, Number(row.size_bytes));
      }
    },
  );

  gaugeFromQuery(
    registry,
    failures,
    {
      name: 'edms_job_executions',
      help: 'Scheduled job runs on record by template and outcome',
      labelNames: ['template', 'status'],
    },
    async (gauge) => {
      const rows = await rowsOf(
        db,
        sql`select template_type, status, count(*)::int as n from scheduler_job_executions group by template_type, status`,
      );
      for (const row of rows) {
        gauge.set({ template: String(row.template_type), status: String(row.status) }, Number(row.n));
      }
    },
  );

  gaugeFromQuery(
    registry,
    failures,
    {
      name: 'edms_notifications',
      help: 'Outbox emails on record by delivery status (kept EDMS_NOTIFICATION_RETENTION_DAYS)',
      labelNames: ['status'],
    },
    async (gauge) => {
      for (const status of NOTIFICATION_STATUSES) gauge.set({ status }, 0);
      const rows = await rowsOf(db, sql`select status, count(*)::int as n from notification_outbox group by status`);
      for (const row of rows) gauge.set({ status: String(row.status) }, Number(row.n));
    },
  );

  let summaryRead: ReturnType<typeof latenessSummary> | undefined;
  const summary = () => {
    summaryRead ??= latenessSummary(db, deps.latenessSlaSeconds).finally(() =>
      setTimeout(() => (summaryRead = undefined), 1000).unref(),
    );
    return summaryRead;
  };
  gaugeFromQuery(
    registry,
    failures,
    {
      name: 'edms_timed_event_lateness_p99_seconds_24h',
      help: 'p99 lateness of each timed event over the last 24 hours, in seconds (absent: none happened)',
      labelNames: ['event'],
    },
    async (gauge) => {
      for (const event of (await summary()).events) {
        if (event.p99_seconds !== null) gauge.set({ event: event.event }, event.p99_seconds);
      }
    },
  );
  gaugeFromQuery(
    registry,
    failures,
    {
      name: 'edms_timed_event_sla_breaches_24h',
      help: 'Timed events later than the lateness SLA over the last 24 hours',
      labelNames: ['event'],
    },
    async (gauge) => {
      for (const event of TIMED_EVENTS) gauge.set({ event }, 0);
      for (const event of (await summary()).events) gauge.set({ event: event.event }, event.sla_breaches);
    },
  );
}

/** `edms_http_request_duration_seconds{method,route,status_code}`: every answered request, by route pattern. */
export function createRequestMetrics(registry: Registry): Histogram<'method' | 'route' | 'status_code'> {
  return new Histogram({
    name: 'edms_http_request_duration_seconds',
    help: 'API request durations by method, route pattern and status code, in seconds',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
}
