import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import * as tar from 'tar';
import { FailureType } from '../common';

/** A PostgreSQL client program: from EDMS_PG_BIN_DIR when set (a client matching the server), else from PATH. */
export const pgTool = (binDir: string | undefined, name: string): string => (binDir ? path.join(binDir, name) : name);

/** What a long tool run reports while it works, and how it is stopped (an activity's heartbeat and cancellation). */
export interface ToolRunControl {
  heartbeat?: () => void;
  signal?: AbortSignal;
}

export interface BackupFile {
  name: string;
  size_bytes: number;
  sha256: string;
}

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function describeFile(directory: string, name: string): Promise<BackupFile> {
  const file = path.join(directory, name);
  return { name, size_bytes: (await stat(file)).size, sha256: await sha256Of(file) };
}

/** `20261123T180000Z`: sortable, and safe in file names on every system. */
export const compactUtc = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');

/** Runs a program; heartbeats while it works and kills it when `control.signal` aborts. */
export function runTool(program: string, args: string[], control: ToolRunControl = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const heartbeat = control.heartbeat ? setInterval(control.heartbeat, 5000) : undefined;
    const onAbort = () => child.kill('SIGTERM');
    control.signal?.addEventListener('abort', onAbort);
    const done = () => {
      clearInterval(heartbeat);
      control.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      done();
      if (error.code === 'ENOENT') {
        reject(
          ApplicationFailure.nonRetryable(
            `${program} was not found: install the PostgreSQL client tools (Debian: postgresql-client) matching the server, or set EDMS_PG_BIN_DIR`,
            FailureType.PgToolMissing,
          ),
        );
      } else reject(error);
    });
    child.once('exit', (code, signal) => {
      done();
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(`${path.basename(program)} failed (${signal ?? `exit ${code}`}): ${stderr.trim().slice(-2000)}`),
        );
    });
  });
}

/** pg_dump refuses servers newer than itself; say so before trying, naming what to install. */
export async function checkPgDump(program: string, serverVersionNum: number): Promise<string> {
  const version = (await runTool(program, ['--version'])).trim();
  const major = Number(/(\d+)(?:\.\d+)?/.exec(version.replace(/^\D+/, ''))?.[1]);
  const serverMajor = Math.floor(serverVersionNum / 10000);
  if (!Number.isFinite(major) || major < serverMajor) {
    throw ApplicationFailure.nonRetryable(
      `${version} is older than the PostgreSQL ${serverMajor} server: install postgresql-client-${serverMajor} or newer, or set EDMS_PG_BIN_DIR`,
      FailureType.PgToolTooOld,
    );
  }
  return version;
}

/** manifest.json, at the root of every archive. */
export interface ArchiveManifest {
  format: number;
  timestamp: string;
  backup_type: string;
  config?: string;
  files: BackupFile[];
  row_counts: Record<string, number>;
}

export interface ArchiveVerification {
  checksums_ok: boolean;
  files_checked: number;
  pg_restore_entries: number;
}

/**
 * Re-reads a finished archive: every file the manifest lists must be there with its size and
 * SHA-256, and pg_restore must be able to list the dump. Throws naming the first problem.
 * `deepCheck` runs on the unpacked archive afterwards (a restore into a scratch database).
 */
export async function verifyArchive<Extra extends object = object>(
  archive: string,
  pgRestore: string,
  control: ToolRunControl = {},
  deepCheck?: (unpacked: string, manifest: ArchiveManifest) => Promise<Extra>,
): Promise<ArchiveVerification & Partial<Extra>> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'edms-verify-'));
  try {
    await tar.extract({ file: archive, cwd: scratch });
    const manifest = JSON.parse(await readFile(path.join(scratch, 'manifest.json'), 'utf8')) as ArchiveManifest;
    for (const expected of manifest.files) {
      const actual = await describeFile(scratch, expected.name).catch(() => undefined);
      if (!actual) throw new Error(`${path.basename(archive)}: ${expected.name} is missing`);
      if (actual.sha256 !== expected.sha256 || actual.size_bytes !== expected.size_bytes) {
        throw new Error(`${path.basename(archive)}: ${expected.name} does not match its checksum`);
      }
    }
    const listing = await runTool(pgRestore, ['--list', path.join(scratch, 'database.dump')], control);
    const verification: ArchiveVerification = {
      checksums_ok: true,
      files_checked: manifest.files.length,
      pg_restore_entries: listing.split('\n').filter((line) => line && !line.startsWith(';')).length,
    };
    return deepCheck
      ? { ...verification, ...(await deepCheck(scratch, manifest)) }
      : (verification as ArchiveVerification & Partial<Extra>);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Gives a finished archive its final name without ever replacing another: `link` fails when the
 * name is taken (two configurations of one type starting in the same second), and the next second
 * is tried. Returns the name it got.
 */
export async function publishArchive(partial: string, directory: string, startedAt: Date): Promise<string> {
  for (let offset = 0; offset < 60; offset++) {
    const name = `backup_${compactUtc(new Date(startedAt.getTime() + offset * 1000))}.tar.gz`;
    try {
      await link(partial, path.join(directory, name));
      await rm(partial, { force: true });
      return name;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`no free archive name in ${directory} within a minute of ${startedAt.toISOString()}`);
}
