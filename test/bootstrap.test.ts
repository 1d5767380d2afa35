import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ensureInitialAdmin, resolveJwtSecret } from '../api/bootstrap';
import { connectDatabase, runMigrations, type DatabaseHandle } from '../db';
import { verifyPassword } from '../lib/passwords';
import { testDatabaseUrl } from './helpers/resources';

/** The bootstrap acts only on an empty user table, so these tests get a database of their own. */
let scratch: { url: string; drop: () => Promise<void> };
let database: DatabaseHandle;
let dataDir: string;

beforeAll(async () => {
  const base = new URL(testDatabaseUrl());
  const name = `${base.pathname.slice(1)}_bootstrap`;
  const maintenance = connectDatabase(testDatabaseUrl(), { max: 1 });
  await maintenance.sql.unsafe(`create database "${name}"`);
  base.pathname = `/${name}`;
  scratch = {
    url: base.toString(),
    drop: async () => {
      await maintenance.sql.unsafe(`drop database if exists "${name}" with (force)`);
      await maintenance.close();
    },
  };
  await runMigrations(scratch.url);
  database = connectDatabase(scratch.url);
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'edms-bootstrap-'));
});

afterAll(async () => {
  await database.close();
  await scratch.drop();
  await rm(dataDir, { recursive: true, force: true });
});

const silent = pino({ level: 'silent' });

test('migrations are idempotent: running them again changes nothing', async () => {
  await expect(runMigrations(scratch.url)).resolves.toBeUndefined();
  const tables = await database.sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
  expect(tables.map((t) => t.table_name)).toEqual([
    'audit_trail',
    'backup_configs',
    'backup_runs',
    'document_assignees',
    'document_transitions',
    'documents',
    'notification_outbox',
    'rate_limit_counters',
    'review_tasks',
    'scheduler_job_executions',
    'scheduler_job_run_slots',
    'scheduler_jobs',
    'system_health_checks',
    'task_executions',
    'timed_event_lateness',
    'users',
    'worker_heartbeats',
  ]);
});

test('the first start creates admin with a generated password, shown once and stored with mode 600', async () => {
  await ensureInitialAdmin(database.db, { adminPassword: undefined, dataDir }, silent);
  const file = path.join(dataDir, 'admin-password');
  const password = (await readFile(file, 'utf8')).trim();
  expect(password.length).toBeGreaterThanOrEqual(20);
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  const [admin] = await database.sql<
    { role: string; password_hash: string }[]
  >`select role, password_hash from users where username = 'admin'`;
  expect(admin?.role).toBe('admin');
  expect(await verifyPassword(admin?.password_hash ?? '', password)).toBe(true);
  const [audit] = await database.sql<{ action: string; actor: string }[]>`select action, actor from audit_trail`;
  expect(audit).toEqual({ action: 'USER_CREATED', actor: 'system' });
});

test('later starts leave users and the stored password alone, even with EDMS_ADMIN_PASSWORD set', async () => {
  const before = await readFile(path.join(dataDir, 'admin-password'), 'utf8');
  await ensureInitialAdmin(database.db, { adminPassword: 'another-password-123', dataDir }, silent);
  const [{ count } = { count: 0 }] = await database.sql<{ count: number }[]>`select count(*)::int as count from users`;
  expect(count).toBe(1);
  expect(await readFile(path.join(dataDir, 'admin-password'), 'utf8')).toBe(before);
});

test('the JWT secret is EDMS_JWT_SECRET, or generated once and kept across restarts', async () => {
  const configured = 'x'.repeat(40);
  expect(await resolveJwtSecret({ jwtSecret: configured, dataDir })).toBe(configured);
  const first = await resolveJwtSecret({ jwtSecret: undefined, dataDir });
  const second = await resolveJwtSecret({ jwtSecret: undefined, dataDir });
  expect(first.length).toBeGreaterThanOrEqual(48);
  expect(second).toBe(first);
  expect((await stat(path.join(dataDir, 'jwt-secret'))).mode & 0o777).toBe(0o600);
});
