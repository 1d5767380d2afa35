import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import postgres from 'postgres';
import * as tar from 'tar';
import { createBackupTasks } from '../activities/system-tasks/backups';
import { defaultSystemTaskSettings } from '../activities/system-tasks';
import { connectDatabase, schema, type DatabaseHandle } from '../db';
import { restoreArchive } from '../lib/backup-restore';
import { tsxNodeArgs } from '../lib/managed-process';
import { PROJECT_ROOT } from '../lib/paths';
import { seedDocument } from './helpers/documents';
import { testDatabaseUrl } from './helpers/resources';

const run = promisify(execFile);

let database: DatabaseHandle;
let workDir: string;
let restoredUrl: string;
let maintenance: postgres.Sql;
const restoredName = `edms_restore_${Date.now()}`;

beforeAll(async () => {
  database = connectDatabase(testDatabaseUrl());
  workDir = await mkdtemp(path.join(os.tmpdir(), 'edms-restore-test-'));
  const maintenanceUrl = new URL(testDatabaseUrl());
  maintenanceUrl.pathname = '/postgres';
  maintenance = postgres(maintenanceUrl.toString(), { max: 1, onnotice: () => undefined });
  await maintenance.unsafe(`create database "${restoredName}"`);
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${restoredName}`;
  restoredUrl = url.toString();
});
afterAll(async () => {
  await database?.close();
  await maintenance?.unsafe(`drop database if exists "${restoredName}" with (force)`);
  await maintenance?.end();
  await rm(workDir, { recursive: true, force: true });
});

/** A backup of the test database made by the real activity, as a schedule would. */
async function backUp(storageDir: string): Promise<{ archive: string; executionId: string }> {
  const executionId = randomUUID();
  await database.db.insert(schema.taskExecutions).values({
    id: executionId,
    taskName: 'run_scheduled_backup',
    workflowId: `backup-${executionId}`,
    runId: executionId,
    trigger: 'manual',
    triggeredBy: 'test',
  });
  const tasks = createBackupTasks({
    database,
    // A successful backup sends no email.
    dispatchNotifications: async (keys) => {
      if (keys.length > 0) throw new Error(`unexpected emails ${keys.join(', ')}`);
    },
    settings: defaultSystemTaskSettings(storageDir, testDatabaseUrl(), workDir),
  });
  const result = (await new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
    tasks.runScheduledBackup,
    { executionId, dryRun: false, options: { backupType: 'full' as const } },
  )) as { path: string };
  return { archive: result.path, executionId };
}

/**
 * Every public table's rows, as one fingerprint per table. A backup records its own completion after
 * the dump (its run row and audit entry), and a restore audits itself: those rows are left out.
 */
async function fingerprints(url: string, backupExecutionId = ''): Promise<Record<string, string>> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
    const result: Record<string, string> = {};
    for (const { table_name } of tables) {
      const filter =
        table_name === 'audit_trail'
          ? sql`where action not in ('BACKUP_RESTORED', 'BACKUP_COMPLETED')`
          : table_name === 'backup_runs'
            ? sql`where execution_id::text <> ${backupExecutionId}`
            : sql``;
      const [row] = await sql<{ fingerprint: string; n: number }[]>`
        select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as fingerprint, count(*)::int as n
        from ${sql(table_name)} t ${filter}`;
      result[table_name] = `${row!.n}:${row!.fingerprint}`;
    }
    return result;
  } finally {
    await sql.end();
  }
}

test('a backup restores into a fresh database with every table identical; a corrupt copy is refused first', async () => {
  await seedDocument(database, { reviewers: 2, approvers: 1 });
  const storageDir = path.join(workDir, 'storage');
  await mkdir(path.join(storageDir, 'sops'), { recursive: true });
  await writeFile(path.join(storageDir, 'sops', 'SOP-001.pdf'), 'version 3 of the cleaning SOP');
  const { archive, executionId } = await backUp(storageDir);
  const source = await fingerprints(testDatabaseUrl(), executionId);

  // A copy with one byte changed inside the dump is refused, and the target is left untouched.
  const unpacked = path.join(workDir, 'unpacked');
  await mkdir(unpacked);
  await tar.extract({ file: archive, cwd: unpacked });
  const dump = await readFile(path.join(unpacked, 'database.dump'));
  dump[Math.floor(dump.length / 2)] = dump[Math.floor(dump.length / 2)]! ^ 0x01;
  await writeFile(path.join(unpacked, 'database.dump'), dump);
  const corrupt = path.join(workDir, 'corrupt.tar.gz');
  await tar.create({ gzip: true, file: corrupt, cwd: unpacked }, ['manifest.json', 'database.dump', 'storage.tar.gz']);
  const restoredStorage = path.join(workDir, 'restored-storage');
  const refused = run(process.execPath, [...tsxNodeArgs(path.join(PROJECT_ROOT, 'db', 'restore-cli.ts')), corrupt], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: restoredUrl, EDMS_STORAGE_DIR: restoredStorage },
  });
  await expect(refused).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('database.dump does not match its checksum'),
  });
  expect(await fingerprints(restoredUrl)).toEqual({});
  await expect(readdir(restoredStorage)).rejects.toThrow();

  // A dry run says what it would restore and changes nothing.
  const preview = await restoreArchive({
    archive,
    databaseUrl: restoredUrl,
    storageDir: restoredStorage,
    actor: 'test',
    dryRun: true,
  });
  expect(preview).toMatchObject({ dry_run: true, backup_type: 'full', verification: { checksums_ok: true } });
  expect(preview.tables.documents!.expected).toBeGreaterThanOrEqual(1);
  expect(preview.storage_entries).toBeGreaterThanOrEqual(2);
  expect(await fingerprints(restoredUrl)).toEqual({});

  const report = await restoreArchive({
    archive,
    databaseUrl: restoredUrl,
    storageDir: restoredStorage,
    actor: 'test',
  });
  expect(report.mismatched_tables).toEqual([]);
  expect(await fingerprints(restoredUrl, executionId)).toEqual(source);
  expect(await readFile(path.join(restoredStorage, 'sops', 'SOP-001.pdf'), 'utf8')).toBe(
    'version 3 of the cleaning SOP',
  );
  const restored = connectDatabase(restoredUrl);
  const audit = await restored.sql<{ actor: string }[]>`select actor from audit_trail where action = 'BACKUP_RESTORED'`;
  await restored.close();
  expect(audit).toEqual([{ actor: 'test' }]);
});
