import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import postgres from 'postgres';
import * as tar from 'tar';
import { createBackupTasks } from '../activities/system-tasks/backups';
import { defaultSystemTaskSettings } from '../activities/system-tasks';
import { eq } from 'drizzle-orm';
import { connectDatabase, runMigrations, schema, type DatabaseHandle } from '../db';
import { restoreArchive } from '../backups/restore';
import { tsxNodeArgs } from '../launcher/managed-process';
import { PROJECT_ROOT } from '../lib/paths';
import { seedDocument } from './helpers/documents';
import { testDatabaseUrl } from './helpers/resources';

const run = promisify(execFile);

let database: DatabaseHandle;
let workDir: string;
let restoredUrl: string;
let maintenance: postgres.Sql;
const restoredName = `edms_restore_${Date.now()}`;
const extraDatabases: string[] = [];
const openHandles: DatabaseHandle[] = [];

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
  for (const handle of openHandles) await handle.close();
  for (const name of extraDatabases) await maintenance?.unsafe(`drop database if exists "${name}" with (force)`);
  await maintenance?.unsafe(`drop database if exists "${restoredName}" with (force)`);
  await maintenance?.end();
  await rm(workDir, { recursive: true, force: true });
});

/** A backup of a database (the test database unless told) made by the real activity, as a schedule would. */
async function backUp(
  storageDir: string,
  target: { database: DatabaseHandle; url: string; backupDir: string } = {
    database,
    url: testDatabaseUrl(),
    backupDir: workDir,
  },
): Promise<{ archive: string; executionId: string; runId: string }> {
  const executionId = randomUUID();
  await target.database.db.insert(schema.taskExecutions).values({
    id: executionId,
    taskName: 'run_scheduled_backup',
    workflowId: `backup-${executionId}`,
    runId: executionId,
    trigger: 'manual',
    triggeredBy: 'test',
  });
  const tasks = createBackupTasks({
    database: target.database,
    // A successful backup sends no email.
    dispatchNotifications: async (keys) => {
      if (keys.length > 0) throw new Error(`unexpected emails ${keys.join(', ')}`);
    },
    settings: defaultSystemTaskSettings(storageDir, target.url, target.backupDir),
  });
  const result = (await new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(
    tasks.runScheduledBackup,
    { executionId, dryRun: false, options: { backupType: 'full' as const } },
  )) as { path: string };
  const [run] = await target.database.db
    .select({ id: schema.backupRuns.id })
    .from(schema.backupRuns)
    .where(eq(schema.backupRuns.executionId, executionId));
  return { archive: result.path, executionId, runId: run!.id };
}

/** A database of its own with the migrations applied, for a test that restores over it. */
async function freshDatabase(label: string): Promise<{ url: string; database: DatabaseHandle }> {
  const name = `edms_${label}_${Date.now()}`;
  await maintenance.unsafe(`create database "${name}"`);
  extraDatabases.push(name);
  const url = new URL(testDatabaseUrl());
  url.pathname = `/${name}`;
  await runMigrations(url.toString());
  const handle = connectDatabase(url.toString());
  openHandles.push(handle);
  return { url: url.toString(), database: handle };
}

/** `npm run restore -- <archive> [--dry-run]`, as an operator runs it. */
function restoreCli(args: string[], env: Record<string, string>) {
  return run(process.execPath, [...tsxNodeArgs(path.join(PROJECT_ROOT, 'backups', 'restore-cli.ts')), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
  });
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
      // A restore ends every session (users' session_generation moves on); the rest is identical.
      const [row] = await sql<{ fingerprint: string; n: number }[]>`
        select md5(coalesce(string_agg(r, '|' order by r), '')) as fingerprint, count(*)::int as n
        from (select (to_jsonb(t) - 'session_generation')::text as r from ${sql(table_name)} t ${filter}) rows`;
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
  const refused = run(
    process.execPath,
    [...tsxNodeArgs(path.join(PROJECT_ROOT, 'backups', 'restore-cli.ts')), corrupt],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: restoredUrl, EDMS_STORAGE_DIR: restoredStorage },
    },
  );
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

interface AuditEntry {
  id: number;
  action: string;
  entity_id: string | null;
  occurred_at: Date;
  details: Record<string, unknown>;
}

const auditOf = (handle: DatabaseHandle) =>
  handle.sql<AuditEntry[]>`select id::int as id, action, entity_id, occurred_at, details from audit_trail order by id`;

test('a restore of an earlier backup keeps every later audit entry and both catalogue entries, and audits the point it returned to', async () => {
  const { url, database: story } = await freshDatabase('story');
  const backupDir = path.join(workDir, 'story-backups');
  const storageDir = path.join(workDir, 'story-storage');
  await mkdir(storageDir, { recursive: true });
  await writeFile(path.join(storageDir, 'SOP-007.pdf'), 'the SOP as it was at backup A');
  const target = { database: story, url, backupDir };

  const a = await backUp(storageDir, target);
  const document = await seedDocument(story, { reviewers: 1, approvers: 1 });
  await writeFile(path.join(storageDir, 'SOP-007.pdf'), 'the SOP as changed after A');
  const b = await backUp(storageDir, target);
  // An archive copied in by hand (another machine's, say): on disk, listed by no run.
  const copied = path.join(backupDir, 'backups', 'full', 'backup_20990101T000000Z.tar.gz');
  await copyFile(b.archive, copied);
  // Sessions ended after A (logouts, password changes) must not come back with A's users.
  await story.sql`update users set session_generation = session_generation + 3`;
  const [sessions] = await story.sql<{ highest: number }[]>`select max(session_generation)::int as highest from users`;
  const before = await auditOf(story);
  const runsBefore = await story.db.select().from(schema.backupRuns).orderBy(schema.backupRuns.startedAt);
  expect(runsBefore.map((r) => [r.id, r.status])).toEqual([
    [a.runId, 'succeeded'],
    [b.runId, 'succeeded'],
  ]);
  const aCompleted = before.find((e) => e.action === 'BACKUP_COMPLETED' && e.entity_id === a.runId)!;
  const aStarted = before.find((e) => e.action === 'BACKUP_STARTED' && e.entity_id === a.runId)!;

  const report = await restoreArchive({
    archive: a.archive,
    databaseUrl: url,
    storageDir,
    backupDir,
    actor: 'quality.admin',
    backupId: a.runId,
  });

  // The point: backup A, whose dump saw its own start but not its completion.
  expect(report.point.backup_id).toBe(a.runId);
  expect(report.point.highest_audit_id).toBeGreaterThanOrEqual(aStarted.id);
  expect(report.point.highest_audit_id).toBeLessThan(aCompleted.id);
  const later = before.filter((e) => e.id > report.point.highest_audit_id);
  expect(later.map((e) => [e.action, e.entity_id])).toEqual(
    expect.arrayContaining([
      ['BACKUP_COMPLETED', a.runId],
      ['DOCUMENT_CREATED', document.id],
      ['BACKUP_STARTED', b.runId],
      ['BACKUP_COMPLETED', b.runId],
    ]),
  );
  expect(report.superseded).toEqual({
    audit_entries: later.length,
    first_audit_id: later[0]!.id,
    last_audit_id: later.at(-1)!.id,
    backup_runs_brought_back: [b.runId],
    backup_runs_updated: [a.runId],
    archives_catalogued: [copied],
  });
  expect(report.mismatched_tables).toEqual([]);

  // Every entry is there with its id, time and details, then the restore's own entry.
  const after = await auditOf(story);
  expect(after.slice(0, -1)).toEqual(before);
  const restored = after.at(-1)!;
  expect(restored).toMatchObject({ id: report.audit_entry_id, action: 'BACKUP_RESTORED', entity_id: a.runId });
  expect(restored.details).toMatchObject({
    archive: a.archive,
    point: { backup_id: a.runId, highest_audit_id: report.point.highest_audit_id },
    superseded: { audit_entries: later.length, first_audit_id: later[0]!.id, last_audit_id: later.at(-1)!.id },
  });
  // The identity sequence has moved past the re-appended ids.
  await story.sql`insert into audit_trail (action, actor, entity_type) values ('USER_LOGIN', 'someone', 'user')`;
  const [next] = await story.sql<{ id: number }[]>`select max(id)::int as id from audit_trail`;
  expect(next!.id).toBe(restored.id + 1);

  // The catalogue: both runs with their true status and archive, the copy listed too; all restorable.
  const runsAfter = await story.db.select().from(schema.backupRuns).orderBy(schema.backupRuns.path);
  expect(runsAfter.map((r) => [r.id, r.status, r.path, r.deletedAt])).toEqual([
    [a.runId, 'succeeded', a.archive, null],
    [b.runId, 'succeeded', b.archive, null],
    [expect.any(String), 'succeeded', copied, null],
  ]);
  expect(runsAfter[0]).toEqual(runsBefore[0]);
  expect(runsAfter[1]).toEqual(runsBefore[1]);
  expect(runsAfter[2]!.sha256).toBe(runsBefore[1]!.sha256);

  // The data itself is A's: the document made after it is gone, the stored file is A's.
  expect(await story.sql`select id from documents where id = ${document.id}`).toEqual([]);
  expect(await readFile(path.join(storageDir, 'SOP-007.pdf'), 'utf8')).toBe('the SOP as it was at backup A');

  // B, restored now, brings the document back and still loses nothing.
  const again = await restoreArchive({ archive: b.archive, databaseUrl: url, storageDir, backupDir, actor: 'qa' });
  // B's users are back, but every token they held before (generation up to the highest) has ended.
  const [afterRestore] = await story.sql<
    { lowest: number; count: number }[]
  >`select min(session_generation)::int as lowest, count(*)::int as count from users`;
  expect(afterRestore!.count).toBeGreaterThan(0);
  expect(afterRestore!.lowest).toBeGreaterThan(sessions!.highest);
  expect(again.superseded.audit_entries).toBeGreaterThanOrEqual(3);
  expect(again.superseded.archives_catalogued).toEqual([]);
  expect(await story.sql`select id from documents where id = ${document.id}`).toHaveLength(1);
  expect((await auditOf(story)).slice(0, after.length + 1).map((e) => e.id)).toEqual([
    ...after.map((e) => e.id),
    restored.id + 1,
  ]);
});

test('npm run restore: a role granted in the backup and dropped since does not stop it; the dry run predicts the real run, names extra objects and refuses what would fail', async () => {
  const { url, database: db } = await freshDatabase('roles');
  const backupDir = path.join(workDir, 'roles-backups');
  const storageDir = path.join(workDir, 'roles-storage');
  await mkdir(storageDir, { recursive: true });
  const reader = `edms_reporting_${Date.now()}`;
  await db.sql.unsafe(`create role "${reader}"`);
  await db.sql.unsafe(`grant select on documents, audit_trail to "${reader}"`);
  const document = await seedDocument(db, { reviewers: 1, approvers: 1 });
  const { archive, runId } = await backUp(storageDir, { database: db, url, backupDir });
  await db.sql.unsafe(`revoke all on documents, audit_trail from "${reader}"`);
  await db.sql.unsafe(`drop role "${reader}"`);
  // Objects of this environment that the archive does not have: a table left alone, and a view on a
  // restored table that would stop the restore.
  await db.sql`create table legacy_notes (note text)`;
  await db.sql`insert into legacy_notes values ('kept by the site')`;
  await db.sql`create view legacy_open_documents as select id from documents`;
  const env = { DATABASE_URL: url, EDMS_STORAGE_DIR: storageDir, EDMS_BACKUP_DIR: backupDir };
  const auditBefore = await auditOf(db);

  const refusedDry = restoreCli([archive, '--dry-run'], env);
  await expect(refusedDry).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringMatching(
      /restore rolled back, nothing changed: .*cannot drop table public\.documents because other objects depend on it.*view public\.legacy_open_documents depends on table public\.documents/,
    ),
  });
  // The real run fails in the same place, and changes nothing either.
  await expect(restoreCli([archive], env)).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('view public.legacy_open_documents depends on table public.documents'),
  });
  expect(await auditOf(db)).toEqual(auditBefore);

  await db.sql`drop view legacy_open_documents`;
  await db.sql`update documents set title = 'retitled after the backup' where id = ${document.id}`;
  const dry = await restoreCli([archive, '--dry-run'], env);
  const predicted = JSON.parse(dry.stdout);
  expect(predicted).toMatchObject({
    dry_run: true,
    mismatched_tables: [],
    extra_objects: ['table public.legacy_notes'],
    restore_options: expect.arrayContaining(['--no-owner', '--no-privileges']),
    audit_entry_id: null,
  });
  expect(await auditOf(db)).toEqual(auditBefore);

  const real = await restoreCli([archive], env);
  const report = JSON.parse(real.stdout);
  // The dry run said what the real one did.
  expect({ ...report, dry_run: true, audit_entry_id: null }).toEqual(predicted);
  expect(report.superseded).toMatchObject({ audit_entries: predicted.superseded.audit_entries });
  expect(await db.sql`select title from documents where id = ${document.id}`).toEqual([
    { title: expect.stringMatching(/^SOP/) },
  ]);
  expect(await db.sql`select note from legacy_notes`).toEqual([{ note: 'kept by the site' }]);
  // The grant to the role that no longer exists was not restored; the tables belong to this environment.
  const acl = await db.sql<{ relname: string; acl: string | null }[]>`
    select relname, relacl::text as acl from pg_class where relname in ('documents', 'audit_trail') order by relname`;
  expect(acl).toEqual([
    { relname: 'audit_trail', acl: null },
    { relname: 'documents', acl: null },
  ]);
  const [entry] = await db.sql<AuditEntry[]>`
    select id::int as id, action, entity_id, occurred_at, details from audit_trail where action = 'BACKUP_RESTORED'`;
  expect(entry).toMatchObject({
    id: report.audit_entry_id,
    entity_id: runId,
    details: { archive, extra_objects: ['table public.legacy_notes'], point: { backup_id: runId } },
  });
  expect(entry!.details.superseded).toEqual(report.superseded);
  const [actor] = await db.sql<{ actor: string }[]>`select actor from audit_trail where id = ${entry!.id}`;
  expect(actor!.actor).toMatch(/^cli:/);
  const [ownRun] = await db.db.select().from(schema.backupRuns).where(eq(schema.backupRuns.id, runId));
  expect(ownRun).toMatchObject({ status: 'succeeded', path: archive });
});
