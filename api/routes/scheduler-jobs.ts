import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ValidationConfig } from '../errors';
import { actingUser, type Authorize } from '../plugins/auth';
import { bearerAuth, errorResponses } from '../schemas/common';
import {
  ExecutionsQuery,
  Job,
  JobExecution,
  JobIdParams,
  JobStats,
  JobTemplate,
  ListJobsQuery,
  PauseBody,
  RunBody,
  StartedRun,
} from '../schemas/scheduler-jobs';
import { CreateJobBody, UpdateJobBody } from '../schemas/job-definition';
import type { JobServiceDeps } from '../services/scheduler-jobs/deps';
import { createJob, deleteJob, setPaused, updateJob } from '../services/scheduler-jobs/jobs';
import { runJobNow } from '../services/scheduler-jobs/runs';
import { jobStats } from '../services/scheduler-jobs/stats';
import { describeJob, listExecutions, listJobs, templateList } from '../services/scheduler-jobs/views';

export interface SchedulerJobRouteDeps extends JobServiceDeps {
  authorize: Authorize;
  /** Job creations per admin per minute. */
  createsPerMinute: number;
}

/**
 * Admin-defined scheduled jobs: templates, the jobs (each a Temporal Schedule `job-<id>`), pause,
 * resume, run now, their executions and the overview. Admins only.
 */
export const schedulerJobRoutes: FastifyPluginAsyncTypebox<SchedulerJobRouteDeps> = async (app, deps) => {
  for (const schema of [JobTemplate, JobExecution, Job]) app.addSchema(schema);
  const admin = deps.authorize('admin');
  const common = { tags: ['scheduler-jobs'], security: bearerAuth };
  const jobResponse = (...errors: number[]) => ({ 200: Type.Ref(Job), ...errorResponses(...errors) });
  /** A definition's schema failures carry the codes its other checks use (see checkedDefinition). */
  const definitionCodes: ValidationConfig['validationCodes'] = {
    schedule: 'invalid_schedule',
    recurrence_type: 'invalid_schedule',
    recurrence_config: 'invalid_schedule',
    timezone: 'invalid_schedule',
    start_at: 'invalid_schedule',
    end_at: 'invalid_schedule',
    parameters: 'invalid_parameters',
  };

  app.get(
    '/templates',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'The templates jobs are made from, with the JSON Schema of their parameters',
        response: { 200: Type.Object({ templates: Type.Array(Type.Ref(JobTemplate)) }), ...errorResponses(401, 403) },
      },
    },
    async () => ({ templates: templateList() }),
  );

  app.get(
    '/stats',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Jobs by status, runs in progress, and how the runs of the last 24 hours ended',
        response: { 200: JobStats, ...errorResponses(401, 403) },
      },
    },
    async () => jobStats(deps),
  );

  app.post(
    '',
    {
      onRequest: admin,
      config: {
        validationCodes: definitionCodes,
        // Each job is a Temporal Schedule: a script gone wrong must not create thousands of them.
        rateLimit: {
          hook: 'preHandler',
          max: deps.createsPerMinute,
          timeWindow: '1 minute',
          keyGenerator: (request) => `job-create|${request.currentUser?.id ?? request.ip}`,
        },
      },
      schema: {
        ...common,
        summary: 'Create a scheduled job (and its Temporal Schedule job-<id>)',
        body: CreateJobBody,
        response: { 201: Type.Ref(Job), ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      const job = await createJob(deps, request.body, actingUser(request).username);
      return reply.status(201).send(job);
    },
  );

  app.get(
    '',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Scheduled jobs (deleted ones only with status=deleted)',
        querystring: ListJobsQuery,
        response: {
          200: Type.Object({ jobs: Type.Array(Type.Ref(Job)), total: Type.Integer() }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => listJobs(deps, request.query),
  );

  app.get(
    '/:id',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'One job, with its next run times from Temporal and its latest execution',
        params: JobIdParams,
        response: jobResponse(400, 401, 403, 404),
      },
    },
    async (request) => describeJob(deps, request.params.id),
  );

  app.put(
    '/:id',
    {
      onRequest: admin,
      config: { validationCodes: definitionCodes },
      schema: {
        ...common,
        summary: 'Replace the job definition and update its schedule in place (409 on a stale version)',
        params: JobIdParams,
        body: UpdateJobBody,
        response: jobResponse(400, 401, 403, 404, 409),
      },
    },
    async (request) => updateJob(deps, request.params.id, request.body, actingUser(request).username),
  );

  app.delete(
    '/:id',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Delete the job and its schedule; its executions are kept',
        params: JobIdParams,
        response: {
          200: Type.Intersect([
            Type.Ref(Job),
            Type.Object({ schedule_deleted: Type.Boolean(), executions_kept: Type.Integer() }),
          ]),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => deleteJob(deps, request.params.id, actingUser(request).username),
  );

  app.post(
    '/:id/pause',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Pause the schedule (a run in progress finishes)',
        params: JobIdParams,
        body: Type.Optional(PauseBody),
        response: jobResponse(400, 401, 403, 404, 409),
      },
    },
    async (request) => setPaused(deps, request.params.id, true, request.body?.note, actingUser(request).username),
  );

  app.post(
    '/:id/resume',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Resume the schedule',
        params: JobIdParams,
        response: jobResponse(400, 401, 403, 404, 409),
      },
    },
    async (request) => setPaused(deps, request.params.id, false, undefined, actingUser(request).username),
  );

  app.post(
    '/:id/run',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Run the job now (dry_run reports what it would do); answers at once, see its executions',
        params: JobIdParams,
        body: Type.Optional(RunBody),
        response: { 202: StartedRun, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const started = await runJobNow(
        deps,
        request.params.id,
        request.body?.dry_run ?? false,
        actingUser(request).username,
      );
      return reply.status(202).send(started);
    },
  );

  app.get(
    '/:id/executions',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: "The job's executions (one per attempt), newest first",
        params: JobIdParams,
        querystring: ExecutionsQuery,
        response: {
          200: Type.Object({ executions: Type.Array(Type.Ref(JobExecution)) }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => listExecutions(deps, request.params.id, request.query),
  );
};
