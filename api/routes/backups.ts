import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { actingUser, type Authorize } from '../plugins/auth';
import {
  BackupConfig,
  BackupRun,
  ConfigParams,
  CreateBackupConfigBody,
  IdParams,
  ListBackupsQuery,
  RestoreBody,
  RestoreIdParams,
  RestoreState,
  StartBackupBody,
  StartedBackup,
  UpdateBackupConfigBody,
} from '../schemas/backups';
import { bearerAuth, errorResponses } from '../schemas/common';
import { describeRun, downloadableArchive, listRuns, startBackup } from '../services/backup-runs';
import {
  createConfig,
  configView,
  findConfig,
  listConfigs,
  updateConfig,
  type BackupServiceDeps,
} from '../services/backups';
import { restoreState, startRestore } from '../services/restores';

export interface BackupRouteDeps extends BackupServiceDeps {
  authorize: Authorize;
}

/**
 * Backups, admins only: run one now, the runs (one with its manifest, the archive itself), restore
 * one, and the configurations (what, when, how verified, how long kept).
 */
export const backupRoutes: FastifyPluginAsyncTypebox<BackupRouteDeps> = async (app, deps) => {
  app.addSchema(BackupRun);
  app.addSchema(BackupConfig);
  const admin = deps.authorize('admin');
  const common = { tags: ['backups'], security: bearerAuth };

  app.get(
    '',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Backup runs, newest first',
        querystring: ListBackupsQuery,
        response: { 200: Type.Object({ backups: Type.Array(Type.Ref(BackupRun)) }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => listRuns(deps.db, request.query),
  );

  app.get(
    '/:id',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'One backup run with its manifest',
        params: IdParams,
        response: {
          200: Type.Intersect([Type.Ref(BackupRun), Type.Object({ manifest: Type.Unknown() })]),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => describeRun(deps.db, request.params.id),
  );

  app.get(
    '/:id/download',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'The backup archive (application/gzip)',
        params: IdParams,
        response: { ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const archive = await downloadableArchive(deps.db, request.params.id);
      return reply
        .type('application/gzip')
        .header('content-length', archive.sizeBytes)
        .header('content-disposition', `attachment; filename="${path.basename(archive.path)}"`)
        .header('x-checksum-sha256', archive.sha256 ?? '')
        .send(createReadStream(archive.path));
    },
  );

  app.post(
    '',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Back up now with a configuration (default on-demand-full); 409 while one of it runs',
        body: StartBackupBody,
        response: { 202: StartedBackup, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const started = await startBackup(deps, request.body?.config, actingUser(request).username);
      return reply.code(202).send(started);
    },
  );

  app.post(
    '/:id/restore',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Restore a backup over the database and storage (confirm with its id); dry_run only checks',
        params: IdParams,
        body: RestoreBody,
        response: {
          200: RestoreState,
          202: RestoreState,
          ...errorResponses(400, 401, 403, 404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const state = await startRestore(deps, request.params.id, request.body ?? {}, actingUser(request).username);
      return reply.code(state.dry_run ? 200 : 202).send(state);
    },
  );

  app.get(
    '/restores/:restore_id',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'A restore: running, its report, or why it failed',
        params: RestoreIdParams,
        response: { 200: RestoreState, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => restoreState(deps, request.params.restore_id),
  );

  app.get(
    '/configs',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Backup configurations',
        response: { 200: Type.Object({ configs: Type.Array(Type.Ref(BackupConfig)) }), ...errorResponses(401, 403) },
      },
    },
    async () => listConfigs(deps.db),
  );

  app.post(
    '/configs',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Create a backup configuration',
        body: CreateBackupConfigBody,
        response: { 201: Type.Ref(BackupConfig), ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await createConfig(deps, request.body, actingUser(request).username)),
  );

  app.get(
    '/configs/:id',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'One backup configuration',
        params: ConfigParams,
        response: { 200: Type.Ref(BackupConfig), ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => configView(await findConfig(deps.db, request.params.id)),
  );

  app.patch(
    '/configs/:id',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Edit a backup configuration (only the fields sent change)',
        params: ConfigParams,
        body: UpdateBackupConfigBody,
        response: { 200: Type.Ref(BackupConfig), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => updateConfig(deps, request.params.id, request.body, actingUser(request).username),
  );

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(
      `/configs/:id/${action}`,
      {
        onRequest: admin,
        schema: {
          ...common,
          summary: enabled
            ? 'Enable a backup configuration'
            : 'Disable a backup configuration (its schedule then skips it; archives stay under retention)',
          params: ConfigParams,
          response: { 200: Type.Ref(BackupConfig), ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (request) => updateConfig(deps, request.params.id, { enabled }, actingUser(request).username),
    );
  }
};
