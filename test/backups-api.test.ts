import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import postgres from 'postgres';
import { TASK_QUEUES, type BackupOutcome } from '../common';
import { schema } from '../db';
import { uniqueName } from './helpers/api';
import { testDatabaseUrl } from './helpers/resources';
import { TEST_BACKUP_DIR, withWorker } from './helpers/temporal';
import { waitFor } from './helpers/wait';
import { useTimeSkippingApi } from './helpers/suite';

const suite = useTimeSkippingApi();
let admin: { authorization: string; username: string };

beforeAll(async () => {
  admin = await suite.api.as('admin');
});
afterAll(() => rm(TEST_BACKUP_DIR, { recursive: true, force: true }));

/** A worker on the maintenance queue, where the API starts backups and restores. */
const inWorker = <T>(body: () => Promise<T>, systemTasks = {}) =>
  withWorker(
    suite.env,
    { taskQueue: TASK_QUEUES.maintenance, queueKind: 'maintenance', database: suite.api.database, systemTasks },
    body,
  );

const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, as = admin) =>
  suite.api.app.inject({ method, url, headers: { authorization: as.authorization }, ...(payload ? { payload } : {}) });

async function backUpNow(config?: string) {
  const started = await call('POST', '/api/v1/backups', config ? { config } : {});
  expect(started.statusCode).toBe(202);
  const body = started.json<{ backup_id: string; workflow_id: string; run_id: string }>();
  return {
    ...body,
    outcome: (await suite.env.client.workflow.getHandle(body.workflow_id, body.run_id).result()) as BackupOutcome,
  };
}

test('an admin backs up now: 202 with the run, 409 while it runs, and the run with its manifest afterwards', async () => {
  await inWorker(async () => {
    const first = await call('POST', '/api/v1/backups', {});
    expect(first.statusCode).toBe(202);
    const started = first.json();
    expect(started).toMatchObject({
      config: 'on-demand-full',
      backup_type: 'full',
      status: 'running',
      workflow_id: 'backup-on-demand-full',
    });
    const again = await call('POST', '/api/v1/backups', { config: 'on-demand-full' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'backup_in_progress' });

    await suite.env.client.workflow.getHandle(started.workflow_id, started.run_id).result();
    const run = await call('GET', `/api/v1/backups/${started.backup_id}`);
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({
      id: started.backup_id,
      config: 'on-demand-full',
      status: 'succeeded',
      triggered_by: admin.username,
      workflow_id: 'backup-on-demand-full',
      deleted_at: null,
      manifest: { row_counts: expect.objectContaining({ documents: expect.any(Number) }) },
    });
    const listed = await call('GET', '/api/v1/backups?status=succeeded&type=full');
    expect(listed.json().backups[0]).toMatchObject({ id: started.backup_id, config: 'on-demand-full' });

    expect((await call('POST', '/api/v1/backups', { config: 'no-such-config' })).statusCode).toBe(404);
    const author = await suite.api.as('author');
    expect((await call('POST', '/api/v1/backups', {}, author)).statusCode).toBe(403);
  });
});

test('a restore needs the backup id as confirmation; a dry run checks and lists; the real one restores and reports', async () => {
  const { backup_id: backupId } = await inWorker(() => backUpNow());

  const unconfirmed = await call('POST', `/api/v1/backups/${backupId}/restore`, {});
  expect(unconfirmed.statusCode).toBe(400);
  expect(unconfirmed.json().error).toMatchObject({ code: 'confirmation_required', details: { field: 'confirm' } });
  expect((await call('POST', `/api/v1/backups/${backupId}/restore`, { confirm: 'yes' })).statusCode).toBe(400);
  const [failedRun] = await suite.api.database.db
    .insert(schema.backupRuns)
    .values({ backupType: 'full', status: 'failed', error: 'disk full' })
    .returning();
  const nothing = await call('POST', `/api/v1/backups/${failedRun!.id}/restore`, { confirm: failedRun!.id });
  expect(nothing.statusCode).toBe(409);
  expect(nothing.json().error.code).toBe('no_archive');
  const unknown = '00000000-0000-4000-8000-000000000000';
  expect((await call('POST', `/api/v1/backups/${unknown}/restore`, { confirm: unknown })).statusCode).toBe(404);

  // One restore at a time: while one runs (here, one no worker has picked up yet) another is refused.
  const pending = await suite.env.client.workflow.start('restoreBackup', {
    taskQueue: 'nobody-polls-this',
    workflowId: 'restore-backup',
    args: [{ backupRunId: backupId, dryRun: true, requestedBy: 'test' }],
  });
  const busy = await call('POST', `/api/v1/backups/${backupId}/restore`, { dry_run: true });
  expect(busy.statusCode).toBe(409);
  expect(busy.json().error.code).toBe('restore_in_progress');
  await pending.terminate('test');

  const dry = await inWorker(() => call('POST', `/api/v1/backups/${backupId}/restore`, { dry_run: true }));
  expect(dry.statusCode).toBe(200);
  expect(dry.json()).toMatchObject({
    backup_id: backupId,
    dry_run: true,
    status: 'completed',
    requested_by: admin.username,
    report: { dry_run: true, verification: { checksums_ok: true }, document_workflows: null },
  });

  // The real restore goes into a database of its own here, as the test database is shared.
  const targetName = `edms_api_restore_${Date.now()}`;
  const maintenance = postgres(testDatabaseUrl(), { max: 1, onnotice: () => undefined });
  await maintenance.unsafe(`create database "${targetName}"`);
  const target = new URL(testDatabaseUrl());
  target.pathname = `/${targetName}`;
  const storage = await mkdtemp(path.join(os.tmpdir(), 'edms-api-restore-'));
  try {
    await inWorker(
      async () => {
        const started = await call('POST', `/api/v1/backups/${backupId}/restore`, { confirm: backupId });
        expect(started.statusCode).toBe(202);
        expect(started.json()).toMatchObject({ status: 'running', dry_run: false, workflow_id: 'restore-backup' });
        const restoreId = started.json().restore_id as string;
        const done = await waitFor<{ report: { document_workflows: unknown } }>(async () => {
          const state = await call('GET', `/api/v1/backups/restores/${restoreId}`);
          return state.json().status === 'running' ? undefined : state.json();
        }, 60_000);
        expect(done).toMatchObject({ status: 'completed', backup_id: backupId, report: { mismatched_tables: [] } });
        expect(done.report.document_workflows).toMatchObject({ documents: expect.any(Number) });
        const restored = postgres(target.toString(), { max: 1, onnotice: () => undefined });
        const [audit] = await restored`select actor, entity_id from audit_trail where action = 'BACKUP_RESTORED'`;
        await restored.end();
        expect(audit).toMatchObject({ actor: admin.username, entity_id: backupId });
      },
      { databaseUrl: target.toString(), storageDir: storage },
    );
  } finally {
    await maintenance.unsafe(`drop database if exists "${targetName}" with (force)`);
    await maintenance.end();
    await rm(storage, { recursive: true, force: true });
  }
  expect((await call('GET', '/api/v1/backups/restores/no-such-run')).statusCode).toBe(404);
});

test('a restore through the API succeeds although a role granted in the backup was dropped since; its dry run says so first and changes nothing', async () => {
  const reader = `edms_api_reader_${Date.now()}`;
  await suite.api.database.sql.unsafe(`create role "${reader}"`);
  await suite.api.database.sql.unsafe(`grant select on documents to "${reader}"`);
  const { backup_id: backupId } = await inWorker(() => backUpNow());
  const [archived] = await suite.api.database.db
    .select()
    .from(schema.backupRuns)
    .where(eq(schema.backupRuns.id, backupId));
  await suite.api.database.sql.unsafe(`revoke all on documents from "${reader}"`);
  await suite.api.database.sql.unsafe(`drop role "${reader}"`);

  const targetName = `edms_api_roles_${Date.now()}`;
  const maintenance = postgres(testDatabaseUrl(), { max: 1, onnotice: () => undefined });
  await maintenance.unsafe(`create database "${targetName}"`);
  const target = new URL(testDatabaseUrl());
  target.pathname = `/${targetName}`;
  const restored = postgres(target.toString(), { max: 1, onnotice: () => undefined });
  const storage = await mkdtemp(path.join(os.tmpdir(), 'edms-api-roles-'));
  try {
    await inWorker(
      async () => {
        const dry = await call('POST', `/api/v1/backups/${backupId}/restore`, { dry_run: true });
        expect(dry.statusCode).toBe(200);
        expect(dry.json()).toMatchObject({
          status: 'completed',
          report: {
            dry_run: true,
            mismatched_tables: [],
            restore_options: expect.arrayContaining(['--no-owner', '--no-privileges']),
            point: { backup_id: backupId, highest_audit_id: expect.any(Number) },
            superseded: { audit_entries: 0, backup_runs_brought_back: [] },
            extra_objects: [],
            audit_entry_id: null,
          },
        });
        const [{ tables } = { tables: -1 }] = await restored<{ tables: number }[]>`
          select count(*)::int as tables from information_schema.tables where table_schema = 'public'`;
        expect(tables).toBe(0);

        const started = await call('POST', `/api/v1/backups/${backupId}/restore`, { confirm: backupId });
        expect(started.statusCode).toBe(202);
        const done = await waitFor<{ status: string; report: Record<string, unknown> }>(async () => {
          const state = await call('GET', `/api/v1/backups/restores/${started.json().restore_id}`);
          return state.json().status === 'running' ? undefined : state.json();
        }, 60_000);
        expect(done).toMatchObject({
          status: 'completed',
          report: {
            dry_run: false,
            mismatched_tables: [],
            point: dry.json().report.point,
            audit_entry_id: expect.any(Number),
          },
        });
        const [acl] = await restored<{ acl: string | null }[]>`
          select relacl::text as acl from pg_class where oid = 'public.documents'::regclass`;
        expect(acl).toEqual({ acl: null });
        const [entry] = await restored<{ id: number; actor: string; entity_id: string; details: { point: object } }[]>`
          select id::int as id, actor, entity_id, details from audit_trail where action = 'BACKUP_RESTORED'`;
        expect(entry).toMatchObject({
          id: done.report.audit_entry_id,
          actor: admin.username,
          entity_id: backupId,
          details: { point: dry.json().report.point },
        });
        // The dump saw its own run still running; restored, the run shows the success it was.
        const [run] = await restored<{ status: string; path: string; sha256: string }[]>`
          select status, path, sha256 from backup_runs where id = ${backupId}`;
        expect(run).toEqual({ status: 'succeeded', path: archived!.path, sha256: archived!.sha256 });
      },
      { databaseUrl: target.toString(), storageDir: storage },
    );
  } finally {
    await restored.end();
    await maintenance.unsafe(`drop database if exists "${targetName}" with (force)`);
    await maintenance.end();
    await rm(storage, { recursive: true, force: true });
  }
});

test('admins list, create, edit, disable and enable backup configurations; bad ones are refused with the field', async () => {
  const listed = await call('GET', '/api/v1/backups/configs');
  expect(listed.statusCode).toBe(200);
  expect(listed.json().configs.map((config: { name: string }) => config.name)).toEqual(
    expect.arrayContaining(['daily-full', 'weekly-export', 'monthly-archive', 'on-demand-full']),
  );
  const name = uniqueName('nightly');
  const created = await call('POST', '/api/v1/backups/configs', {
    name,
    backup_type: 'full',
    keep_last: 3,
    destination: `nightly/${name}`,
    verify_mode: 'restore',
    description: 'Nightly copy kept on the local disk',
  });
  expect(created.statusCode).toBe(201);
  expect(created.json()).toMatchObject({ name, enabled: true, keep_last: 3, max_age_days: null, schedule_id: null });

  const refusals: [object, number, string, string?][] = [
    [{ name, backup_type: 'full', keep_last: 1 }, 409, 'config_name_taken'],
    [{ name: uniqueName('x'), backup_type: 'full', keep_last: 1, destination: '../etc' }, 400, 'invalid_destination'],
    [{ name: uniqueName('x'), backup_type: 'full', keep_last: 1, destination: '/etc' }, 400, 'invalid_destination'],
    [{ name: uniqueName('x'), backup_type: 'full', keep_last: 1, schedule_id: 'nightly' }, 400, 'unknown_schedule'],
    [
      { name: uniqueName('x'), backup_type: 'full', keep_last: 1, schedule_id: 'backup-daily-full' },
      409,
      'schedule_taken',
    ],
    [{ name: uniqueName('x'), backup_type: 'full' }, 400, 'retention_required'],
    [{ name: 'Not A Name', backup_type: 'full', keep_last: 1 }, 400, 'validation_failed', 'name'],
    [{ name: uniqueName('x'), backup_type: 'full', keep_last: 0 }, 400, 'validation_failed', 'keep_last'],
    [
      { name: uniqueName('x'), backup_type: 'full', keep_last: 1, verify_mode: 'hope' },
      400,
      'validation_failed',
      'verify_mode',
    ],
    [{ name: uniqueName('x'), backup_type: 'tape', keep_last: 1 }, 400, 'validation_failed', 'backup_type'],
  ];
  for (const [payload, status, code, field] of refusals) {
    const response = await call('POST', '/api/v1/backups/configs', payload);
    expect({ payload, status: response.statusCode, code: response.json().error.code }).toEqual({
      payload,
      status,
      code,
    });
    if (field) expect(JSON.stringify(response.json().error.details)).toContain(field);
  }

  const edited = await call('PATCH', `/api/v1/backups/configs/${name}`, { keep_last: 5, max_age_days: 30 });
  expect(edited.json()).toMatchObject({ keep_last: 5, max_age_days: 30 });
  expect((await call('PATCH', `/api/v1/backups/configs/${name}`, {})).statusCode).toBe(400);
  expect(
    (await call('PATCH', `/api/v1/backups/configs/${name}`, { keep_last: null, max_age_days: null })).json().error.code,
  ).toBe('retention_required');
  const disabled = await call('POST', `/api/v1/backups/configs/${created.json().id}/disable`);
  expect(disabled.json()).toMatchObject({ enabled: false });
  const refused = await call('POST', '/api/v1/backups', { config: name });
  expect(refused.statusCode).toBe(409);
  expect(refused.json().error.code).toBe('config_disabled');
  expect((await call('POST', `/api/v1/backups/configs/${name}/enable`)).json()).toMatchObject({ enabled: true });
  expect((await call('GET', `/api/v1/backups/configs/${name}`)).json()).toMatchObject({ keep_last: 5, enabled: true });

  const audit = await suite.api.database.db
    .select({ action: schema.auditTrail.action, actor: schema.auditTrail.actor })
    .from(schema.auditTrail)
    .where(eq(schema.auditTrail.entityId, created.json().id))
    .orderBy(schema.auditTrail.id);
  expect(audit.map((entry) => entry.action)).toEqual([
    'BACKUP_CONFIG_CREATED',
    'BACKUP_CONFIG_UPDATED',
    'BACKUP_CONFIG_UPDATED',
    'BACKUP_CONFIG_UPDATED',
  ]);
  expect(new Set(audit.map((entry) => entry.actor))).toEqual(new Set([admin.username]));

  const author = await suite.api.as('author');
  expect((await call('GET', '/api/v1/backups/configs', undefined, author)).statusCode).toBe(403);
  expect((await call('GET', '/api/v1/backups/configs/no-such-config')).statusCode).toBe(404);
  // The OpenAPI document describes the new endpoints.
  const openapi = JSON.parse((await suite.api.app.inject({ url: '/docs/json' })).body);
  expect(Object.keys(openapi.paths)).toEqual(
    expect.arrayContaining([
      '/api/v1/backups/configs',
      '/api/v1/backups/{id}/restore',
      '/api/v1/backups/restores/{restore_id}',
    ]),
  );
});
