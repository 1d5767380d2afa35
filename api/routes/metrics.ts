import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Registry } from 'prom-client';
import { registerBusinessMetrics, type BusinessMetricsDeps } from '../services/metrics';

export interface MetricsRouteDeps extends Omit<BusinessMetricsDeps, 'log'> {
  /** The API process's registry (default process series and request durations already in it). */
  registry: Registry;
}

/**
 * `GET /metrics`: Prometheus text format (0.0.4) for a platform's scraper, unauthenticated like
 * /health (counts only, no document data): keep it on the internal network.
 */
export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRouteDeps> = async (app, deps) => {
  registerBusinessMetrics(deps.registry, { ...deps, log: app.log });
  app.get(
    '/metrics',
    {
      // Scraped every few seconds: a log line per scrape would drown everything else.
      logLevel: 'warn',
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics: documents, tasks, schedules, backups, jobs, emails, lateness, requests',
        description:
          'Text exposition format 0.0.4. Business series start with edms_ and are read from the database and ' +
          'Temporal at each scrape; process_* and nodejs_* describe this API process.',
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => {
      const text = await deps.registry.metrics();
      return reply.type(deps.registry.contentType).send(text);
    },
  );
};
