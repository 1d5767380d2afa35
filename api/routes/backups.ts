import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { BACKUP_TYPES } from '../../common';
import { schema, type BackupRunRow, type Database } from '../../db';
import { notFound } from '../errors';
import type { Authorize } from '../plugins/auth';
import { bearerAuth, errorResponses } from '../schemas/common';

const { backupRuns } = schema;

export interface BackupRouteDeps {
  db: Database;
  authorize: Authorize;
}

const BackupRun = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    config_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    backup_type: Type.String({ enum: [...BACKUP_TYPES] }),
    status: Type.String({ enum: ['running', 'succeeded', 'failed'] }),
    started_at: Type.String({ format: 'date-time' }),
    finished_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    duration_seconds: Type.Union([Type.Number(), Type.Null()]),
    size_bytes: Type.Union([Type.Integer(), Type.Null()]),
    path: Type.Union([Type.String(), Type.Null()]),
    sha256: Type.Union([Type.String(), Type.Null()]),
    verification: Type.Unknown(),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'BackupRun' },
);

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

function runView(row: BackupRunRow) {
  return {
    id: row.id,
    config_id: row.configId,
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
  };
}

/** Backup runs: list, one with its manifest, and the archive itself. Admins only. */
export const backupRoutes: FastifyPluginAsyncTypebox<BackupRouteDeps> = async (app, deps) => {
  app.addSchema(BackupRun);
  const admin = deps.authorize('admin');
  const common = { tags: ['backups'], security: bearerAuth };

  async function findRun(id: string): Promise<BackupRunRow> {
    const [row] = await deps.db.select().from(backupRuns).where(eq(backupRuns.id, id));
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
      const rows = await deps.db
        .select()
        .from(backupRuns)
        .where(and(...filters))
        .orderBy(desc(backupRuns.startedAt))
        .limit(request.query.limit);
      return { backups: rows.map(runView) };
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
      const row = await findRun(request.params.id);
      return { ...runView(row), manifest: row.manifest ?? null };
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
      const row = await findRun(request.params.id);
      const archive = row.status === 'succeeded' && row.path ? row.path : undefined;
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
};
