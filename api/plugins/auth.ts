import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { UserRole } from '../../common';
import type { Database, UserRow } from '../../db';
import { forbidden, unauthorized } from '../errors';
import { findUserById } from '../services/users';

interface TokenClaims {
  sub: string;
  username: string;
  role: UserRole;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims;
    user: TokenClaims;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The acting user, loaded fresh from the database on every request. */
    currentUser: UserRow | null;
  }
}

export interface AuthOptions {
  db: Database;
  secret: string;
  ttlSeconds: number;
}

export type IssueToken = (user: UserRow) => string;

export type Authorize = (...roles: UserRole[]) => (request: FastifyRequest) => Promise<void>;

/**
 * Bearer-token authentication. The token only names the user: role and `active` are read from the
 * database on each request, so a demotion or deactivation takes effect at once, not at expiry.
 */
export function installAuth(app: FastifyInstance, options: AuthOptions) {
  app.register(fastifyJwt, { secret: options.secret, sign: { expiresIn: options.ttlSeconds } });
  app.decorateRequest('currentUser', null);

  const issueToken: IssueToken = (user) => app.jwt.sign({ sub: user.id, username: user.username, role: user.role });

  /**
   * An onRequest hook admitting any authenticated user, or only the given roles. It runs before the
   * body is parsed and validated, so an anonymous caller learns nothing about a route's schema.
   */
  const authorize: Authorize =
    (...roles) =>
    async (request) => {
      let claims: TokenClaims;
      try {
        claims = await request.jwtVerify<TokenClaims>();
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        throw unauthorized(
          code.includes('NO_AUTHORIZATION')
            ? 'Authentication required: send Authorization: Bearer <access_token>'
            : code.includes('EXPIRED')
              ? 'The access token has expired; log in again'
              : 'The access token is invalid',
        );
      }
      const user = await findUserById(options.db, claims.sub);
      if (!user || !user.active) throw unauthorized('The account behind this token is no longer active');
      if (roles.length > 0 && !roles.includes(user.role)) {
        throw forbidden(`This action requires one of the roles: ${roles.join(', ')}`);
      }
      request.currentUser = user;
    };

  return { authorize, issueToken };
}

/** The acting user in a handler behind `authorize`. */
export function actingUser(request: FastifyRequest): UserRow {
  if (!request.currentUser) throw unauthorized();
  return request.currentUser;
}
