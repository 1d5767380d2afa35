import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadDevServerConfig } from '../launcher/dev-server-config';
import { tsxNodeArgs } from '../launcher/managed-process';
import { assertPortsFree, DEFAULT_WORKER_METRICS_PORT, plannedPorts, type PlannedPort } from '../launcher/ports';
import { ConfigError, loadConfig } from '../lib/config';
import { PROJECT_ROOT } from '../lib/paths';
import { freePort } from '../lib/ports';
import { killAll, processesWithEnv } from './helpers/processes';

/**
 * `npm start` checks every port it will listen on or hand to a child before it starts anything,
 * and refuses a taken one with one line naming the variable to change.
 */
jest.setTimeout(120_000);

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'edms-launcher-ports-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** A port some other program holds (on 127.0.0.1, where the launcher's services listen by default). */
async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    release: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const portVariables = [
  'PORT',
  'WORKER_METRICS_PORT',
  'TEMPORAL_DEV_PORT',
  'TEMPORAL_DEV_UI_PORT',
  'EDMS_EMBEDDED_PG_PORT',
  'EDMS_SMTP_SINK_PORT',
] as const;

/** The launcher with every port free, a fresh data directory, and `overrides` on top. */
async function launch(name: string, overrides: NodeJS.ProcessEnv) {
  const dataDir = path.join(workDir, name, '.data');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'SMTP_URL', 'HOST']) {
    delete env[variable];
  }
  for (const variable of portVariables) env[variable] = String(await freePort());
  Object.assign(env, { EDMS_DATA_DIR: dataDir, LOG_FORMAT: 'json', ...overrides });
  const started = Date.now();
  const child = spawn(process.execPath, tsxNodeArgs(path.join(PROJECT_ROOT, 'launcher', 'main.ts')), {
    cwd: workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  const marker = `EDMS_DATA_DIR=${dataDir}`;
  const left = processesWithEnv(marker);
  killAll(left);
  return { code, stdout, stderr, ms: Date.now() - started, left, dataDir };
}

function expectRefusedAtOnce(result: Awaited<ReturnType<typeof launch>>, ...mentions: string[]): void {
  expect(result.code).toBe(1);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^edms-temporal cannot start: /);
  for (const mention of mentions) expect(lines[0]).toContain(mention);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  // Nothing was started or written: no child left, no log line of a start, no data directory.
  expect(result.left).toEqual([]);
  expect(result.stdout).toBe('');
  expect(existsSync(result.dataDir)).toBe(false);
  expect(result.ms).toBeLessThan(30_000);
}

describe('npm start with a port that is taken', () => {
  test.each(portVariables)('%s: refused at once, naming the variable and the port', async (variable) => {
    const held = await holdPort();
    try {
      const result = await launch(variable, { [variable]: String(held.port) });
      expectRefusedAtOnce(result, `127.0.0.1:${held.port}`, `set ${variable} to a free port`);
    } finally {
      await held.release();
    }
  });

  test('two variables naming the same port: refused, naming both', async () => {
    const port = await freePort();
    const result = await launch('same-port', { PORT: String(port), EDMS_SMTP_SINK_PORT: String(port) });
    expectRefusedAtOnce(result, `PORT and EDMS_SMTP_SINK_PORT both name port ${port}`);
  });
});

describe('the ports the launcher plans', () => {
  const devServer = loadDevServerConfig({ dataDir: '/tmp/unused', port: 17233, uiPort: 18233 });
  const planned = (env: NodeJS.ProcessEnv, dev: typeof devServer | undefined) =>
    plannedPorts(loadConfig(env), dev).map(({ variable, port }) => `${variable}=${port}`);

  test('with nothing set: every service of its own, the worker metrics on their default port', () => {
    expect(planned({}, devServer)).toEqual([
      'PORT=3000',
      `WORKER_METRICS_PORT=${DEFAULT_WORKER_METRICS_PORT}`,
      'TEMPORAL_DEV_PORT=17233',
      'TEMPORAL_DEV_UI_PORT=18233',
      'EDMS_EMBEDDED_PG_PORT=54329',
      'EDMS_SMTP_SINK_PORT=1025',
    ]);
  });

  test('an explicit worker metrics port is checked; 0 (a free one, picked by the worker) is not', () => {
    expect(planned({ WORKER_METRICS_PORT: '9500' }, devServer)).toContain('WORKER_METRICS_PORT=9500');
    expect(planned({ WORKER_METRICS_PORT: '0' }, devServer).join()).not.toContain('WORKER_METRICS_PORT');
  });

  test('servers the environment names instead are not the launcher’s to check', () => {
    expect(
      // TEMPORAL_ADDRESS set: the launcher loads no dev server configuration.
      planned({ DATABASE_URL: 'postgres://db.example/edms', SMTP_URL: 'smtp://mail.example:587' }, undefined),
    ).toEqual(['PORT=3000', `WORKER_METRICS_PORT=${DEFAULT_WORKER_METRICS_PORT}`]);
  });
});

describe('assertPortsFree', () => {
  const at = (variable: string, port: number, host = '127.0.0.1'): PlannedPort => ({
    what: variable.toLowerCase(),
    host,
    port,
    variable,
  });

  test('free ports pass and are let go again', async () => {
    const a = await freePort();
    // The kernel may hand back a port it has just freed: two distinct ones are wanted here.
    let b = await freePort();
    while (b === a) b = await freePort();
    const ports = [at('A', a), at('B', b)];
    await assertPortsFree(ports, 'test');
    await assertPortsFree(ports, 'test');
  });

  test('every problem is named in one message', async () => {
    const held = await holdPort();
    const shared = await freePort();
    try {
      const error = await assertPortsFree(
        [at('A', held.port), at('B', shared), at('C', shared), at('WORKER_METRICS_PORT', held.port)],
        'test',
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        `test cannot start: 127.0.0.1:${held.port} (a) is already in use (another \`npm start\`?); set A to a free port; ` +
          `B and C both name port ${shared}; set C to a free port; ` +
          `127.0.0.1:${held.port} (worker_metrics_port) is already in use (another \`npm start\`?); set WORKER_METRICS_PORT to a free port (0 picks one)`,
      );
    } finally {
      await held.release();
    }
  });

  test('a host the machine does not have names the host variable too', async () => {
    const error = await assertPortsFree(
      [{ what: 'API', host: '192.0.2.1', port: await freePort(), variable: 'PORT', hostVariable: 'HOST' }],
      'test',
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^test cannot start: cannot listen on 192\.0\.2\.1:\d+ \(API\): .*; check HOST and PORT$/,
    );
  });
});
