import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { and, eq, like } from 'drizzle-orm';
import postgres from 'postgres';
import * as tar from 'tar';
import {
  backupWorkflowId,
  type BackupOutcome,
  type SystemTaskInput,
  type SystemTaskOutcome,
  type BackupInput,
} from '../common';
import { connectDatabase, runMigrations, schema } from '../db';
import { monitoringStatus } from '../api/services/monitoring/status';
import { tsxNodeArgs } from '../launcher/managed-process';
import { PROJECT_ROOT } from '../lib/paths';
import { backup, systemTask } from '../workflows';
import { seedUser } from './helpers/documents';
import { recordHistories } from './helpers/histories';
import { testMailSink } from './helpers/mail';
import { testDatabaseUrl } from './helpers/resources';
import { deliveriesSettled, TEST_BACKUP_DIR, type WorkerOptions, withWorkerUntilDelivered } from './helpers/temporal';
import { waitFor } from './helpers/wait';
import { useTimeSkipping } from './helpers/suite';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const { backupConfigs, backupRuns, auditTrail } = schema;

const suite = useTimeSkipping({ taskQueuePrefix: 'backup' });
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'edms-backup-test-'));
});
afterAll(async () => {
  await rm(TEST_BACKUP_DIR, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

const inWorker = <T>(body: () => Promise<T>, options: Partial<WorkerOptions> = {}) =>
  withWorkerUntilDelivered(
    suite.env,
    { taskQueue: suite.taskQueue, database: suite.database, queueKind: 'maintenance', ...options },
    body,
  );

const runTask = (input: SystemTaskInput, workflowId = `test-${randomUUID()}`): Promise<SystemTaskOutcome> =>
  suite.env.client.workflow.execute(systemTask, { taskQueue: suite.taskQueue, workflowId, args: [input] });

async function configNamed(name: string) {
  const [config] = await suite.database.db.select().from(backupConfigs).where(eq(backupConfigs.name, name));
  return config!;
}

async function newConfig(fields: Partial<typeof backupConfigs.$inferInsert> = {}) {
  const [config] = await suite.database.db
    .insert(backupConfigs)
    .values({ name: `test-${randomUUID().slice(0, 8)}`, backupType: 'full', keepLast: 3, ...fields })
    .returning();
  return config!;
}

async function runRow(id: string) {
  const [row] = await suite.database.db.select().from(backupRuns).where(eq(backupRuns.id, id));
  return row!;
}

async function auditActions(backupRunId: string) {
  const rows = await suite.database.db
    .select()
    .from(auditTrail)
    .where(eq(auditTrail.entityId, backupRunId))
    .orderBy(auditTrail.id);
  return rows.map((row) => row.action);
}

const startBackup = (input: BackupInput, configName: string) =>
  suite.env.client.workflow.start(backup, {
    taskQueue: suite.taskQueue,
    workflowId: backupWorkflowId(configName),
    args: [input],
  });

test('a scheduled backup runs its configuration as a backup workflow: a dump, the storage and a manifest, verified by a restore', async () => {
  const storage = path.join(scratch, 'storage-scheduled');
  await mkdir(path.join(storage, 'sops'), { recursive: true });
  await writeFile(path.join(storage, 'sops', 'SOP-7.pdf'), 'controlled document body');
  await inWorker(
    async () => {
      // backup-weekly-export runs weekly-export, whose verify mode is "restore".
      const workflowId = `test-scheduled-backup-${randomUUID()}`;
      const outcome = await runTask(
        { taskName: 'run_scheduled_backup', scheduleId: 'backup-weekly-export', options: { backupType: 'export' } },
        workflowId,
      );
      await recordHistories(suite.env, { 'system-task-backup-child-workflow': workflowId });
      const result = outcome.result as unknown as BackupOutcome & { skipped: boolean };
      expect(result).toMatchObject({ skipped: false, config: 'weekly-export', type: 'export' });
      expect(result.path).toMatch(/\/backups\/export\/backup_\d{8}T\d{6}Z\.tar\.gz$/);
      expect(path.dirname(result.path)).toBe(path.join(TEST_BACKUP_DIR, 'backups', 'export'));
      expect((await readdir(path.dirname(result.path))).filter((name) => name.startsWith('.'))).toEqual([]);
      expect(result.verification).toMatchObject({
        mode: 'restore',
        checksums_ok: true,
        files_checked: 2,
        restore_verified: true,
        mismatched_tables: [],
      });
      expect(result.verification.tables_compared).toBe(Object.keys(result.row_counts).length);
      // The scratch database of the restore check is gone.
      const [leftover] = await suite.database.sql`select datname from pg_database where datname like 'edms_verify_%'`;
      expect(leftover).toBeUndefined();

      const unpacked = await mkdtemp(path.join(scratch, 'unpacked-'));
      await tar.extract({ file: result.path, cwd: unpacked });
      const manifest = JSON.parse(await readFile(path.join(unpacked, 'manifest.json'), 'utf8'));
      expect(manifest).toMatchObject({
        backup_type: 'export',
        config: 'weekly-export',
        backup_run_id: result.backup_run_id,
        app_version: expect.any(String),
        postgresql_server_version: expect.stringMatching(/^\d+/),
        pg_dump_version: expect.stringContaining('pg_dump'),
        row_counts: result.row_counts,
      });
      for (const file of manifest.files as { name: string; sha256: string; size_bytes: number }[]) {
        const bytes = await readFile(path.join(unpacked, file.name));
        expect(bytes.length).toBe(file.size_bytes);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
      }
      const stored = path.join(unpacked, 'stored');
      await mkdir(stored);
      await tar.extract({ file: path.join(unpacked, 'storage.tar.gz'), cwd: stored });
      expect(await readFile(path.join(stored, 'sops', 'SOP-7.pdf'), 'utf8')).toBe('controlled document body');

      const run = await runRow(result.backup_run_id);
      expect(run).toMatchObject({
        executionId: outcome.executionId,
        configId: (await configNamed('weekly-export')).id,
        workflowId: 'backup-weekly-export',
        triggeredBy: 'system_scheduler',
        status: 'succeeded',
        path: result.path,
        sha256: result.sha256,
        sizeBytes: result.size_bytes,
        error: null,
      });
      expect(await auditActions(run.id)).toEqual(['BACKUP_STARTED', 'BACKUP_COMPLETED']);
      await expect(stat(path.join(TEST_BACKUP_DIR, 'backups', '.work', run.id))).rejects.toThrow();
    },
    { systemTasks: { storageDir: storage } },
  );
});

test('a failed step is recorded at once and retried; a second backup of the configuration meanwhile is skipped', async () => {
  const config = await newConfig();
  // The storage mount is not there yet: a plain file stands where the directory should be.
  const storage = path.join(scratch, 'storage-not-mounted');
  await writeFile(storage, 'not a directory');
  await inWorker(
    async () => {
      const backupRunId = randomUUID();
      const handle = await startBackup({ backupRunId, configId: config.id, triggeredBy: 'test' }, config.name);
      await waitFor(async () =>
        (await auditActions(backupRunId)).includes('BACKUP_ATTEMPT_FAILED') ? true : undefined,
      );
      const failing = await runRow(backupRunId);
      expect(failing).toMatchObject({ status: 'running', workflowId: backupWorkflowId(config.name) });
      expect(failing.error).toMatch(/^storage \(attempt 1\): /);

      const overlapping = await runTask({ taskName: 'run_scheduled_backup', options: { config: config.name } });
      expect(overlapping.result).toMatchObject({
        skipped: true,
        config: config.name,
        reason: expect.stringContaining('already running'),
      });

      await rm(storage);
      await mkdir(storage);
      await writeFile(path.join(storage, 'doc.txt'), 'mounted now');
      const outcome = await handle.result();
      await recordHistories(suite.env, { 'backup-step-retried': handle.workflowId });
      expect(outcome.backup_run_id).toBe(backupRunId);
      expect(await runRow(backupRunId)).toMatchObject({ status: 'succeeded', error: null, path: outcome.path });
      const actions = await auditActions(backupRunId);
      expect(actions[0]).toBe('BACKUP_STARTED');
      expect(actions.at(-1)).toBe('BACKUP_COMPLETED');
      expect(actions.filter((action) => action === 'BACKUP_ATTEMPT_FAILED').length).toBeGreaterThanOrEqual(1);
      const backupRuns = await suite.database.db
        .select()
        .from(schema.backupRuns)
        .where(eq(schema.backupRuns.configId, config.id));
      expect(backupRuns).toHaveLength(1);
    },
    { systemTasks: { storageDir: storage } },
  );
});

test('a backup without pg_dump fails at once with an error naming what to install, and alerts the admins once', async () => {
  const admin = await seedUser(suite.database, 'admin');
  await inWorker(
    async () => {
      const failed = runTask({ taskName: 'run_scheduled_backup', options: { config: 'on-demand-full' } });
      await expect(failed).rejects.toThrow(WorkflowFailedError);
      const [execution] = await suite.database.db
        .select()
        .from(schema.taskExecutions)
        .where(eq(schema.taskExecutions.taskName, 'run_scheduled_backup'))
        .orderBy(schema.taskExecutions.startedAt);
      const executions = await suite.database.db
        .select()
        .from(schema.taskExecutions)
        .where(
          and(eq(schema.taskExecutions.taskName, 'run_scheduled_backup'), eq(schema.taskExecutions.status, 'failed')),
        )
        .orderBy(schema.taskExecutions.startedAt);
      expect(execution).toBeDefined();
      const last = executions.at(-1)!;
      expect(last.error).toContain('install the PostgreSQL client tools (Debian: postgresql-client)');

      const [run] = await suite.database.db.select().from(backupRuns).where(eq(backupRuns.executionId, last.id));
      expect(run).toMatchObject({ status: 'failed', backupType: 'full', path: null });
      expect(run!.error).toContain('postgresql-client');
      // Non-retryable: one attempt, recorded, then the run's failure.
      expect(await auditActions(run!.id)).toEqual(['BACKUP_STARTED', 'BACKUP_ATTEMPT_FAILED', 'BACKUP_FAILED']);
      await deliveriesSettled(suite.env);
      const alerts = (await testMailSink()).messages.filter(
        (mail) => mail.to.includes(admin.email) && mail.subject.startsWith('[EDMS] Backup failed: full backup'),
      );
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.text).toContain('postgresql-client');
    },
    { systemTasks: { pgBinDir: '/nonexistent/bin' } },
  );
});

/** A finished backup run with an archive file, as if made `daysAgo`. */
async function pastArchive(configId: string, directory: string, daysAgo: number) {
  const startedAt = new Date(Date.now() - daysAgo * DAY);
  const file = path.join(directory, `backup_${startedAt.getTime()}.tar.gz`);
  await writeFile(file, 'archive');
  const [run] = await suite.database.db
    .insert(backupRuns)
    .values({ configId, backupType: 'full', status: 'succeeded', startedAt, finishedAt: startedAt, path: file })
    .returning();
  return run!;
}

test('retention keeps exactly what each configuration says, never its newest archive; the dry run deletes nothing', async () => {
  const directory = path.join(TEST_BACKUP_DIR, 'retention');
  await mkdir(directory, { recursive: true });
  const byCount = await newConfig({ keepLast: 2, maxAgeDays: null });
  const counted: Awaited<ReturnType<typeof pastArchive>>[] = [];
  for (const daysAgo of [5, 4, 3, 2, 1]) counted.push(await pastArchive(byCount.id, directory, daysAgo));
  const byAge = await newConfig({ keepLast: null, maxAgeDays: 10 });
  const [ancient, old] = [await pastArchive(byAge.id, directory, 40), await pastArchive(byAge.id, directory, 20)];
  const allOld = await newConfig({ keepLast: 5, maxAgeDays: 7 });
  const onlyOld = await pastArchive(allOld.id, directory, 30);
  const expected = [
    ...counted
      .slice(0, 3)
      .reverse()
      .map((run) => ({ config: byCount.name, backup_id: run.id, reason: 'keep_last' })),
    { config: byAge.name, backup_id: ancient.id, reason: 'max_age' },
  ];

  // What killed backups leave: the scratch files of a run that ended, and of one open for hours.
  const workRoot = path.join(TEST_BACKUP_DIR, 'backups', '.work');
  const endedRun = randomUUID();
  const openRun = await pastArchive(allOld.id, directory, 0);
  await suite.database.db
    .update(backupRuns)
    .set({ status: 'running', path: null })
    .where(eq(backupRuns.id, openRun.id));
  await mkdir(path.join(workRoot, endedRun), { recursive: true });
  await mkdir(path.join(workRoot, openRun.id), { recursive: true });
  const freshPartial = path.join(TEST_BACKUP_DIR, 'backups', 'full', `.backup_${openRun.id}.tar.gz.partial`);
  await mkdir(path.dirname(freshPartial), { recursive: true });
  await writeFile(freshPartial, 'half');

  await inWorker(async () => {
    const dry = await runTask({ taskName: 'cleanup_old_backups', dryRun: true });
    const wouldDelete = (dry.result.would_delete as { config: string }[]).filter((item) =>
      [byCount.name, byAge.name, allOld.name].includes(item.config),
    );
    // Configurations are visited by name; within one, newest first.
    expect(wouldDelete).toHaveLength(expected.length);
    expect(wouldDelete).toEqual(expect.arrayContaining(expected.map((item) => expect.objectContaining(item))));
    const ofCounted = wouldDelete.filter((item) => item.config === byCount.name);
    expect(ofCounted).toEqual(expected.slice(0, 3).map((item) => expect.objectContaining(item)));
    expect(dry.result.would_remove_leftovers).toEqual(expect.arrayContaining([`backups/.work/${endedRun}`]));
    expect(dry.result.would_remove_leftovers).not.toEqual(expect.arrayContaining([`backups/.work/${openRun.id}`]));
    for (const run of [...counted, ancient]) await expect(stat(run.path!)).resolves.toBeTruthy();

    const real = await runTask({ taskName: 'cleanup_old_backups' });
    expect(real.result.retention).toMatchObject({
      [byCount.name]: { keep_last: 2, max_age_days: null, expired: 3 },
      [byAge.name]: { keep_last: null, max_age_days: 10, expired: 1 },
      [allOld.name]: { keep_last: 5, max_age_days: 7, expired: 0 },
    });
    for (const run of [...counted.slice(0, 3), ancient]) {
      await expect(stat(run.path!)).rejects.toThrow();
      expect((await runRow(run.id)).deletedAt).not.toBeNull();
      expect(await auditActions(run.id)).toEqual(['BACKUP_DELETED']);
    }
    for (const run of [...counted.slice(3), old, onlyOld]) {
      await expect(stat(run.path!)).resolves.toBeTruthy();
      expect((await runRow(run.id)).deletedAt).toBeNull();
    }
    await expect(stat(path.join(workRoot, endedRun))).rejects.toThrow();
    await expect(stat(path.join(workRoot, openRun.id))).resolves.toBeTruthy();
    await expect(stat(freshPartial)).resolves.toBeTruthy();

    // Open for longer than any backup takes: its run was terminated and will never clean up.
    const longAgo = new Date(Date.now() - 7 * HOUR);
    await utimes(freshPartial, longAgo, longAgo);
    const later = await runTask({ taskName: 'cleanup_old_backups' });
    expect(later.result.removed_leftovers).toEqual(
      expect.arrayContaining([`backups/full/.backup_${openRun.id}.tar.gz.partial`]),
    );
    expect(later.result.deleted).toEqual([]);
  });
});

test('a backup killed mid-way leaves no complete-looking archive, and the next one succeeds', async () => {
  const config = await newConfig({ destination: 'killed-test' });
  const destination = path.join(TEST_BACKUP_DIR, 'killed-test');
  const storage = path.join(scratch, 'storage-large');
  await mkdir(storage, { recursive: true });
  // Incompressible, so packing takes long enough to be caught in the act.
  for (let part = 0; part < 4; part++) await writeFile(path.join(storage, `scan-${part}.bin`), randomBytes(32 << 20));

  const killedRun = randomUUID();
  const child = spawn(
    process.execPath,
    [
      ...tsxNodeArgs(path.join(PROJECT_ROOT, 'test', 'helpers', 'backup-in-process.ts')),
      testDatabaseUrl(),
      TEST_BACKUP_DIR,
      storage,
      config.id,
      killedRun,
    ],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const partial = path.join(destination, `.backup_${killedRun}.tar.gz.partial`);
  await waitFor(async () => ((await stat(partial).catch(() => undefined))?.size ? true : undefined), 90_000, 10);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const names = await readdir(destination);
  expect(names.filter((name) => /^backup_.*\.tar\.gz$/.test(name))).toEqual([]);
  expect(names).toContain(`.backup_${killedRun}.tar.gz.partial`);
  expect(await runRow(killedRun)).toMatchObject({ status: 'running', path: null });

  await inWorker(
    async () => {
      const next = await startBackup(
        { backupRunId: randomUUID(), configId: config.id, triggeredBy: 'test' },
        config.name,
      );
      const outcome = await next.result();
      expect(path.dirname(outcome.path)).toBe(destination);
      expect(outcome.verification).toMatchObject({ checksums_ok: true, files_checked: 2 });
      expect((await readdir(destination)).filter((name) => /^backup_.*\.tar\.gz$/.test(name))).toEqual([
        path.basename(outcome.path),
      ]);
    },
    { systemTasks: { storageDir: storage } },
  );
  await rm(storage, { recursive: true, force: true });
});

test('monitoring warns after 30 hours without a successful backup and is critical after 48', async () => {
  // A database of its own: the alerts depend on every backup run there is.
  const name = `edms_monitoring_${Date.now()}`;
  const admin = postgres(testDatabaseUrl(), { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  await runMigrations(url.toString());
  const fresh = connectDatabase(url.toString());
  try {
    const status = () =>
      monitoringStatus({
        db: fresh.db,
        sql: fresh.sql,
        temporal: suite.env.client,
        probe: suite.env.connection,
        latenessSlaSeconds: 60,
        namespace: suite.env.namespace ?? 'default',
        temporalAddress: suite.env.address,
      });
    const backupAlerts = async () =>
      (await status()).alerts
        .filter((alert) => /backup/.test(alert.code))
        .map((alert) => `${alert.severity}:${alert.code}`)
        .sort();
    expect(await backupAlerts()).toEqual(['critical:no_recent_backup']);

    const finishedHoursAgo = async (hours: number, status: 'succeeded' | 'failed' = 'succeeded') => {
      const at = new Date(Date.now() - hours * HOUR);
      await fresh.db.insert(backupRuns).values({ backupType: 'full', status, startedAt: at, finishedAt: at });
    };
    await finishedHoursAgo(49);
    expect(await backupAlerts()).toEqual(['critical:no_recent_backup']);
    await finishedHoursAgo(31);
    expect(await backupAlerts()).toEqual(['warning:backup_overdue']);
    expect((await status()).task_statistics).toMatchObject({ last_successful_backup_hours_ago: 31 });
    await finishedHoursAgo(29);
    expect(await backupAlerts()).toEqual([]);
    await finishedHoursAgo(2, 'failed');
    expect(await backupAlerts()).toEqual(['critical:backup_failed']);
    await fresh.db.update(backupConfigs).set({ enabled: false });
    expect(await backupAlerts()).toEqual(['critical:backup_failed', 'warning:no_backup_config']);
    const [ourRuns] = await fresh.sql<{ n: number }[]>`select count(*)::int as n from backup_runs`;
    expect(ourRuns!.n).toBe(4);
  } finally {
    await fresh.close();
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
});

test('the on-demand configuration is skipped when disabled', async () => {
  const config = await newConfig({ enabled: false });
  await inWorker(async () => {
    const outcome = await runTask({ taskName: 'run_scheduled_backup', options: { config: config.name } });
    expect(outcome.result).toMatchObject({ skipped: true, reason: expect.stringContaining('disabled') });
    const runs = await suite.database.db
      .select()
      .from(backupRuns)
      .where(like(backupRuns.workflowId, `%${config.name}`));
    expect(runs).toEqual([]);
  });
});
