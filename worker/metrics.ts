import type { Logger } from '../lib/logger';
import { createRegistry, createWorkerMetrics, serveMetrics, type WorkerMetrics } from '../lib/metrics';
import { freePort } from '../lib/ports';
import type { DeliveryResult } from '../outbox';

/**
 * Every outcome a delivery attempt reports to `edms_email_deliveries_total`, with its meaning for
 * the help. Keyed by the very type the deliveries report, so an outcome added there does not
 * compile until it is listed here, and so is at zero from the start like the others.
 */
export const EMAIL_DELIVERY_OUTCOMES: Readonly<Record<DeliveryResult['outcome'], string>> = {
  sent: 'handed to the mail server',
  already_sent: 'an earlier attempt had sent it',
  busy: 'another sender holds it',
  missing: 'no such email',
  failed: 'rendering or the SMTP hand-off failed, retried',
};

export interface WorkerMetricsEndpoint {
  metrics: WorkerMetrics;
  /** Where the Temporal SDK's own Prometheus exporter listens (internal; its text joins ours). */
  sdkBindAddress: string;
  /** Starts `GET /metrics` on `host:port`: our series, then the SDK's (`temporal_*`). */
  serve(): Promise<{ port: number; close(): Promise<void> }>;
}

/**
 * The worker's metrics: business series from its activities and prom-client's process series, plus
 * the Temporal SDK's runtime metrics (task slots, schedule-to-start latency, sticky cache), which
 * the SDK exports itself on a loopback port chosen here and this endpoint relays, so a scraper needs
 * one target per worker. The SDK address must be known before `Runtime.install`.
 */
export async function prepareWorkerMetrics(host: string, port: number, logger: Logger): Promise<WorkerMetricsEndpoint> {
  const registry = createRegistry('worker');
  const metrics = createWorkerMetrics(registry, EMAIL_DELIVERY_OUTCOMES);
  const sdkBindAddress = `127.0.0.1:${await freePort()}`;
  const sdkMetrics = async (): Promise<string> => {
    try {
      const response = await fetch(`http://${sdkBindAddress}/metrics`, { signal: AbortSignal.timeout(5000) });
      return response.ok ? await response.text() : '';
    } catch (error) {
      // Our own series are still worth serving when the SDK's exporter does not answer.
      logger.warn({ err: error }, 'the Temporal SDK metrics exporter did not answer');
      return '';
    }
  };
  return {
    metrics,
    sdkBindAddress,
    async serve() {
      const server = await serveMetrics(host, port, async () => `${await registry.metrics()}\n${await sdkMetrics()}`);
      logger.info({ host, port: server.port }, 'worker metrics at GET /metrics');
      return {
        port: server.port,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
  };
}
