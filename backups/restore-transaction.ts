import { spawn } from 'node:child_process';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common';
import type { RestoreTransactionParams, RestoreTransactionSummary } from './restore-contract';
import { AFTER_RESTORE, beforeRestore } from './restore-sql';
import { pgTool } from './archive';

/**
 * pg_restore's options for every restore, real, dry or scratch. The archive's owners, grants,
 * tablespaces, publications, subscriptions and security labels belong to the environment it was
 * made in: a role or tablespace missing here must not stop a restore, so objects are owned by the
 * restoring role and keep the privileges this environment gives them.
 */
export const PG_RESTORE_OPTIONS = [
  '--no-owner',
  '--no-privileges',
  '--no-tablespaces',
  '--no-publications',
  '--no-subscriptions',
  '--no-security-labels',
];

/**
 * Runs the whole restore as ONE transaction through psql: the copy of the evidence, pg_restore's
 * script (the same options whether real or dry), and the re-appending. A dry run ends in ROLLBACK,
 * so it meets exactly what the real one would (missing roles, objects it cannot drop, another
 * owner) and reports what it would keep, without changing anything; it does hold the same locks
 * while it runs. Any error rolls everything back and is thrown with PostgreSQL's own explanation.
 */
export function runRestoreTransaction(options: {
  dumpFile: string;
  databaseUrl: string;
  pgBinDir?: string;
  dryRun: boolean;
  params: RestoreTransactionParams;
  heartbeat?: () => void;
}): Promise<RestoreTransactionSummary> {
  const tool = (name: string) => pgTool(options.pgBinDir, name);
  return new Promise((resolve, reject) => {
    const psql = spawn(
      tool('psql'),
      [
        '--no-psqlrc',
        '--quiet',
        '--tuples-only',
        '--no-align',
        '-v',
        'ON_ERROR_STOP=1',
        `--dbname=${options.databaseUrl}`,
        '--file=-',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const restore = spawn(
      tool('pg_restore'),
      ['--clean', '--if-exists', ...PG_RESTORE_OPTIONS, '--file=-', options.dumpFile],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let psqlOut = '';
    let psqlErr = '';
    let restoreErr = '';
    let restoreExit: number | null | undefined;
    let failed = false;
    const heartbeat = options.heartbeat ? setInterval(options.heartbeat, 5000) : undefined;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      clearInterval(heartbeat);
      restore.kill('SIGTERM');
      psql.kill('SIGTERM');
      reject(error);
    };
    const missing = (program: string) => (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'ENOENT'
          ? ApplicationFailure.nonRetryable(
              `${program} was not found: install the PostgreSQL client tools (Debian: postgresql-client) matching the server, or set EDMS_PG_BIN_DIR`,
              FailureType.PgToolMissing,
            )
          : error,
      );
    psql.once('error', missing('psql'));
    restore.once('error', missing('pg_restore'));
    // psql stops reading at the first error: pg_restore's broken pipe is expected then.
    psql.stdin.on('error', () => undefined);
    psql.stdout.on('data', (chunk: Buffer) => (psqlOut += chunk.toString()));
    psql.stderr.on('data', (chunk: Buffer) => (psqlErr += chunk.toString()));
    restore.stderr.on('data', (chunk: Buffer) => (restoreErr += chunk.toString()));

    psql.stdin.write(beforeRestore(options.params));
    restore.stdout.pipe(psql.stdin, { end: false });
    // 'close', not 'exit': the whole script must have reached psql first.
    restore.once('close', (code) => {
      restoreExit = code;
      if (code !== 0) {
        psql.stdin.end();
        return;
      }
      psql.stdin.end(`${AFTER_RESTORE}\n${options.dryRun ? 'ROLLBACK' : 'COMMIT'};\n`);
    });
    psql.once('close', (code, signal) => {
      if (failed) return;
      clearInterval(heartbeat);
      const problems = psqlErr
        .split('\n')
        .filter((line) => /(ERROR|DETAIL|HINT|FATAL):/.test(line))
        .map((line) => line.replace(/^psql:[^:]*:\d+: /, ''))
        .join(' ');
      if (code !== 0 || restoreExit !== 0) {
        failed = true;
        const reason =
          problems ||
          restoreErr.trim().slice(-2000) ||
          psqlErr.trim().slice(-2000) ||
          `psql ${signal ?? `exit ${code}`}`;
        reject(new Error(`restore rolled back, nothing changed: ${reason}`));
        return;
      }
      const line = psqlOut.split('\n').find((l) => l.startsWith('EDMS_RESTORE_SUMMARY '));
      if (!line) {
        reject(new Error(`restore gave no summary: ${psqlOut.slice(-500)} ${psqlErr.slice(-500)}`));
        return;
      }
      resolve(JSON.parse(line.slice('EDMS_RESTORE_SUMMARY '.length)) as RestoreTransactionSummary);
    });
  });
}
