/**
 * The command line of `npm run bench` and `npm run chaos`: one strict parser, numbers in decimal
 * only, and every refusal one line on stderr with exit code 2, before anything is started.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line or an unusable output directory: one line on stderr, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Whether `--help` would help (a flag's spelling or value, not a directory's permissions). */
    readonly pointToHelp = true,
  ) {
    super(message);
  }
}

export const USAGE_EXIT_CODE = 2;

/** node:util's parseArgs (strict by default); its refusals (some span three lines) become one-line UsageErrors. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS_'))
      throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' ').replace(/\.$/, ''));
    throw error;
  }
}

/**
 * `value` as an integer of at least `min`, written in decimal digits only: `Number` would also take
 * `0x10`, `1e1`, `" 5"` and `""` (as 0), which on a command line are typos, not numbers.
 */
export function decimalInteger(value: string, flag: string, min: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} wants a decimal integer >= ${min} (got ${JSON.stringify(value)})`);
  }
  return n;
}

/**
 * Creates `dir` if needed and writes a file into it, so that a run whose results cannot be kept is
 * refused at once rather than after it has measured (a check of permission bits alone would pass
 * for root on a read-only file system).
 */
export async function assertWritableDirectory(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = path.join(dir, `.write-test-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    throw new UsageError(`${what} ${dir} is not a writable directory (${(error as Error).message})`, false);
  }
}

/**
 * Runs a command's `main` and exits with its code. A UsageError is one line naming the command;
 * anything else is a failure of the harness itself, for `onFailure` to report and give the code of.
 */
export function runCommand(name: string, main: () => Promise<number>, onFailure: (error: unknown) => number): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) {
        const help = error.pointToHelp ? `; \`npm run ${name} -- --help\` lists the flags` : '';
        process.stderr.write(`${name}: ${error.message}${help}\n`);
        process.exit(USAGE_EXIT_CODE);
      }
      process.exit(onFailure(error));
    },
  );
}
