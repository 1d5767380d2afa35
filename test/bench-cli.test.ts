import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseOptions } from '../bench/chaos/plan';
import type { ScenarioReport } from '../bench/report';
import { tsxNodeArgs } from '../launcher/managed-process';
import { PROJECT_ROOT } from '../lib/paths';
import { TEST_ENV } from './helpers/resources';

/**
 * `npm run bench` and `npm run chaos` refuse a bad command line with one line and exit code 2
 * before they start anything; `--help` is an answer, not a refusal.
 */
jest.setTimeout(600_000);

let tmpDir: string;

beforeEach(async () => {
  // The child's TMPDIR: the system a harness starts lives in a temporary directory, so an empty
  // one afterwards shows that nothing was started.
  tmpDir = await mkdtemp(path.join(os.tmpdir(), 'edms-bench-cli-'));
  await chmod(tmpDir, 0o755);
});

afterEach(async () => {
  await rm(tmpDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `node --import tsx <script> <args>` as `npm run` starts it, with TMPDIR the test's own. */
function run(script: string, args: string[], timeoutMs = 30_000, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [...tsxNodeArgs(path.join(PROJECT_ROOT, script)), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...env, TMPDIR: tmpDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

/** The data directories bench/system.ts made: one per system started. */
const startedSystems = async () => (await readdir(tmpDir)).filter((name) => name.startsWith('edms-bench-'));

async function expectRefused(script: string, args: string[], name: string, mentions: string): Promise<void> {
  const result = await run(script, args);
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${name}: `));
  expect(lines[0]).toContain(mentions);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.ms).toBeLessThan(20_000);
  expect(await startedSystems()).toEqual([]);
}

describe('npm run chaos', () => {
  test.each([
    [['--m', 'abc'], '--m wants a decimal integer >= 1 (got "abc")'],
    [['--m', '-5'], "'--m'"],
    [['--m=-5'], '--m wants a decimal integer >= 1 (got "-5")'],
    [['--m', '0'], '--m wants a decimal integer >= 1 (got "0")'],
    [['--m', '1e1'], '--m wants a decimal integer >= 1 (got "1e1")'],
    [['--m', ''], '--m wants a decimal integer >= 1 (got "")'],
    [['--m=abc'], '--m wants a decimal integer >= 1 (got "abc")'],
    [['--seed', 'x'], '--seed wants a decimal integer >= 0 (got "x")'],
    [['--seed', '0x10'], '--seed wants a decimal integer >= 0 (got "0x10")'],
    [['--seed'], "'--seed <value>' argument missing"],
    [['--effective', '3,4'], '--effective wants MIN,MAX whole seconds with 5 <= MIN < MAX (got "3,4")'],
    [['--obsolete', '10,20,30'], '--obsolete wants MIN,MAX'],
    [['--concurrency', '2.5'], '--concurrency wants a decimal integer >= 1 (got "2.5")'],
    [['--quiet-timeout', ' 30'], '--quiet-timeout wants a decimal integer >= 1 (got " 30")'],
    [['--bogus'], "'--bogus'"],
    [['--keep-data=yes'], "'--keep-data'"],
    [['extra'], "'extra'"],
  ])('%j is refused with one line naming the flag, exit code 2, before anything starts', async (args, mentions) => {
    await expectRefused('bench/chaos/main.ts', args, 'chaos', mentions);
  });

  test('--help prints the flags and exits 0', async () => {
    const result = await run('bench/chaos/main.ts', ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run chaos/);
    for (const flag of [
      '--m',
      '--seed',
      '--effective',
      '--obsolete',
      '--concurrency',
      '--quiet-timeout',
      '--keep-data',
    ])
      expect(result.stdout).toContain(flag);
    expect(await startedSystems()).toEqual([]);
  });

  test('well-formed flags are read as written, --flag=value included', () => {
    expect(
      parseOptions([
        '--m=10',
        '--seed',
        '0',
        '--effective',
        '5,6',
        '--obsolete=20,60',
        '--concurrency',
        '3',
        '--quiet-timeout=30',
        '--keep-data',
      ]),
    ).toEqual({
      m: 10,
      seed: 0,
      effectiveSeconds: [5, 6],
      obsoleteSeconds: [20, 60],
      concurrency: 3,
      quietTimeoutSeconds: 30,
      keepData: true,
      echo: false,
    });
    expect(parseOptions(['--seed', '007'])).toMatchObject({ m: 200, seed: 7 });
    expect(parseOptions(['-h'])).toBe('help');
  });
});

describe('npm run bench', () => {
  test.each([
    [['--n', '1e1'], '--n wants a decimal integer >= 1 (got "1e1")'],
    [['--n', '0x10'], '--n wants a decimal integer >= 1 (got "0x10")'],
    [['--n'], "'--n <value>' argument missing"],
    [['--bogus'], "'--bogus'"],
    [['no-such-scenario'], "unknown scenario 'no-such-scenario'"],
    [['--out', '/etc/passwd/sub'], '--out /etc/passwd/sub is not a writable directory (ENOTDIR'],
    [['--out', '/proc/version'], '--out /proc/version is not a writable directory'],
  ])('%j is refused with one line, exit code 2, before the system starts', async (args, mentions) => {
    await expectRefused('bench/main.ts', args, 'bench', mentions);
  });

  test('--help prints the scenarios and exits 0', async () => {
    const result = await run('bench/main.ts', ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run bench/);
    expect(result.stdout).toContain('time-skipping-year');
  });

  test('a scenario on a Temporal server of its own says so in its result', async () => {
    const outDir = path.join(tmpDir, 'results');
    // The system's own servers, whatever the environment of the tests names.
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']) delete env[name];
    if (process.env[TEST_ENV.cli]) env.TEMPORAL_CLI_PATH = process.env[TEST_ENV.cli];
    if (process.env[TEST_ENV.testServer]) env.TEMPORAL_TEST_SERVER_PATH = process.env[TEST_ENV.testServer];
    const result = await run('bench/main.ts', ['time-skipping-year', '--quick', '--out', outDir], 540_000, env);
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr.slice(-5000) }).toEqual({
      code: 0,
      stderr: '',
    });
    const report = JSON.parse(await readFile(path.join(outDir, 'time-skipping-year.json'), 'utf8')) as ScenarioReport;
    expect(report.target).toEqual({ temporal: 'time-skipping test server', database: 'embedded PostgreSQL' });
  });
});
