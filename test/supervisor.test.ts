import { Supervisor, type SupervisedChild } from '../launcher/supervisor';
import { ManagedProcess } from '../launcher/managed-process';
import { waitFor } from './helpers/wait';

/**
 * The launcher's supervisor over real child processes (small Node scripts standing in for the
 * worker, the API, Temporal and PostgreSQL), with backoffs shortened to keep the test quick.
 */

interface Entry {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger() {
  const entries: Entry[] = [];
  const at = (level: Entry['level']) => (obj: object, msg: string) =>
    entries.push({ level, obj: obj as Record<string, unknown>, msg });
  return { entries, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

/** A child running `script` with node; `starts` counts how often it was started. */
function nodeChild(name: string, script: string) {
  const child = {
    starts: 0,
    stopped: [] as string[],
    spec: {
      name,
      start: async () => {
        child.starts++;
        return new ManagedProcess(name, process.execPath, ['-e', script]);
      },
      stop: async (running: ManagedProcess) => {
        child.stopped.push(name);
        await running.stop('SIGTERM', 5000);
      },
    } satisfies SupervisedChild,
  };
  return child;
}

const SLEEPER = 'setInterval(() => undefined, 1000)';

test('a child killed with SIGKILL is logged and restarted after its backoff while the other keeps running', async () => {
  const { entries, logger } = recordingLogger();
  const givenUp: string[] = [];
  const supervisor = new Supervisor({ logger, initialBackoffMs: 200, onGiveUp: (name) => givenUp.push(name) });
  const worker = nodeChild('worker', SLEEPER);
  const api = nodeChild('api', SLEEPER);
  const firstWorker = await supervisor.add(worker.spec);
  const apiProcess = await supervisor.add(api.spec);
  try {
    process.kill(firstWorker.pid!, 'SIGKILL');
    const restarted = await waitFor(async () => {
      const current = supervisor.current('worker');
      return current && current !== firstWorker && current.running ? current : undefined;
    }, 10_000);
    expect(restarted.pid).not.toBe(firstWorker.pid);
    expect(worker.starts).toBe(2);
    expect(entries.map((entry) => [entry.level, entry.msg])).toEqual([
      ['error', expect.stringMatching(/^worker exited unexpectedly \(killed by SIGKILL after 0 s\)$/)],
      ['warn', 'restarting worker in 200 ms'],
      ['info', 'worker restarted'],
    ]);
    expect(entries[1]!.obj).toMatchObject({ child: 'worker', delay_ms: 200, failures_in_a_row: 1 });
    // The API was never touched.
    expect(supervisor.current('api')).toBe(apiProcess);
    expect(apiProcess.running).toBe(true);
    expect(api.starts).toBe(1);
    expect(givenUp).toEqual([]);
  } finally {
    await supervisor.stopAll(['api', 'worker']);
  }
});

test('a child that exits at once is given up after 5 fast failures, with backoffs doubling and its exit code named', async () => {
  const { entries, logger } = recordingLogger();
  let gaveUp: { name: string; reason: string } | undefined;
  const supervisor = new Supervisor({
    logger,
    initialBackoffMs: 50,
    onGiveUp: (name, reason) => (gaveUp = { name, reason }),
  });
  const broken = nodeChild('worker', "console.error('cannot reach Temporal'); process.exit(3)");
  await supervisor.add(broken.spec);
  const result = await waitFor(async () => gaveUp, 20_000);
  expect(result.name).toBe('worker');
  expect(result.reason).toMatch(
    /^worker failed 5 times in a row, each within 60 s of starting; last: exit code 3 after \d+ s$/,
  );
  expect(broken.starts).toBe(5);
  expect(entries.filter((entry) => entry.level === 'warn').map((entry) => entry.obj.delay_ms)).toEqual([
    50, 100, 200, 400,
  ]);
  // Each crash is logged with what the child said last.
  const crashes = entries.filter((entry) => entry.level === 'error');
  expect(crashes).toHaveLength(5);
  expect(crashes[0]!.obj).toMatchObject({ child: 'worker', code: 3, output: 'cannot reach Temporal' });
});

test('a child that ran longer than the stable time before dying starts its failure count again', async () => {
  const { entries, logger } = recordingLogger();
  const givenUp: string[] = [];
  const supervisor = new Supervisor({
    logger,
    initialBackoffMs: 50,
    stableAfterMs: 200,
    maxFastFailures: 2,
    onGiveUp: (name) => givenUp.push(name),
  });
  const flaky = nodeChild('temporal', 'setTimeout(() => process.exit(1), 600)');
  await supervisor.add(flaky.spec);
  try {
    await waitFor(async () => (flaky.starts >= 4 ? true : undefined), 20_000);
    expect(givenUp).toEqual([]);
    const restarts = entries.filter((entry) => entry.level === 'warn');
    expect(restarts.length).toBeGreaterThanOrEqual(3);
    for (const restart of restarts) expect(restart.obj).toMatchObject({ delay_ms: 50, failures_in_a_row: 1 });
  } finally {
    await supervisor.stopAll(['temporal']);
  }
});

test('stopAll stops the children in the given order and restarts none of them', async () => {
  const { entries, logger } = recordingLogger();
  const supervisor = new Supervisor({ logger, initialBackoffMs: 50, onGiveUp: () => undefined });
  const order: string[] = [];
  const children = ['postgres', 'temporal', 'worker', 'api'].map((name) => nodeChild(name, SLEEPER));
  const processes = [];
  for (const child of children) processes.push(await supervisor.add(child.spec));
  await supervisor.stopAll(['api', 'worker', 'temporal', 'postgres'], (name) => order.push(name));
  expect(order).toEqual(['api', 'worker', 'temporal', 'postgres']);
  expect(processes.every((child) => !child.running)).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(children.map((child) => child.starts)).toEqual([1, 1, 1, 1]);
  expect(entries).toEqual([]);
});
