import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { FastifyRequest } from 'fastify';
import {
  approveUpdate,
  cancelObsolescenceUpdate,
  reassignTaskUpdate,
  rejectUpdate,
  reviewUpdate,
  scheduleObsolescenceUpdate,
  setEffectiveDateUpdate,
  submitUpdate,
  type LifecycleState,
} from '../../common';
import type { Database } from '../../db';
import { startOfDayInZone } from '../../lib/dates';
import { badRequest } from '../errors';
import { actingUser, type Authorize } from '../plugins/auth';
import { bearerAuth, errorResponses } from '../schemas/common';
import {
  ApproveBody,
  Document,
  DocumentIdParams,
  EffectiveDateBody,
  ObsoleteBody,
  ReassignBody,
  RejectBody,
  ReviewBody,
} from '../schemas/documents';
import { actOnDocument, type ActionRule } from '../services/document-workflow';

export interface DocumentLifecycleRouteDeps {
  db: Database;
  temporal: Client;
  authorize: Authorize;
  /** IANA zone in which calendar dates (effective_date, obsolescence_date) mean midnight. */
  timezone: string;
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

/**
 * The lifecycle actions on one document (submit, review, approve, reject, dates, obsolescence,
 * reassignment): each an update of the document's workflow, answered with the document after it.
 */
export const documentLifecycleRoutes: FastifyPluginAsyncTypebox<DocumentLifecycleRouteDeps> = async (app, deps) => {
  const { authorize } = deps;
  const withId = { tags: ['documents'], security: bearerAuth, params: DocumentIdParams };
  const actionResponses = { 200: Type.Ref(Document), ...errorResponses(400, 401, 403, 404, 409) };

  /** One lifecycle action on the document named in the path. */
  const act = <Input>(
    request: FastifyRequest & { params: { id: string } },
    rule: ActionRule,
    update: UpdateDefinition<LifecycleState, [Input]>,
    input: (actor: string) => Input,
  ) => actOnDocument(deps, request.params.id, actingUser(request), rule, update, input);

  /** The effective instant an approval or a change of it names. */
  const effectiveAt = (body: { effective_date?: string; effective_at?: string }) =>
    instantFrom('effective_date', body.effective_date, 'effective_at', body.effective_at, deps.timezone);

  app.post(
    '/:id/submit',
    {
      onRequest: authorize('author', 'admin'),
      schema: { ...withId, summary: 'Submit for review (author)', response: actionResponses },
    },
    async (request) => act(request, 'author-or-admin', submitUpdate, (actor) => ({ actor })),
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
      const { decision, comment } = request.body;
      return act(request, 'assigned', reviewUpdate, (actor) => ({ actor, decision, comment }));
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
    async (request) =>
      act(request, 'assigned', approveUpdate, (actor) => ({
        actor,
        effectiveAt: effectiveAt(request.body),
        comment: request.body.comment,
      })),
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
    async (request) => act(request, 'assigned', rejectUpdate, (actor) => ({ actor, comment: request.body.comment })),
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
    async (request) =>
      act(request, 'author-or-admin', setEffectiveDateUpdate, (actor) => ({
        actor,
        effectiveAt: effectiveAt(request.body),
      })),
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
    async (request) =>
      act(request, 'author-or-admin', scheduleObsolescenceUpdate, (actor) => ({
        actor,
        obsoleteAt: instantFrom(
          'obsolescence_date',
          request.body.obsolescence_date,
          'obsolete_at',
          request.body.obsolete_at,
          deps.timezone,
        ),
        reason: request.body.reason,
      })),
  );

  app.post(
    '/:id/cancel-obsolescence',
    {
      onRequest: authorize('author', 'admin'),
      schema: { ...withId, summary: 'Cancel a scheduled obsolescence', response: actionResponses },
    },
    async (request) => act(request, 'author-or-admin', cancelObsolescenceUpdate, (actor) => ({ actor })),
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
    async (request) =>
      act(request, 'assigned', reassignTaskUpdate, (actor) => ({
        actor,
        taskId: request.body.task_id,
        assignee: request.body.username,
      })),
  );
};
