import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../db';
import { actingUser, type Authorize, type IssueToken } from '../plugins/auth';
import { unauthorized } from '../errors';
import { bearerAuth, errorResponses } from '../schemas/common';
import { LoginBody, NoContent, TokenResponse } from '../schemas/users';
import { authenticate, logout } from '../services/sessions';

export interface AuthRouteDeps {
  db: Database;
  ttlSeconds: number;
  /** Login attempts allowed per client address and username per minute. */
  attemptsPerMinute: number;
  issueToken: IssueToken;
  authorize: Authorize;
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteDeps> = async (app, deps) => {
  app.post(
    '/login',
    {
      config: {
        // Slows password guessing; keyed by address and username so nobody can lock a user out.
        rateLimit: {
          hook: 'preHandler', // after body parsing, so the key can include the username
          max: deps.attemptsPerMinute,
          timeWindow: '1 minute',
          keyGenerator: (request) => `${request.ip}|${(request.body as { username?: unknown } | undefined)?.username}`,
        },
      },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a username and password for a bearer token',
        body: LoginBody,
        response: { 200: TokenResponse, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      const result = await authenticate(deps.db, request.body.username, request.body.password, request.id);
      // The same answer for an unknown user, an inactive one and a wrong password.
      if (!result.ok) throw unauthorized('Invalid username or password');
      const accessToken = deps.issueToken(result.user);
      return { access_token: accessToken, token_type: 'Bearer' as const, expires_in: deps.ttlSeconds };
    },
  );

  app.post(
    '/logout',
    {
      onRequest: deps.authorize(),
      schema: {
        tags: ['auth'],
        summary: "End the caller's sessions: this token and every other one issued to the caller before it",
        description: 'Answers 204; the ended tokens answer 401 from then on. Logging in again gives a working token.',
        security: bearerAuth,
        response: { 204: NoContent, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      await logout(deps.db, actingUser(request), request.id);
      return reply.status(204).send(null);
    },
  );
};
