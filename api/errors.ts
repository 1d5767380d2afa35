import { isGrpcServiceError } from '@temporalio/client';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { errorResponses, TEXT_PATTERN_MESSAGES } from './schemas/common';

/** The one error body every endpoint answers with: `{error: {code, message, details?}}`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** An error meant for the client: its status, a stable machine-readable code, and a message. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const unauthorized = (message = 'Authentication required') => new ApiError(401, 'unauthorized', message);
export const forbidden = (message = 'Your role may not perform this action') => new ApiError(403, 'forbidden', message);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (code: string, message: string, details?: unknown) => new ApiError(409, code, message, details);
export const badRequest = (code: string, message: string, details?: unknown) =>
  new ApiError(400, code, message, details);

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

interface ValidationIssue {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

function describeValidation(context: string | undefined, issues: ValidationIssue[]) {
  return issues.map((issue) => {
    const missing = typeof issue.params?.missingProperty === 'string' ? `/${issue.params.missingProperty}` : '';
    const extra = typeof issue.params?.additionalProperty === 'string' ? `/${issue.params.additionalProperty}` : '';
    const field = `${issue.instancePath}${missing}${extra}`.replace(/^\//, '').replace(/\//g, '.');
    const pattern = typeof issue.params?.pattern === 'string' ? TEXT_PATTERN_MESSAGES[issue.params.pattern] : undefined;
    return {
      in: context ?? 'body',
      field: field || null,
      message: extra ? 'is not an allowed property' : (pattern ?? issue.message ?? 'is invalid'),
    };
  });
}

/** gRPC status codes Temporal answers with (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
const GRPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;
/**
 * PostgreSQL's answers when concurrent work, not the request, is at fault: a deadlock, a serialization
 * failure, a lock that could not be had (https://www.postgresql.org/docs/15/errcodes-appendix.html).
 */
const PG_CONTENTION_CODES = new Set(['40P01', '40001', '55P03']);
/** postgres.js codes of a connection that could not be made or was lost. */
const PG_CONNECTION_CODES = new Set([
  // A server shutting down, crashed, or starting up (recovering after a crash) refuses with these.
  '57P01',
  '57P02',
  '57P03',
  'ECONNREFUSED',
  'ECONNRESET',
  'CONNECTION_ENDED',
  'CONNECTION_CLOSED',
  'CONNECT_TIMEOUT',
]);

/** Every error in a chain of causes, the outermost first. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let cause = error; cause && chain.length < 10; cause = (cause as { cause?: unknown }).cause) chain.push(cause);
  return chain;
}

/** The gRPC status code Temporal answered with somewhere in the error's causes, if any. */
export function temporalStatusCode(error: unknown): number | undefined {
  return causes(error).find(isGrpcServiceError)?.code;
}

/**
 * Failures that are nobody's fault in the request: Temporal or PostgreSQL unreachable (503, retry
 * later) or Temporal limiting the rate (429: e.g. more than 10 updates in flight on one workflow, a
 * Temporal limit, or a namespace's requests-per-second on Temporal Cloud).
 */
function unavailability(error: unknown): { status: 429 | 503; code: string; message: string } | null {
  const grpc = temporalStatusCode(error);
  if (grpc === GRPC.RESOURCE_EXHAUSTED) {
    return { status: 429, code: 'rate_limited', message: 'Temporal is limiting requests right now; retry shortly' };
  }
  if (grpc === GRPC.UNAVAILABLE) {
    return { status: 503, code: 'temporal_unavailable', message: 'Temporal cannot be reached; retry shortly' };
  }
  const pgCodes = causes(error).map((cause) => String((cause as { code?: unknown }).code));
  if (pgCodes.some((code) => PG_CONNECTION_CODES.has(code))) {
    return { status: 503, code: 'database_unavailable', message: 'The database cannot be reached; retry shortly' };
  }
  if (pgCodes.some((code) => PG_CONTENTION_CODES.has(code))) {
    return {
      status: 503,
      code: 'database_busy',
      message: 'The database is busy (e.g. a restore holds locks); retry shortly',
    };
  }
  return null;
}

/** Temporal's refusal of what a request asked it to store (a schedule spec it cannot read), if it was one. */
export function temporalRefusal(error: unknown): string | null {
  const refusal = causes(error).find(isGrpcServiceError);
  return refusal?.code === GRPC.INVALID_ARGUMENT ? refusal.details || refusal.message : null;
}

/** A route's own codes for schema failures confined to one part of its body (`route.config`). */
export interface ValidationConfig {
  /** Top-level body field → error code, e.g. `{ recurrence_config: 'invalid_schedule' }`. */
  validationCodes?: Record<string, string>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    validationCodes?: ValidationConfig['validationCodes'];
  }
}

/**
 * The code of a schema failure: the route's code for the field every problem is in (so a day 32 is
 * `invalid_schedule` whether the schema or the recurrence rules catch it), else `validation_failed`.
 */
function validationCode(details: { field: string | null }[], config: ValidationConfig | undefined): string {
  const codes = config?.validationCodes;
  if (!codes) return 'validation_failed';
  const found = new Set(details.map((detail) => codes[(detail.field ?? '').split('.')[0] ?? '']));
  const [only] = [...found];
  return found.size === 1 && only !== undefined ? only : 'validation_failed';
}

/**
 * Declares in each route's OpenAPI responses the error statuses every route of its kind can answer,
 * so clients and the docs never meet an undeclared status: 400 where the route validates input
 * (body, query string or path; 414 for an over-long path parameter), 401 and 403 where it needs a
 * bearer token, and everywhere 429 and 503 (see unavailability) and 500 (a fault of the system itself,
 * never of the input). Statuses a route declares itself are kept.
 */
function declareStandardErrors(route: RouteOptions): void {
  if (route.url.startsWith('/docs')) return;
  const schema = (route.schema ??= {});
  // Any route may meet a Temporal rate limit (429) or an unreachable PostgreSQL or Temporal (503).
  // Every route refuses unstorable text in any query string, and a body where it takes none (400).
  const statuses = [400, 429, 500, 503];
  // A body over Fastify's bodyLimit (1 MiB), or in a media type other than JSON.
  if (schema.body) statuses.push(413, 415);
  // A path parameter longer than Fastify's maxParamLength (200, api/app.ts) is refused before routing.
  if (schema.params) statuses.push(414);
  if (schema.security) statuses.push(401, 403);
  const declared = (schema.response ??= {}) as Record<string, unknown>;
  for (const [status, response] of Object.entries(errorResponses(...statuses))) {
    if (!(status in declared)) declared[status] = response;
  }
}

/** `/api/v1/documents/:id/submit` as a pattern matching any concrete path of that route. */
const routePattern = (url: string) =>
  new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\?:[A-Za-z_][A-Za-z0-9_]*/g, '[^/]+')}$`);

/**
 * Errors Fastify's router raises before any route or hook runs (a path parameter over
 * maxParamLength, a malformed URL), answered in the shared body instead of Fastify's own.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 400;
  const body: ErrorBody = { error: { code: CODE_BY_STATUS[status] ?? 'bad_request', message: error.message } };
  void reply.status(status).send(body);
}

/**
 * Installs the single error handler, the standard error responses of every route, and the handler of
 * unknown routes: 405 with `Allow` when the path exists under other methods, otherwise 404. 5xx
 * messages are logged, never shown.
 */
export function installErrorHandling(app: FastifyInstance): void {
  const methodsByRoute = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    declareStandardErrors(route);
    const entry = methodsByRoute.get(route.url) ?? { pattern: routePattern(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) entry.methods.add(method);
    methodsByRoute.set(route.url, entry);
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      const body: ErrorBody = { error: { code: error.code, message: error.message } };
      if (error.details !== undefined) body.error.details = error.details;
      if (error.statusCode === 503) reply.header('retry-after', '1');
      return reply.status(error.statusCode).send(body);
    }
    if (error.validation) {
      const details = describeValidation(error.validationContext, error.validation as ValidationIssue[]);
      const message = `Invalid request: ${details.map((d) => (d.field ? `${d.field} ${d.message}` : d.message)).join('; ')}`;
      const code = validationCode(details, request.routeOptions.config as ValidationConfig | undefined);
      return reply.status(400).send({ error: { code, message, details } });
    }
    const unavailable = unavailability(error);
    if (unavailable) {
      request.log.warn({ err: error }, 'request refused: a component is unavailable or rate-limited');
      reply.header('retry-after', '1');
      return reply.status(unavailable.status).send({ error: { code: unavailable.code, message: unavailable.message } });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply
        .status(status)
        .send({ error: { code: CODE_BY_STATUS[status] ?? 'bad_request', message: error.message } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ error: { code: 'internal_error', message: 'Internal server error' } });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const allowed = new Set<string>();
    for (const { pattern, methods } of methodsByRoute.values()) {
      if (pattern.test(path)) for (const method of methods) allowed.add(method);
    }
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(', ');
      return reply
        .status(405)
        .header('allow', allow)
        .send({
          error: { code: 'method_not_allowed', message: `${request.method} is not allowed here; use ${allow}` },
        });
    }
    return reply
      .status(404)
      .send({ error: { code: 'not_found', message: `Route ${request.method} ${path} not found` } });
  });
}
