import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Database } from '../../db';
import { actingUser, requestActor, type Authorize } from '../plugins/auth';
import { bearerAuth, errorResponses } from '../schemas/common';
import { CreateUserBody, NoContent, UpdateUserBody, User, UsernameParams } from '../schemas/users';
import { revokeSessions } from '../services/sessions';
import { createUser, getUser, listUsers, updateUser } from '../services/users';

export interface UserRouteDeps {
  db: Database;
  authorize: Authorize;
}

export const userRoutes: FastifyPluginAsyncTypebox<UserRouteDeps> = async (app, { db, authorize }) => {
  app.get(
    '/me',
    {
      onRequest: authorize(),
      schema: {
        tags: ['users'],
        summary: 'The authenticated user',
        security: bearerAuth,
        response: { 200: User, ...errorResponses(401) },
      },
    },
    async (request) => getUser(db, actingUser(request).username),
  );

  app.post(
    '',
    {
      onRequest: authorize('admin'),
      schema: {
        tags: ['users'],
        summary: 'Create a user (admin)',
        security: bearerAuth,
        body: CreateUserBody,
        response: { 201: User, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await createUser(db, request.body, requestActor(request))),
  );

  app.get(
    '',
    {
      onRequest: authorize('admin'),
      schema: {
        tags: ['users'],
        summary: 'List users (admin)',
        security: bearerAuth,
        response: { 200: Type.Object({ users: Type.Array(User) }), ...errorResponses(401, 403) },
      },
    },
    async () => ({ users: await listUsers(db) }),
  );

  app.get(
    '/:username',
    {
      onRequest: authorize('admin'),
      schema: {
        tags: ['users'],
        summary: 'One user (admin)',
        security: bearerAuth,
        params: UsernameParams,
        response: { 200: User, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => getUser(db, request.params.username),
  );

  app.patch(
    '/:username',
    {
      onRequest: authorize('admin'),
      schema: {
        tags: ['users'],
        summary: 'Change role, manager, active flag, email, display name or password (admin)',
        security: bearerAuth,
        params: UsernameParams,
        body: UpdateUserBody,
        response: { 200: User, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => updateUser(db, request.params.username, request.body, requestActor(request)),
  );

  app.post(
    '/:username/revoke-sessions',
    {
      onRequest: authorize('admin'),
      schema: {
        tags: ['users'],
        summary: 'Sign the user out everywhere: every token issued to them so far stops working (admin, audited)',
        description:
          'Answers 204. The user can log in again at once; only tokens issued before this call are refused (401). ' +
          'An admin revoking their own sessions ends the token of this very request too.',
        security: bearerAuth,
        params: UsernameParams,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await revokeSessions(db, request.params.username, requestActor(request));
      return reply.status(204).send(null);
    },
  );
};
