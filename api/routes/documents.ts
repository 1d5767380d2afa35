import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import {
  approveUpdate,
  cancelObsolescenceUpdate,
  reassignTaskUpdate,
  rejectUpdate,
  reviewUpdate,
  scheduleObsolescenceUpdate,
  setEffectiveDateUpdate,
  submitUpdate,
  type LifecycleSettings,
} from '../../common';
import { pgErrorCode, schema, UNIQUE_VIOLATION, type Database } from '../../db';
import { startOfDayInZone } from '../../lib/dates';
import { badRequest, conflict, forbidden } from '../errors';
import { actingUser, type Authorize } from '../plugins/auth';
import { bearerAuth, errorResponses } from '../schemas/common';
import {
  ApproveBody,
  CreateDocumentBody,
  Document,
  DocumentHistory,
  DocumentIdParams,
  DocumentPage,
  EffectiveDateBody,
  ListQuery,
  NewVersionBody,
  ObsoleteBody,
  ReassignBody,
  RejectBody,
  ReviewBody,
} from '../schemas/documents';
import { startDocumentWorkflow, updateDocument } from '../services/document-workflow';
import { documentFacts, documentHistory, getDocument, insertDocument, listDocuments } from '../services/documents';

const DocumentRef = Type.Ref(Document);

export interface DocumentRouteDeps {
  db: Database;
  temporal: Client;
  authorize: Authorize;
  timezone: string;
  lifecycle: LifecycleSettings;
}

/**
 * One instant from the two ways users give one: a calendar date (midnight in EDMS_TIMEZONE) or an
 * exact ISO instant. Exactly one must be given.
 */
function instantFrom(
  dateField: string,
  date: string | undefined,
  instantField: string,
  instant: string | undefined,
  timezone: string,
) {
  if ((date === undefined) === (instant === undefined)) {
    throw badRequest('invalid_dates', `Give exactly one of ${dateField} and ${instantField}`, {
      fields: [dateField, instantField],
    });
  }
  if (instant !== undefined) return new Date(instant).toISOString();
  try {
    return startOfDayInZone(date!, timezone).toISOString();
  } catch {
    throw badRequest('invalid_dates', `${dateField} is not a calendar date: ${date}`, { fields: [dateField] });
  }
}

export const documentRoutes: FastifyPluginAsyncTypebox<DocumentRouteDeps> = async (app, deps) => {
  const { db, temporal, authorize } = deps;
  const common = { tags: ['documents'], security: bearerAuth };
  const withId = { ...common, params: DocumentIdParams };
  const actionResponses = { 200: DocumentRef, ...errorResponses(400, 401, 403, 404, 409) };

  /** Authors act on their own documents; admins on any. */
  const requireOwnerOrAdmin = async (request: Parameters<typeof actingUser>[0], id: string) => {
    const user = actingUser(request);
    const document = await getDocument(db, id);
    if (user.role !== 'admin' && document.author !== user.username) {
      throw forbidden(`Only the author (${document.author}) or an admin may do this`);
    }
    return user;
  };

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
    async (request, reply) => {
      const author = actingUser(request);
      const id = await db.transaction(async (tx) => {
        const created = await insertDocument(tx, request.body, author, {
          username: author.username,
          requestId: request.id,
        }).catch((error: unknown) => {
          if (pgErrorCode(error) === UNIQUE_VIOLATION) {
            throw conflict('document_number_taken', `Document number '${request.body.document_number}' already exists`);
          }
          throw error;
        });
        const [row] = await tx.select().from(schema.documents).where(eq(schema.documents.id, created));
        // Started inside the transaction: if Temporal refuses, the document is not created either.
        await startDocumentWorkflow(temporal, created, documentFacts(row!), deps.lifecycle);
        return created;
      });
      return reply.status(201).send(await getDocument(db, id));
    },
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

  app.post(
    '/:id/submit',
    {
      onRequest: authorize('author', 'admin'),
      schema: { ...withId, summary: 'Submit for review (author)', response: actionResponses },
    },
    async (request) => {
      const user = await requireOwnerOrAdmin(request, request.params.id);
      await updateDocument(temporal, request.params.id, submitUpdate, { actor: user.username });
      return getDocument(db, request.params.id);
    },
  );

  app.post(
    '/:id/review',
    {
      onRequest: authorize(),
      schema: {
        ...withId,
        summary: 'Review decision (an assigned reviewer)',
        body: ReviewBody,
        response: actionResponses,
      },
    },
    async (request) => {
      await getDocument(db, request.params.id);
      const { decision, comment } = request.body;
      await updateDocument(temporal, request.params.id, reviewUpdate, {
        actor: actingUser(request).username,
        decision,
        comment,
      });
      return getDocument(db, request.params.id);
    },
  );

  app.post(
    '/:id/approve',
    {
      onRequest: authorize(),
      schema: {
        ...withId,
        summary: 'Approve with an effective date (an assigned approver)',
        body: ApproveBody,
        response: actionResponses,
      },
    },
    async (request) => {
      await getDocument(db, request.params.id);
      const effectiveAt = instantFrom(
        'effective_date',
        request.body.effective_date,
        'effective_at',
        request.body.effective_at,
        deps.timezone,
      );
      await updateDocument(temporal, request.params.id, approveUpdate, {
        actor: actingUser(request).username,
        effectiveAt,
        comment: request.body.comment,
      });
      return getDocument(db, request.params.id);
    },
  );

  app.post(
    '/:id/reject',
    {
      onRequest: authorize(),
      schema: {
        ...withId,
        summary: 'Reject in approval (an assigned approver)',
        body: RejectBody,
        response: actionResponses,
      },
    },
    async (request) => {
      await getDocument(db, request.params.id);
      await updateDocument(temporal, request.params.id, rejectUpdate, {
        actor: actingUser(request).username,
        comment: request.body.comment,
      });
      return getDocument(db, request.params.id);
    },
  );

  app.post(
    '/:id/effective-date',
    {
      onRequest: authorize('author', 'admin'),
      schema: {
        ...withId,
        summary: 'Change the effective instant of an approved document',
        body: EffectiveDateBody,
        response: actionResponses,
      },
    },
    async (request) => {
      const user = await requireOwnerOrAdmin(request, request.params.id);
      const effectiveAt = instantFrom(
        'effective_date',
        request.body.effective_date,
        'effective_at',
        request.body.effective_at,
        deps.timezone,
      );
      await updateDocument(temporal, request.params.id, setEffectiveDateUpdate, { actor: user.username, effectiveAt });
      return getDocument(db, request.params.id);
    },
  );

  app.post(
    '/:id/obsolete',
    {
      onRequest: authorize('author', 'admin'),
      schema: {
        ...withId,
        summary: 'Schedule obsolescence of an effective document',
        body: ObsoleteBody,
        response: actionResponses,
      },
    },
    async (request) => {
      const user = await requireOwnerOrAdmin(request, request.params.id);
      const obsoleteAt = instantFrom(
        'obsolescence_date',
        request.body.obsolescence_date,
        'obsolete_at',
        request.body.obsolete_at,
        deps.timezone,
      );
      await updateDocument(temporal, request.params.id, scheduleObsolescenceUpdate, {
        actor: user.username,
        obsoleteAt,
        reason: request.body.reason,
      });
      return getDocument(db, request.params.id);
    },
  );

  app.post(
    '/:id/cancel-obsolescence',
    {
      onRequest: authorize('author', 'admin'),
      schema: { ...withId, summary: 'Cancel a scheduled obsolescence', response: actionResponses },
    },
    async (request) => {
      const user = await requireOwnerOrAdmin(request, request.params.id);
      await updateDocument(temporal, request.params.id, cancelObsolescenceUpdate, { actor: user.username });
      return getDocument(db, request.params.id);
    },
  );

  app.post(
    '/:id/reassign',
    {
      onRequest: authorize('admin'),
      schema: {
        ...withId,
        summary: 'Give an open review or approval task to another user (admin)',
        body: ReassignBody,
        response: actionResponses,
      },
    },
    async (request) => {
      await getDocument(db, request.params.id);
      await updateDocument(temporal, request.params.id, reassignTaskUpdate, {
        actor: actingUser(request).username,
        taskId: request.body.task_id,
        assignee: request.body.username,
      });
      return getDocument(db, request.params.id);
    },
  );

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
    async (request, reply) => {
      const user = actingUser(request);
      const current = await getDocument(db, request.params.id);
      if (current.status !== 'EFFECTIVE' && current.status !== 'SCHEDULED_FOR_OBSOLESCENCE') {
        throw conflict(
          'invalid_transition',
          `Only an EFFECTIVE document gets a new version; this one is ${current.status}`,
          {
            current_status: current.status,
          },
        );
      }
      const id = await db.transaction(async (tx) => {
        const created = await insertDocument(
          tx,
          {
            title: request.body.title ?? current.title,
            description: request.body.description ?? current.description ?? undefined,
            reviewers: request.body.reviewers ?? current.reviewers,
            approvers: request.body.approvers ?? current.approvers,
            supersedes: { id: current.id, documentNumber: current.document_number, version: current.version },
          },
          user,
          { username: user.username, requestId: request.id },
        ).catch((error: unknown) => {
          if (pgErrorCode(error) === UNIQUE_VIOLATION) {
            throw conflict(
              'version_exists',
              `Version ${current.version + 1} of ${current.document_number} already exists`,
            );
          }
          throw error;
        });
        const [row] = await tx.select().from(schema.documents).where(eq(schema.documents.id, created));
        await startDocumentWorkflow(temporal, created, documentFacts(row!), deps.lifecycle);
        return created;
      });
      return reply.status(201).send(await getDocument(db, id));
    },
  );
};
