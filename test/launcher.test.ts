import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { simpleParser } from 'mailparser';
import path from 'node:path';
import { tsxNodeArgs } from '../lib/managed-process';
import { PROJECT_ROOT } from '../lib/paths';
import { freePort } from './helpers/ports';
import { killAll, processesWithEnv } from './helpers/processes';
import { TEST_ENV } from './helpers/resources';

/**
 * The newcomer's path: `npm start` brings up Temporal, PostgreSQL, migrations, worker and API from
 * nothing; Ctrl-C stops all of it; the next start finds the data again.
 */
jest.setTimeout(600_000);

let workDir: string;
let dataDir: string;
let marker: string;
let ports: { api: number; temporal: number; ui: number; postgres: number; smtp: number };

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'edms-launcher-'));
  await chmod(workDir, 0o755);
  dataDir = path.join(workDir, '.data');
  marker = `EDMS_DATA_DIR=${dataDir}`;
  ports = {
    api: await freePort(),
    temporal: await freePort(),
    ui: await freePort(),
    postgres: await freePort(),
    smtp: await freePort(),
  };
});

afterAll(async () => {
  killAll(processesWithEnv(marker));
  await rm(workDir, { recursive: true, force: true });
});

interface Launched {
  child: ChildProcess;
  output: string[];
  exit: Promise<number | null>;
}

function launch(): Launched {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'EDMS_ADMIN_PASSWORD',
    'EDMS_JWT_SECRET',
    'PORT',
    'SMTP_URL',
  ]) {
    delete env[name];
  }
  Object.assign(env, {
    EDMS_DATA_DIR: dataDir,
    PORT: String(ports.api),
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_DEV_UI_PORT: String(ports.ui),
    EDMS_EMBEDDED_PG_PORT: String(ports.postgres),
    EDMS_SMTP_SINK_PORT: String(ports.smtp),
    LOG_FORMAT: 'json',
    WORKER_SHUTDOWN_GRACE_SECONDS: '5',
  });
  if (process.env[TEST_ENV.cli]) env.TEMPORAL_CLI_PATH = process.env[TEST_ENV.cli];
  // Started from an unrelated directory: nothing may depend on the caller's cwd.
  const child = spawn(process.execPath, tsxNodeArgs(path.join(PROJECT_ROOT, 'launcher', 'main.ts')), {
    cwd: workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exit };
}

const api = (route: string) => `http://127.0.0.1:${ports.api}${route}`;

async function waitForHealthy(launched: Launched): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if (launched.child.exitCode !== null) throw new Error(`launcher exited early:\n${launched.output.join('')}`);
    try {
      if ((await fetch(api('/health'))).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no healthy system within 240 s:\n${launched.output.join('').slice(-5000)}`);
}

async function login(username: string, password: string): Promise<string> {
  const response = await fetch(api('/api/v1/auth/login'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function stopWithCtrlC(launched: Launched): Promise<void> {
  const pids = processesWithEnv(marker);
  expect(pids.length).toBeGreaterThanOrEqual(5); // launcher, Temporal, PostgreSQL, worker, API
  launched.child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    launched.exit,
    new Promise((resolve) => (timer = setTimeout(resolve, 90_000, 'timeout'))),
  ]);
  clearTimeout(timer);
  expect(code).toBe(0);
  // Every process it started is gone, PostgreSQL backends and the Temporal server included.
  let left = processesWithEnv(marker);
  for (let attempt = 0; attempt < 20 && left.length > 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    left = processesWithEnv(marker);
  }
  expect(left).toEqual([]);
}

async function postJson(route: string, token: string, body: unknown): Promise<Response> {
  return fetch(api(route), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

/** A submitted document's reviewer gets the review-assigned email in the local mailbox (.data/mail). */
async function expectDocumentWorkflowEmailsReviewer(adminToken: string): Promise<void> {
  for (const [username, role] of [
    ['rita.reviewer', 'reviewer'],
    ['alan.approver', 'approver'],
  ]) {
    const user = await postJson('/api/v1/users', adminToken, {
      username,
      password: 'password-for-tests',
      role,
      email: `${username}@example.test`,
    });
    expect(user.status).toBe(201);
  }
  const document = await postJson('/api/v1/documents', adminToken, {
    title: 'Launcher smoke test',
    reviewers: ['rita.reviewer'],
    approvers: ['alan.approver'],
  });
  expect(document.status).toBe(201);
  const { id } = (await document.json()) as { id: string };
  const submitted = await postJson(`/api/v1/documents/${id}/submit`, adminToken, {});
  expect(submitted.status).toBe(200);
  expect(await submitted.json()).toMatchObject({ status: 'UNDER_REVIEW' });

  const mailDir = path.join(dataDir, 'mail');
  for (let attempt = 0; attempt < 100; attempt++) {
    const files = await readdir(mailDir).catch(() => [] as string[]);
    const messages = await Promise.all(
      files.map(async (file) => simpleParser(await readFile(path.join(mailDir, file)))),
    );
    const toReviewer = messages.find((mail) => mail.text?.includes('rita.reviewer, you have been asked to review'));
    if (toReviewer) {
      expect(toReviewer.subject).toBe('[EDMS] Review requested: DOC-000001 "Launcher smoke test"');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the reviewer got no email in .data/mail');
}

test('npm start runs the whole system; Ctrl-C stops every process; the next start keeps the data', async () => {
  const first = launch();
  await waitForHealthy(first);

  const adminPassword = (await readFile(path.join(dataDir, 'admin-password'), 'utf8')).trim();
  const adminToken = await login('admin', adminPassword);
  const created = await fetch(api('/api/v1/users'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      username: 'kept.user',
      password: 'survives-a-restart',
      role: 'author',
      email: 'kept@example.test',
    }),
  });
  expect(created.status).toBe(201);
  await expectDocumentWorkflowEmailsReviewer(adminToken);

  const namespaces = await (await fetch(`http://127.0.0.1:${ports.ui}/api/v1/namespaces`)).json();
  expect(JSON.stringify(namespaces)).toContain('"edms"');
  expect(first.output.join('')).toContain('edms-temporal is running');

  await stopWithCtrlC(first);

  const second = launch();
  await waitForHealthy(second);
  const token = await login('kept.user', 'survives-a-restart');
  const me = await fetch(api('/api/v1/users/me'), { headers: { authorization: `Bearer ${token}` } });
  expect(await me.json()).toMatchObject({ username: 'kept.user', role: 'author' });
  // The generated admin password was created once, on the first start only.
  expect((await readFile(path.join(dataDir, 'admin-password'), 'utf8')).trim()).toBe(adminPassword);
  await stopWithCtrlC(second);
});
