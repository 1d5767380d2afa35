import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { INITIAL_ADMIN_USERNAME } from '../api/bootstrap';
import { tsxNodeArgs } from '../launcher/managed-process';
import { PROJECT_ROOT } from '../lib/paths';
import { freePort } from '../lib/ports';
import { childPids, commandLineOf } from './proc';

/** The launcher's supervised children, as benchmarks and the crash test address them. */
export type ServiceName = 'worker' | 'api' | 'temporal' | 'postgres';

export interface RunningSystem {
  /** `http://127.0.0.1:<port>` of the API. */
  apiUrl: string;
  dataDir: string;
  /** The database the services use: `DATABASE_URL`, or the embedded cluster's. */
  databaseUrl: string;
  /** `host:port` of the Temporal frontend: `TEMPORAL_ADDRESS`, or the dev server's. */
  temporalAddress: string;
  namespace: string;
  /** Port of the worker's `GET /metrics`. */
  workerMetricsPort: number;
  /** A bearer token of the initial admin. */
  adminToken: string;
  launcher: ChildProcess;
  /** The launcher's and its children's output so far (for failure reports). */
  output: string[];
  /** The PID of a supervised service now (a restarted one has a new PID), or undefined while it is down. */
  pidOf(service: ServiceName): number | undefined;
  /** Ctrl-C to the launcher (everything stops in order), then the data directory goes unless kept. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra environment for the launcher and everything it starts. */
  env?: NodeJS.ProcessEnv;
  /** Leave the data directory on disk after stop (its path is `dataDir`). */
  keepData?: boolean;
  /** Write the launcher's output to stderr as it comes. */
  echo?: boolean;
}

async function waitForHealthy(apiUrl: string, launcher: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (launcher.exitCode !== null) throw new Error(`the launcher exited early:\n${output.join('').slice(-5000)}`);
    try {
      if ((await fetch(`${apiUrl}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no healthy system within 300 s:\n${output.join('').slice(-5000)}`);
}

/**
 * The whole system as `npm start` runs it (dev server, embedded PostgreSQL, mail sink, worker, API,
 * each supervised and restarted when it dies), in a fresh data directory on free ports. Set
 * `TEMPORAL_ADDRESS`/`TEMPORAL_NAMESPACE` or `DATABASE_URL` to run against a real cluster or
 * database instead, exactly as `npm start` does.
 */
export async function startSystem(options: StartOptions = {}): Promise<RunningSystem> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'edms-bench-'));
  // The embedded PostgreSQL runs as an unprivileged user when started by root: it must reach its cluster.
  await chmod(workDir, 0o755);
  const dataDir = path.join(workDir, '.data');
  const port = await freePort();
  const workerMetricsPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['PORT', 'EDMS_DATA_DIR', 'EDMS_ADMIN_PASSWORD', 'EDMS_JWT_SECRET', 'SMTP_URL']) delete env[name];
  Object.assign(env, {
    EDMS_DATA_DIR: dataDir,
    PORT: String(port),
    EDMS_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_DEV_UI_PORT: String(await freePort()),
    EDMS_EMBEDDED_PG_PORT: String(await freePort()),
    EDMS_SMTP_SINK_PORT: String(await freePort()),
    WORKER_METRICS_PORT: String(workerMetricsPort),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
    WORKER_SHUTDOWN_GRACE_SECONDS: '5',
    ...options.env,
  });
  const launcher = spawn(process.execPath, tsxNodeArgs(path.join(PROJECT_ROOT, 'launcher', 'main.ts')), {
    cwd: workDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 2000) output.splice(0, 1000);
    if (options.echo) process.stderr.write(chunk);
  };
  launcher.stdout?.on('data', collect);
  launcher.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => launcher.once('exit', () => resolve()));

  const apiUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (launcher.exitCode === null) {
      launcher.kill('SIGINT');
      const timer = setTimeout(() => launcher.kill('SIGKILL'), 120_000);
      await exited;
      clearTimeout(timer);
    }
    if (!options.keepData) await rm(workDir, { recursive: true, force: true });
  };
  try {
    await waitForHealthy(apiUrl, launcher, output);
    const password = (await readFile(path.join(dataDir, 'admin-password'), 'utf8')).trim();
    const login = await fetch(`${apiUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: INITIAL_ADMIN_USERNAME, password }),
    });
    if (login.status !== 200) throw new Error(`admin login answered ${login.status}: ${await login.text()}`);
    const { access_token: adminToken } = (await login.json()) as { access_token: string };
    const databaseUrl =
      env.DATABASE_URL ||
      `postgres://postgres:${(await readFile(path.join(dataDir, 'postgres-password'), 'utf8')).trim()}@127.0.0.1:${env.EDMS_EMBEDDED_PG_PORT}/edms`;
    const temporalAddress = env.TEMPORAL_ADDRESS || `127.0.0.1:${env.TEMPORAL_DEV_PORT}`;
    const namespace = env.TEMPORAL_NAMESPACE || 'edms';

    const pidOf = (service: ServiceName): number | undefined => {
      if (service === 'postgres') {
        const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
        if (!existsSync(pidFile)) return undefined;
        const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
        return existsSync(`/proc/${pid}`) ? pid : undefined;
      }
      const pattern = { worker: 'worker/main.ts', api: 'api/main.ts', temporal: 'start-dev' }[service];
      return childPids(launcher.pid!).find((child) => commandLineOf(child)?.includes(pattern));
    };
    return {
      apiUrl,
      dataDir,
      databaseUrl,
      temporalAddress,
      namespace,
      workerMetricsPort,
      adminToken,
      launcher,
      output,
      pidOf,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
