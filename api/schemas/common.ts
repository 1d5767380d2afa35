import { Type, type TSchema } from '@sinclair/typebox';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable error code, e.g. validation_failed' }),
      message: Type.String({ description: 'Human-readable explanation' }),
      details: Type.Optional(Type.Unknown({ description: 'Per-field problems or the current state' })),
    }),
  },
  { $id: 'ErrorResponse', description: 'The error body shared by every endpoint' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; nothing was changed',
  401: 'Missing, invalid or expired bearer token',
  403: 'Authenticated, but the role may not perform this action',
  404: 'No such resource',
  409: 'Conflicts with the current state; nothing was changed',
  429: 'Too many attempts; retry after the Retry-After header',
  503: 'A component is unavailable',
};

/** Response schemas for the error statuses a route can answer with. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(
    statuses.map((status) => [status, Type.Ref(ErrorResponse, { description: ERROR_DESCRIPTIONS[status] ?? 'Error' })]),
  );
}

/** Marks a route as needing `Authorization: Bearer <token>` in the OpenAPI document. */
export const bearerAuth = [{ bearerAuth: [] }];
