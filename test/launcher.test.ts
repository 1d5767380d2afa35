import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { simpleParser } from 'mailparser';
import path from 'node:path';
import { tsxNodeArgs } from '../launcher/managed-process';
import { PROJECT_ROOT } from '../lib/paths';
import { Client, Connection } from '@temporalio/client';
import { waitFor } from './helpers/wait';
import { freePort } from '../lib/ports';
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

function launch(extraEnv: NodeJS.ProcessEnv = {}): Launched {
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
    ...extraEnv,
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

/** The launcher's child running `<service>/main.ts`, by its command line. */
function servicePid(service: 'worker' | 'api'): number | undefined {
  return processesWithEnv(marker).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path.join(service, 'main.ts'));
    } catch {
      return false;
    }
  });
}

const logLines = (launched: Launched) =>
  launched.output
    .join('')
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { msg: string; time: string; child?: string };
        return [{ ...entry, at: Date.parse(entry.time) }];
      } catch {
        return []; // not a log line (the banner)
      }
    });

describe('The launcher test', () => {
  test('kills its worker and sees it come back while the API keeps answering', async () => {
    const launched = launch();
    await waitForHealthy(launched);
    const adminPassword = (await readFile(path.join(dataDir, 'admin-password'), 'utf8')).trim();
    const token = await login('admin', adminPassword);
    const apiPid = servicePid('api');
    const workerPid = servicePid('worker');
    expect(workerPid).toBeDefined();

    // The API is asked every 200 ms for the whole episode; every answer must be a 200.
    const answers: (number | string)[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        try {
          const response = await fetch(api('/api/v1/users/me'), { headers: { authorization: `Bearer ${token}` } });
          answers.push(response.status);
        } catch (error) {
          answers.push((error as Error).message);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();

    const killedAt = Date.now();
    process.kill(workerPid!, 'SIGKILL');

    // /health stops counting the dead worker within 15 s. When the launcher's replacement is quick,
    // both count for a while (its heartbeat and the dead one's last); then the dead one ages out.
    // A replacement that logged 'worker polling' a second ago has written its first heartbeat.
    const replacementPollingFor = (ms: number) =>
      logLines(launched).some(
        (line) => line.msg === 'worker polling' && line.at > killedAt && line.at < Date.now() - ms,
      );
    let seenBoth = false;
    let deadUncountedAt: number | undefined;
    let seen503 = false;
    while (Date.now() - killedAt < 15_000 && deadUncountedAt === undefined) {
      const response = await fetch(api('/health'));
      const body = (await response.json()) as {
        components: { workers: { task_queues: Record<string, { live_workers: number }> } };
      };
      const live = body.components.workers.task_queues.documents?.live_workers;
      seenBoth ||= live === 2;
      if (live === 0) {
        expect(response.status).toBe(503);
        seen503 = true;
        deadUncountedAt = Date.now();
      } else if (live === 1 && (seenBoth || replacementPollingFor(1000))) deadUncountedAt = Date.now();
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(deadUncountedAt).toBeDefined();
    expect(deadUncountedAt! - killedAt).toBeLessThan(15_000);

    // The launcher logged the death and brought a new worker up; /health is 200 again with it.
    await waitForHealthy(launched);
    process.stdout.write(
      `worker killed: dead worker uncounted after ${deadUncountedAt! - killedAt} ms (${seen503 ? '503 meanwhile' : 'replacement already serving'}), ` +
        `200 with the new worker after ${Date.now() - killedAt} ms\n`,
    );
    const health = (await (await fetch(api('/health'))).json()) as {
      components: { workers: { task_queues: Record<string, { status: string; live_workers: number }> } };
    };
    for (const queue of ['documents', 'scheduler', 'maintenance'])
      expect(health.components.workers.task_queues[queue]).toMatchObject({ status: 'up', live_workers: 1 });
    const newWorkerPid = servicePid('worker');
    expect(newWorkerPid).toBeDefined();
    expect(newWorkerPid).not.toBe(workerPid);
    const lines = logLines(launched);
    expect(lines.find((line) => line.msg.startsWith('worker exited unexpectedly'))?.msg).toMatch(
      /^worker exited unexpectedly \(killed by SIGKILL after \d+ s\)$/,
    );
    expect(lines.some((line) => line.msg === 'restarting worker in 1000 ms')).toBe(true);
    expect(lines.some((line) => line.msg === 'worker restarted')).toBe(true);
    expect(lines.some((line) => line.msg === 'worker polling' && line.at > killedAt)).toBe(true);

    probing = false;
    await prober;
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.filter((answer) => answer !== 200)).toEqual([]);
    // Nothing else was restarted: the same API process answered throughout.
    expect(servicePid('api')).toBe(apiPid);
    expect(lines.filter((line) => /exited unexpectedly/.test(line.msg)).map((line) => line.child)).toEqual(['worker']);

    await stopWithCtrlC(launched);
  });

  test('restarts a killed PostgreSQL and a killed Temporal server on their data, keeping the API process', async () => {
    const launched = launch();
    await waitForHealthy(launched);
    const adminPassword = (await readFile(path.join(dataDir, 'admin-password'), 'utf8')).trim();
    const adminToken = await login('admin', adminPassword);
    const created = await postJson('/api/v1/users', adminToken, {
      username: 'before.crashes',
      password: 'kept-across-crashes',
      role: 'viewer',
      email: 'before.crashes@example.test',
    });
    expect(created.status).toBe(201);
    const documents = await fetch(api('/api/v1/documents'), { headers: { authorization: `Bearer ${adminToken}` } });
    const [document] = ((await documents.json()) as { items: { workflow_id: string }[] }).items;
    expect(document).toBeDefined();
    const apiPid = servicePid('api');

    const commandLineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const find = (matches: (argv: string[]) => boolean) =>
      processesWithEnv(marker).find((pid) => {
        try {
          return matches(commandLineOf(pid));
        } catch {
          return false;
        }
      });
    // The postmaster is the PostgreSQL process with its data directory on the command line.
    const postmaster = find((argv) => argv[0]?.endsWith('/postgres') === true && argv.includes('-D'));
    const temporalServer = find((argv) => argv.includes('start-dev'));
    expect(postmaster).toBeDefined();
    expect(temporalServer).toBeDefined();

    for (const [name, pid] of [
      ['postgres', postmaster!],
      ['temporal', temporalServer!],
    ] as const) {
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await waitFor(
        async () =>
          logLines(launched).some((line) => line.msg === `${name} restarted` && line.at > killedAt) ? true : undefined,
        120_000,
        250,
      );
      await waitForHealthy(launched);
      process.stdout.write(`${name} killed: healthy again after ${Date.now() - killedAt} ms\n`);
    }

    const lines = logLines(launched);
    for (const name of ['postgres', 'temporal']) {
      expect(lines.find((line) => line.msg.startsWith(`${name} exited unexpectedly`))?.msg).toMatch(
        new RegExp(`^${name} exited unexpectedly \\(killed by SIGKILL after \\d+ s\\)$`),
      );
    }
    // The same PostgreSQL cluster: the user made before the crashes logs in.
    await login('before.crashes', 'kept-across-crashes');
    // The same Temporal SQLite file: the document's workflow is still there, still running.
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const client = new Client({ connection, namespace: 'edms' });
      expect((await client.workflow.getHandle(document!.workflow_id).describe()).status.name).toBe('RUNNING');
    } finally {
      await connection.close();
    }
    expect(servicePid('api')).toBe(apiPid);
    await stopWithCtrlC(launched);
  });

  test('gives up on a worker that keeps failing at start: exit code 1 and a message naming it', async () => {
    // Pointed at a namespace the dev server does not have, the worker fails each start at once.
    const launched = launch({ TEMPORAL_NAMESPACE: 'no-such-namespace' });
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      launched.exit,
      new Promise((resolve) => (timer = setTimeout(resolve, 240_000, 'timeout'))),
    ]);
    clearTimeout(timer);
    const output = launched.output.join('');
    expect(code).toBe(1);
    expect(output).toMatch(
      /edms-temporal stopped: worker failed 5 times in a row, each within 60 s of starting; last: exit code 1 after \d+ s/,
    );
    expect(output).toContain('no-such-namespace');
    const restarts = logLines(launched).filter((line) => /^restarting worker in/.test(line.msg));
    expect(restarts.map((line) => line.msg)).toEqual([
      'restarting worker in 1000 ms',
      'restarting worker in 2000 ms',
      'restarting worker in 4000 ms',
      'restarting worker in 8000 ms',
    ]);
    // It stopped the rest in order: nothing it started is left.
    let left = processesWithEnv(marker);
    for (let attempt = 0; attempt < 20 && left.length > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = processesWithEnv(marker);
    }
    expect(left).toEqual([]);
  });
});
