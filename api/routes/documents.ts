import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { LifecycleSettings } from '../../common';
import { actingUser, requestActor } from '../plugins/auth';
import { bearerAuth, errorResponses } from '../schemas/common';
import {
  CreateDocumentBody,
  Document,
  DocumentHistory,
  DocumentIdParams,
  DocumentPage,
  ListQuery,
  NewVersionBody,
} from '../schemas/documents';
import { documentHistory, getDocument, listDocuments } from '../services/document-views';
import { createDocument, createNewVersion } from '../services/documents';
import { documentLifecycleRoutes, type DocumentLifecycleRouteDeps } from './document-lifecycle';

const DocumentRef = Type.Ref(Document);

export interface DocumentRouteDeps extends DocumentLifecycleRouteDeps {
  /** Review timing given to new document workflows. */
  lifecycle: LifecycleSettings;
}

export const documentRoutes: FastifyPluginAsyncTypebox<DocumentRouteDeps> = async (app, deps) => {
  const { db, authorize } = deps;
  const common = { tags: ['documents'], security: bearerAuth };
  const withId = { ...common, params: DocumentIdParams };
  const author = (request: FastifyRequest) => ({ id: actingUser(request).id, ...requestActor(request) });

  app.post(
    '',
    {
      onRequest: authorize('author', 'admin'),
      schema: {
        ...common,
        summary: 'Create a DRAFT document and start its workflow',
        body: CreateDocumentBody,
        response: { 201: DocumentRef, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await createDocument(deps, request.body, author(request))),
  );

  app.get(
    '',
    {
      onRequest: authorize(),
      schema: {
        ...common,
        summary: 'Documents, newest first',
        querystring: ListQuery,
        response: { 200: DocumentPage, ...errorResponses(400, 401) },
      },
    },
    async (request) =>
      listDocuments(db, {
        status: request.query.status,
        q: request.query.q,
        page: request.query.page,
        pageSize: request.query.page_size,
      }),
  );

  app.get(
    '/:id',
    {
      onRequest: authorize(),
      schema: { ...withId, summary: 'One document', response: { 200: DocumentRef, ...errorResponses(401, 404) } },
    },
    async (request) => getDocument(db, request.params.id),
  );

  app.get(
    '/:id/history',
    {
      onRequest: authorize(),
      schema: {
        ...withId,
        summary: 'Transitions and audit entries, oldest first',
        response: { 200: DocumentHistory, ...errorResponses(401, 404) },
      },
    },
    async (request) => documentHistory(db, request.params.id),
  );

  // The lifecycle actions stand between the reads and /versions in the OpenAPI document, as they always have.
  await app.register(documentLifecycleRoutes, { db, temporal: deps.temporal, authorize, timezone: deps.timezone });

  app.post(
    '/:id/versions',
    {
      onRequest: authorize('author', 'admin'),
      schema: {
        ...withId,
        summary: 'Create a new DRAFT version that supersedes this one once EFFECTIVE',
        body: NewVersionBody,
        response: { 201: DocumentRef, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createNewVersion(deps, request.params.id, request.body, author(request))),
  );
};
