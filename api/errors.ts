import type { FastifyError, FastifyInstance } from 'fastify';

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
    return {
      in: context ?? 'body',
      field: field || null,
      message: extra ? 'is not an allowed property' : (issue.message ?? 'is invalid'),
    };
  });
}

/** Installs the single error handler and the 404 handler. 5xx messages are logged, never shown. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      const body: ErrorBody = { error: { code: error.code, message: error.message } };
      if (error.details !== undefined) body.error.details = error.details;
      return reply.status(error.statusCode).send(body);
    }
    if (error.validation) {
      const details = describeValidation(error.validationContext, error.validation as ValidationIssue[]);
      const message = `Invalid request: ${details.map((d) => (d.field ? `${d.field} ${d.message}` : d.message)).join('; ')}`;
      return reply.status(400).send({ error: { code: 'validation_failed', message, details } });
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
    reply
      .status(404)
      .send({ error: { code: 'not_found', message: `Route ${request.method} ${request.url} not found` } });
  });
}
