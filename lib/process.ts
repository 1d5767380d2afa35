import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config';
import { PROJECT_ROOT } from './paths';

/**
 * The one entry-point shape: run `main`, and on failure print a clear message (a configuration error
 * needs no stack trace) and exit non-zero.
 */
export function runMain(main: () => Promise<void>): void {
  // A .env file beside package.json fills in variables the environment does not set.
  const dotEnv = path.join(PROJECT_ROOT, '.env');
  if (existsSync(dotEnv)) process.loadEnvFile(dotEnv);
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  });
}

/**
 * Calls `stop` once on the first SIGINT or SIGTERM; a second signal while stopping forces the exit,
 * so an operator is never stuck behind a hung shutdown.
 */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`received ${signal} again: exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
