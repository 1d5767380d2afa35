import fastifyJwt from '@fastify/jwt';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { USER_ROLES, type UserRole } from '../../common';
import type { Database, UserRow } from '../../db';
import { forbidden, unauthorized } from '../errors';
import { onUserChanged } from '../services/user-changes';
import { findUserById, type Actor } from '../services/users';
import { ActingUserCache } from './acting-user-cache';

/**
 * What every token we issue carries. A correctly signed token whose claims have another shape (a
 * subject that is not a user id, no session generation) was not issued by this version: it is
 * refused like a forged one, never looked up.
 */
const TokenClaims = Type.Object({
  sub: Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' }),
  username: Type.String({ minLength: 1 }),
  role: Type.Union(USER_ROLES.map((role) => Type.Literal(role))),
  /** The user's session generation when the token was issued (see `users.session_generation`). */
  gen: Type.Integer({ minimum: 0 }),
  iat: Type.Number(),
  exp: Type.Number(),
});
type TokenClaims = Static<typeof TokenClaims>;
const tokenClaims = TypeCompiler.Compile(TokenClaims);

/**
 * How long a user read for one request serves the next ones, and how many are kept: a deactivation,
 * password change, sign-out or demotion made through another API process (or a restore) reaches
 * this one within `maxAgeMs`; made through this one, at once.
 */
export const ACTING_USER_CACHE = { maxEntries: 10_000, maxAgeMs: 2_000 } as const;

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: Pick<TokenClaims, 'sub' | 'username' | 'role' | 'gen'>;
    user: TokenClaims;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The acting user, read from the database at most `ACTING_USER_CACHE.maxAgeMs` ago. */
    currentUser: UserRow | null;
  }
}

export interface AuthOptions {
  db: Database;
  secret: string;
  ttlSeconds: number;
  /** Default `ACTING_USER_CACHE`. */
  userCache?: { maxEntries: number; maxAgeMs: number };
}

export type IssueToken = (user: UserRow) => string;

export type Authorize = (...roles: UserRole[]) => (request: FastifyRequest) => Promise<void>;

/**
 * Bearer-token authentication. The token only names the user and the session generation it was
 * issued under: role, `active` and the current generation come from the database (through
 * `ActingUserCache`), so a demotion, a deactivation, a password change or a sign-out takes effect
 * at once in this process and within `ACTING_USER_CACHE.maxAgeMs` in others, not at expiry.
 */
export function installAuth(app: FastifyInstance, options: AuthOptions) {
  app.register(fastifyJwt, { secret: options.secret, sign: { expiresIn: options.ttlSeconds } });
  app.decorateRequest('currentUser', null);

  const actingUsers = new ActingUserCache({
    load: (id) => findUserById(options.db, id),
    ...(options.userCache ?? ACTING_USER_CACHE),
  });
  const stopListening = onUserChanged((id) => actingUsers.forget(id));
  app.addHook('onClose', async () => {
    stopListening();
  });

  const issueToken: IssueToken = (user) =>
    app.jwt.sign({ sub: user.id, username: user.username, role: user.role, gen: user.sessionGeneration });

  /**
   * An onRequest hook admitting any authenticated user, or only the given roles. It runs before the
   * body is parsed and validated, so an anonymous caller learns nothing about a route's schema.
   */
  const authorize: Authorize =
    (...roles) =>
    async (request) => {
      let claims: unknown;
      try {
        claims = await request.jwtVerify<Record<string, unknown>>();
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
      if (!tokenClaims.Check(claims)) throw unauthorized('The access token is invalid');
      const { gen } = claims;
      const user = await actingUsers.get(
        claims.sub,
        (kept) => kept.active && kept.sessionGeneration === gen && (roles.length === 0 || roles.includes(kept.role)),
      );
      if (!user || !user.active) throw unauthorized('The account behind this token is no longer active');
      if (user.sessionGeneration !== gen) {
        throw unauthorized('This session has ended (sign-out, password change or deactivation); log in again');
      }
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

/** The acting user as the audit trail names them: username and the request's id. */
export function requestActor(request: FastifyRequest): Actor {
  return { username: actingUser(request).username, requestId: request.id };
}
