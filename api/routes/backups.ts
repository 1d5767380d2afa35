import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { BACKUP_TYPES } from '../../common';
import { schema, type BackupRunRow } from '../../db';
import { notFound } from '../errors';
import { isUuid } from '../../lib/dates';
import { actingUser, type Authorize } from '../plugins/auth';
import {
  BackupConfig,
  BackupRun,
  CreateBackupConfigBody,
  IdParams,
  RestoreBody,
  RestoreState,
  StartBackupBody,
  StartedBackup,
  UpdateBackupConfigBody,
} from '../schemas/backups';
import {
  createConfig,
  configView,
  findConfig,
  restoreState,
  startBackup,
  startRestore,
  updateConfig,
  type BackupServiceDeps,
} from '../services/backups';
import { bearerAuth, errorResponses } from '../schemas/common';

const { backupConfigs, backupRuns } = schema;

export interface BackupRouteDeps extends BackupServiceDeps {
  authorize: Authorize;
}

function runView(row: BackupRunRow, config: string | null) {
  return {
    id: row.id,
    config_id: row.configId,
    config,
    backup_type: row.backupType,
    status: row.status,
    started_at: row.startedAt.toISOString(),
    finished_at: row.finishedAt?.toISOString() ?? null,
    duration_seconds: row.durationSeconds,
    size_bytes: row.sizeBytes,
    path: row.path,
    sha256: row.sha256,
    verification: row.verification ?? null,
    error: row.error,
    triggered_by: row.triggeredBy,
    workflow_id: row.workflowId,
    deleted_at: row.deletedAt?.toISOString() ?? null,
  };
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

  const withConfig = () =>
    deps.db
      .select({ run: backupRuns, config: backupConfigs.name })
      .from(backupRuns)
      .leftJoin(backupConfigs, eq(backupConfigs.id, backupRuns.configId));

  async function findRun(id: string) {
    const [row] = await withConfig().where(eq(backupRuns.id, id));
    if (!row) throw notFound(`No backup ${id}`);
    return row;
  }

  app.get(
    '',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Backup runs, newest first',
        querystring: Type.Object({
          status: Type.Optional(Type.String({ enum: ['running', 'succeeded', 'failed'] })),
          type: Type.Optional(Type.String({ enum: [...BACKUP_TYPES] })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
        }),
        response: { 200: Type.Object({ backups: Type.Array(Type.Ref(BackupRun)) }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const filters: SQL[] = [];
      if (request.query.status) filters.push(eq(backupRuns.status, request.query.status as BackupRunRow['status']));
      if (request.query.type) filters.push(eq(backupRuns.backupType, request.query.type as BackupRunRow['backupType']));
      const rows = await withConfig()
        .where(and(...filters))
        .orderBy(desc(backupRuns.startedAt))
        .limit(request.query.limit);
      return { backups: rows.map((row) => runView(row.run, row.config)) };
    },
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
    async (request) => {
      const { run, config } = await findRun(request.params.id);
      return { ...runView(run, config), manifest: run.manifest ?? null };
    },
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
      const { run: row } = await findRun(request.params.id);
      const archive = row.status === 'succeeded' && row.path && !row.deletedAt ? row.path : undefined;
      const size = archive
        ? await stat(archive).then(
            (info) => info.size,
            () => undefined,
          )
        : undefined;
      if (!archive || size === undefined) {
        throw notFound(`Backup ${row.id} has no archive on disk (status ${row.status})`);
      }
      return reply
        .type('application/gzip')
        .header('content-length', size)
        .header('content-disposition', `attachment; filename="${path.basename(archive)}"`)
        .header('x-checksum-sha256', row.sha256 ?? '')
        .send(createReadStream(archive));
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
        params: Type.Object({
          restore_id: Type.String({
            minLength: 1,
            maxLength: 100,
            description: 'The restore workflow run id (a UUID)',
          }),
        }),
        response: { 200: RestoreState, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      // Any other text names no restore: Temporal would refuse it as a malformed run id.
      if (!isUuid(request.params.restore_id)) throw notFound(`No restore ${request.params.restore_id}`);
      return restoreState(deps, request.params.restore_id);
    },
  );

  const configCommon = { tags: ['backups'], security: bearerAuth };
  const ConfigParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'Id or name' }) });

  app.get(
    '/configs',
    {
      onRequest: admin,
      schema: {
        ...configCommon,
        summary: 'Backup configurations',
        response: { 200: Type.Object({ configs: Type.Array(Type.Ref(BackupConfig)) }), ...errorResponses(401, 403) },
      },
    },
    async () => {
      const rows = await deps.db.select().from(backupConfigs).orderBy(backupConfigs.name);
      return { configs: rows.map(configView) };
    },
  );

  app.post(
    '/configs',
    {
      onRequest: admin,
      schema: {
        ...configCommon,
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
        ...configCommon,
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
        ...configCommon,
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
          ...configCommon,
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
