import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthReport } from '../schemas/health';
import { checkHealth, type HealthDeps } from '../services/health';

export const healthRoutes: FastifyPluginAsyncTypebox<HealthDeps> = async (app, deps) => {
  app.get(
    '/health',
    {
      // Load balancers and the launcher poll this; a log line per probe would drown everything else.
      logLevel: 'warn',
      schema: {
        tags: ['system'],
        summary: 'State of each component: database, Temporal frontend, live workers per task queue',
        description:
          '200 when the database and Temporal answer and every task queue has pollers and a worker with a fresh ' +
          'heartbeat (a killed worker is reported within 10 s); 503 with the same body otherwise.',
        response: { 200: HealthReport, 503: HealthReport },
      },
    },
    async (_request, reply) => {
      const report = await checkHealth(deps);
      return reply.status(report.status === 'up' ? 200 : 503).send(report);
    },
  );
};
