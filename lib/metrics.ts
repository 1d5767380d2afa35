import http from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { TIMED_EVENTS } from '../common';

/**
 * Prometheus metrics (text exposition format 0.0.4, served at `GET /metrics`). Every series this
 * system defines starts with `edms_`; each process also exports prom-client's default process and
 * Node.js series (`process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, ...), labelled
 * with `service` (`api` or `worker`).
 */
export type MetricsService = 'api' | 'worker';

/** A registry with the default process metrics of `service`. */
export function createRegistry(service: MetricsService): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Lateness buckets (seconds): fine below a second, where a healthy system sits, then up to an
 * hour, where an outage lands.
 */
const LATENESS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];

/** What a worker counts as its activities run. */
export interface WorkerMetrics {
  /** `edms_timed_event_lateness_seconds{event}`: occurred minus due; early events count as 0. */
  timedEventLateness: Histogram<'event'>;
  /** `edms_timed_event_sla_breaches_total{event}`: events later than the lateness SLA. */
  slaBreaches: Counter<'event'>;
  /** `edms_email_deliveries_total{outcome}`: SMTP attempts of outbox emails by outcome. */
  emailDeliveries: Counter<'outcome'>;
}

/**
 * The worker's business series in `registry`, every label value known up front at zero (so a
 * rate() over a quiet worker is 0 rather than absent).
 * @param emailOutcomes every outcome a delivery attempt reports, with its meaning for the help
 */
export function createWorkerMetrics(
  registry: Registry,
  emailOutcomes: Readonly<Record<string, string>>,
): WorkerMetrics {
  const timedEventLateness = new Histogram({
    name: 'edms_timed_event_lateness_seconds',
    help: 'Lateness of timed business events (when it happened minus when it was due), in seconds',
    labelNames: ['event'],
    buckets: LATENESS_BUCKETS,
    registers: [registry],
  });
  const slaBreaches = new Counter({
    name: 'edms_timed_event_sla_breaches_total',
    help: 'Timed business events later than the lateness SLA (EDMS_LATENESS_SLA_SECONDS)',
    labelNames: ['event'],
    registers: [registry],
  });
  for (const event of TIMED_EVENTS) {
    timedEventLateness.zero({ event });
    slaBreaches.inc({ event }, 0);
  }
  const emailDeliveries = new Counter({
    name: 'edms_email_deliveries_total',
    help: `Delivery attempts of outbox emails by outcome (${Object.entries(emailOutcomes)
      .map(([outcome, meaning]) => `${outcome}: ${meaning}`)
      .join('; ')})`,
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of Object.keys(emailOutcomes)) emailDeliveries.inc({ outcome }, 0);
  return { timedEventLateness, slaBreaches, emailDeliveries };
}

/**
 * Serves `GET /metrics` on `host:port` (0 picks a free port) with `render`'s text; anything else
 * is a 404. Resolves once listening.
 */
export async function serveMetrics(
  host: string,
  port: number,
  render: () => Promise<string>,
): Promise<http.Server & { port: number }> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    render().then(
      (text) => response.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE }).end(text),
      (error: unknown) =>
        response
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'metrics_failed', message: String(error) })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return Object.assign(server, { port: typeof address === 'object' && address ? address.port : port });
}
