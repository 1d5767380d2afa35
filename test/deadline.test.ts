import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { createTimeSkippingEnv, uniqueTaskQueue } from './helpers/temporal';
import { deadlineProbe, moveUpdate, releaseUpdate, wakesQuery, type ProbeInput } from './workflows/deadline-probe';

const DAY = 24 * 60 * 60 * 1000;

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('deadline');

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows/deadline-probe'),
    logger: new DefaultLogger('WARN'),
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    workflowBundle,
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

const start = (input: ProbeInput) =>
  env.client.workflow.start(deadlineProbe, { taskQueue, workflowId: uniqueTaskQueue('probe'), args: [input] });

/** Waits (in real time) until the probe has recorded `count` wakes. */
async function wakesOf(handle: Awaited<ReturnType<typeof start>>, count: number) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const wakes = await handle.query(wakesQuery);
    if (wakes.length >= count) return wakes;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the probe did not wake ${count} times`);
}

test('a sleep ends when its instant comes, not before', async () => {
  const at = (await env.currentTimeMs()) + 30 * DAY;
  const handle = await start({ at, wakes: 1 });
  await env.sleep(30 * DAY - 1000);
  expect(await handle.query(wakesQuery)).toEqual([]);
  const [wake] = await handle.result();
  expect(wake).toEqual({ reached: true, at: expect.any(Number) });
  expect(wake!.at).toBeGreaterThanOrEqual(at);
});

test('a moved instant wakes the sleeper, which then sleeps until the new one: the old one passes without effect', async () => {
  const now = await env.currentTimeMs();
  const handle = await start({ at: now + 10 * DAY, wakes: 2 });
  await env.sleep(DAY);
  await handle.executeUpdate(moveUpdate, { args: [now + 20 * DAY] });
  const [moved] = await wakesOf(handle, 1);
  expect(moved).toEqual({ reached: false, at: expect.any(Number) });
  expect(moved!.at).toBeLessThan(now + 10 * DAY);
  await env.sleep(15 * DAY);
  expect(await handle.query(wakesQuery)).toHaveLength(1);
  const [, reached] = await handle.result();
  expect(reached!.reached).toBe(true);
  expect(reached!.at).toBeGreaterThanOrEqual(now + 20 * DAY);
});

test('a cancelled instant sleeps without a timer until an instant is set again', async () => {
  const now = await env.currentTimeMs();
  const handle = await start({ at: now + 10 * DAY, wakes: 3 });
  await env.sleep(DAY);
  await handle.executeUpdate(moveUpdate, { args: [null] });
  await wakesOf(handle, 1);
  await env.sleep(60 * DAY);
  expect(await handle.query(wakesQuery)).toHaveLength(1);
  const later = (await env.currentTimeMs()) + 5 * DAY;
  await handle.executeUpdate(moveUpdate, { args: [later] });
  const wakes = await handle.result();
  expect(wakes.map((wake) => wake.reached)).toEqual([false, false, true]);
  expect(wakes[2]!.at).toBeGreaterThanOrEqual(later);
  const timers = (await handle.fetchHistory()).events?.filter((event) => event.timerStartedEventAttributes) ?? [];
  expect(timers).toHaveLength(2);
});

test('a move made while the sleeper acts wakes its next sleep at once, unless it settles first', async () => {
  for (const settle of [false, true]) {
    const now = await env.currentTimeMs();
    const handle = await start({ at: now + DAY, wakes: 2, settle, holdAfterReached: true });
    await env.sleep(2 * DAY);
    await wakesOf(handle, 1);
    await handle.executeUpdate(moveUpdate, { args: [now + 10 * DAY] });
    await handle.executeUpdate(releaseUpdate);
    const wakes = await handle.result();
    expect(wakes.map((wake) => wake.reached)).toEqual(settle ? [true, true] : [true, false]);
    expect(wakes[1]!.at).toBeGreaterThanOrEqual(settle ? now + 10 * DAY : now + DAY);
    expect(wakes[1]!.at < now + 10 * DAY).toBe(!settle);
  }
});
