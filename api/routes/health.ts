import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { checkHealth, type HealthDeps } from '../health';

const Component = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  latency_ms: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String()),
});

const TaskQueue = Type.Object({
  status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  workflow_pollers: Type.Integer({ description: "Temporal's pollers seen within 2 min (a dead worker stays listed)" }),
  activity_pollers: Type.Integer(),
  live_workers: Type.Integer({ description: 'worker processes polling this queue with a heartbeat younger than 10 s' }),
});

const HealthReport = Type.Object(
  {
    status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
    checked_at: Type.String({ format: 'date-time' }),
    components: Type.Object({
      database: Component,
      temporal: Type.Intersect([Component, Type.Object({ address: Type.String(), namespace: Type.String() })]),
      workers: Type.Object({
        status: Type.Union([Type.Literal('up'), Type.Literal('down')]),
        task_queues: Type.Record(Type.String(), TaskQueue),
      }),
    }),
  },
  { $id: 'HealthReport' },
);

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
