import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Client } from '@temporalio/client';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DatabaseHandle } from '../db';
import { DEFAULT_LATENESS_SLA_SECONDS, documentWorkflowId, type LifecycleSettings } from '../common';
import type { Logger } from '../lib/logger';
import { outboundPolicyFromEnv, type OutboundPolicy } from '../lib/outbound-policy';
import { createLazyClient, createProbeConnection, type TemporalSettings } from '../lib/temporal';
import { ApiError, frameworkErrors, installErrorHandling } from './errors';
import { installAuth } from './plugins/auth';
import { postgresRateLimitStore } from './plugins/rate-limit-store';
import { installInputGuards, requestValidators } from './validation';
import { authRoutes } from './routes/auth';
import { documentRoutes } from './routes/documents';
import { backupRoutes } from './routes/backups';
import type { BackupDirectories } from './services/backups';
import { schedulerRoutes } from './routes/scheduler';
import { schedulerJobRoutes } from './routes/scheduler-jobs';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { createRequestMetrics } from './services/metrics';
import { createRegistry } from '../lib/metrics';
import { userRoutes } from './routes/users';
import { ErrorResponse } from './schemas/common';
import { Document } from './schemas/documents';
import { User } from './schemas/users';

export interface AppDeps {
  database: DatabaseHandle;
  temporalSettings: TemporalSettings;
  jwtSecret: string;
  jwtTtlSeconds: number;
  loginAttemptsPerMinute: number;
  /** IANA zone in which calendar dates (effective_date, obsolescence_date) mean midnight. */
  timezone: string;
  /** Review timing given to new document workflows. */
  lifecycle: LifecycleSettings;
  logger: Logger;
  version: string;
  /** Limits on admin-defined scheduled jobs (default 50 per creator, 10 creations a minute). */
  scheduledJobs?: { maxJobsPerUser: number; createsPerMinute: number };
  /** Where data and backups live: backup destinations may not point into live data. */
  directories?: BackupDirectories;
  /** Where webhook jobs may call (default: EDMS_WEBHOOK_ALLOWED_HOSTS / _ALLOW_PRIVATE of this process). */
  outboundPolicy?: OutboundPolicy;
  /** The lateness SLA of timed events, in seconds (default 60, EDMS_LATENESS_SLA_SECONDS). */
  latenessSlaSeconds?: number;
}

/** The routes of one document, whose `:id` names it. */
const DOCUMENT_ROUTES = '/api/v1/documents/:id';

/** The `index`th `/`-separated segment of a request path, decoded as the router decodes parameters. */
function pathSegment(url: string, index: number): string {
  const segment = (url.split('?')[0] ?? '').split('/')[index] ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Builds the HTTP API. Handlers only translate HTTP to services, workflows and queries and back. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; naming the base type keeps plugin types compatible.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // JSON bodies are never coerced; query strings and path parameters are (see ./validation).
    schemaController: { compilersFactory: requestValidators() },
    // Schedule ids may be 200 characters long; longer path parameters are a 414.
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrors as never,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Lazy connections: the API starts, and reports Temporal as down, while Temporal is unreachable.
  const temporal = createLazyClient(deps.temporalSettings);
  const temporalProbe = createProbeConnection(deps.temporalSettings);
  app.addHook('onClose', async () => {
    await Promise.allSettled([temporal.connection.close(), temporalProbe.close()]);
  });

  installErrorHandling(app);
  installInputGuards(app);

  // A document's requests log its id and its workflow's, so one grep follows a document from the
  // API through the worker (the SDK's lines carry the same workflow id). They are bound where
  // Fastify makes the request's logger, before its first line: Fastify writes "incoming request"
  // before any hook runs, and "request completed" through the logger it made then.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(DOCUMENT_ROUTES)) return;
    const idSegment = route.url.split('/').indexOf(':id');
    route.childLoggerFactory = (logger, bindings, options, rawRequest) => {
      const id = pathSegment(rawRequest.url ?? '', idSegment);
      return logger.child({ ...bindings, document_id: id, workflow_id: documentWorkflowId(id) }, options);
    };
  });

  // The error handler answers refusals without a line of their own: one line says why, in the
  // request's logger (so with its document's ids). Faults and unavailability it logs itself.
  app.addHook('onError', async (request, _reply, error) => {
    const status = error.statusCode;
    if (status === undefined || (status >= 500 && !(error instanceof ApiError))) return;
    request.log[status >= 500 ? 'warn' : 'info'](
      { statusCode: status, code: error.code },
      `request refused: ${error.message}`,
    );
  });

  // Every answered request, timed by route pattern (not URL: ids would make a series each).
  const metricsRegistry = createRegistry('api');
  const requestDuration = createRequestMetrics(metricsRegistry);
  app.addHook('onResponse', async (request, reply) => {
    requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.addSchema(ErrorResponse);
  app.addSchema(User);
  app.addSchema(Document);

  // Off by default; routes opt in (login, job creation) through their `config.rateLimit`. Counted in
  // PostgreSQL so that every replica behind a load balancer enforces one shared limit.
  await app.register(fastifyRateLimit, { global: false, store: postgresRateLimitStore(deps.database.sql) });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'edms-temporal API',
        description: 'Document lifecycle, reviews, schedules and backups of a regulated EDMS, on Temporal.',
        version: deps.version,
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [
        { name: 'system', description: 'Health' },
        { name: 'auth', description: 'Login and logout' },
        { name: 'users', description: 'Users and roles' },
        { name: 'documents', description: 'Controlled documents and their lifecycle' },
        { name: 'scheduler', description: 'System tasks, schedules and monitoring' },
        { name: 'backups', description: 'Backup runs and archives' },
        { name: 'scheduler-jobs', description: 'Admin-defined scheduled jobs from templates' },
      ],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const { authorize, issueToken } = installAuth(app, {
    db: deps.database.db,
    secret: deps.jwtSecret,
    ttlSeconds: deps.jwtTtlSeconds,
  });

  await app.register(healthRoutes, {
    sql: deps.database.sql,
    temporal: temporalProbe,
    temporalAddress: deps.temporalSettings.address,
    namespace: deps.temporalSettings.namespace,
  });
  await app.register(metricsRoutes, {
    registry: metricsRegistry,
    db: deps.database.db,
    temporal: new Client({ connection: temporalProbe, namespace: deps.temporalSettings.namespace }),
    latenessSlaSeconds: deps.latenessSlaSeconds ?? DEFAULT_LATENESS_SLA_SECONDS,
  });
  await app.register(authRoutes, {
    prefix: '/api/v1/auth',
    db: deps.database.db,
    ttlSeconds: deps.jwtTtlSeconds,
    attemptsPerMinute: deps.loginAttemptsPerMinute,
    issueToken,
    authorize,
  });
  await app.register(userRoutes, { prefix: '/api/v1/users', db: deps.database.db, authorize });
  await app.register(documentRoutes, {
    prefix: '/api/v1/documents',
    db: deps.database.db,
    temporal,
    authorize,
    timezone: deps.timezone,
    lifecycle: deps.lifecycle,
  });
  await app.register(backupRoutes, {
    prefix: '/api/v1/backups',
    db: deps.database.db,
    temporal,
    authorize,
    directories: deps.directories,
  });
  await app.register(schedulerJobRoutes, {
    prefix: '/api/v1/scheduler-jobs',
    db: deps.database.db,
    temporal,
    authorize,
    maxJobsPerUser: deps.scheduledJobs?.maxJobsPerUser ?? 50,
    createsPerMinute: deps.scheduledJobs?.createsPerMinute ?? 10,
    outboundPolicy: deps.outboundPolicy ?? outboundPolicyFromEnv(),
  });
  await app.register(schedulerRoutes, {
    prefix: '/api/v1/scheduler',
    db: deps.database.db,
    sql: deps.database.sql,
    temporal,
    probe: temporalProbe,
    namespace: deps.temporalSettings.namespace,
    temporalAddress: deps.temporalSettings.address,
    authorize,
    latenessSlaSeconds: deps.latenessSlaSeconds ?? DEFAULT_LATENESS_SLA_SECONDS,
  });
  return app;
}
