import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Database } from '../../db';
import type { IssueToken } from '../plugins/auth';
import { unauthorized } from '../errors';
import { errorResponses } from '../schemas/common';
import { LoginBody, TokenResponse } from '../schemas/users';
import { authenticate } from '../services/users';

export interface AuthRouteDeps {
  db: Database;
  ttlSeconds: number;
  /** Login attempts allowed per client address and username per minute. */
  attemptsPerMinute: number;
  issueToken: IssueToken;
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
};
