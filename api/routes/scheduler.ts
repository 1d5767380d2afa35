import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { BackupType } from '../../common';
import { requestActor, type Authorize } from '../plugins/auth';
import { bearerAuth, errorResponses } from '../schemas/common';
import {
  ExecutionsQuery,
  ManualTriggerBody,
  ManualTriggerResult,
  MonitoringStatus,
  ScheduleIdParams,
  ScheduleNoteBody,
  ScheduleState,
  TaskExecution,
  TaskNameParams,
} from '../schemas/scheduler';
import { monitoringStatus, type MonitoringDeps } from '../services/monitoring/status';
import {
  controlSchedule,
  recentExecutions,
  requireTaskName,
  triggerTask,
  type SchedulerDeps,
} from '../services/scheduler';

export interface SchedulerRouteDeps extends SchedulerDeps, MonitoringDeps {
  authorize: Authorize;
}

/** System tasks: run now (with dry run), schedules, run history, and the monitoring overview. Admins only. */
export const schedulerRoutes: FastifyPluginAsyncTypebox<SchedulerRouteDeps> = async (app, deps) => {
  for (const schema of [ManualTriggerResult, ScheduleState, TaskExecution, MonitoringStatus]) {
    app.addSchema(schema);
  }
  const admin = deps.authorize('admin');
  const common = { tags: ['scheduler'], security: bearerAuth };

  app.post(
    '/monitoring/manual-trigger/',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary:
          'Run a system task now and wait for its result (dry_run reports what it would change); 409 task_running while a manual run of the task is going',
        body: ManualTriggerBody,
        response: { 200: Type.Ref(ManualTriggerResult), ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request) => {
      const taskName = requireTaskName(request.body.task_name);
      const backupType = request.body.backup_type as BackupType | undefined;
      return triggerTask(
        deps,
        taskName,
        request.body.dry_run ?? false,
        requestActor(request),
        backupType ? { backupType } : undefined,
      );
    },
  );

  for (const action of ['trigger', 'pause', 'unpause'] as const) {
    app.post(
      `/schedules/:id/${action}`,
      {
        onRequest: admin,
        schema: {
          ...common,
          summary: {
            trigger: 'Start a run of the schedule now',
            pause: 'Pause the schedule',
            unpause: 'Resume the schedule',
          }[action],
          params: ScheduleIdParams,
          body: Type.Optional(ScheduleNoteBody),
          response: { 200: Type.Ref(ScheduleState), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => controlSchedule(deps, request.params.id, action, requestActor(request), request.body?.note),
    );
  }

  app.get(
    '/monitoring/status/',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Overall status, health score, workers, schedules, statistics, alerts and every task',
        response: { 200: Type.Ref(MonitoringStatus), ...errorResponses(401, 403) },
      },
    },
    async () => monitoringStatus(deps),
  );

  app.get(
    '/tasks/:task_name/executions',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Recent runs of a task, newest first, with their results',
        params: TaskNameParams,
        querystring: ExecutionsQuery,
        response: {
          200: Type.Object({ executions: Type.Array(Type.Ref(TaskExecution)) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => ({
      executions: await recentExecutions(deps.db, requireTaskName(request.params.task_name), request.query.limit),
    }),
  );
};
