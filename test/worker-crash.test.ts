import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { inArray } from 'drizzle-orm';
import { schema } from '../db';
import { buildTestApi, type TestApi } from './helpers/api';
import { createDevServerEnv } from './helpers/temporal';
import { waitFor } from './helpers/wait';
import { approveDocuments, startWorkerProcess } from './helpers/worker-process';

/**
 * A worker process killed with SIGKILL (an OOM kill, a crashed host) leaves no goodbye: /health must
 * notice on its own, and documents that fell due while it was dead must not wait out an activity
 * timeout once a worker is back.
 */
jest.setTimeout(300_000);

let env: TestWorkflowEnvironment;
let api: TestApi;
let dataDir: string;

beforeAll(async () => {
  env = await createDevServerEnv();
  api = await buildTestApi({ temporalAddress: env.address, namespace: 'edms' });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'edms-worker-crash-'));
});
afterAll(async () => {
  await api?.close();
  await env?.teardown();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const startWorker = () => startWorkerProcess(env, dataDir);

const health = async () => {
  const response = await api.app.inject({ url: '/health' });
  return { status: response.statusCode, body: response.json() };
};

const approve = (count: number, effectiveAt: number) => approveDocuments(api, count, effectiveAt);

const statuses = async (ids: string[]) =>
  (await api.database.db.select().from(schema.documents).where(inArray(schema.documents.id, ids))).map(
    (row) => row.status,
  );

/** Polls until every document is EFFECTIVE; returns when that was seen. */
const allEffective = (ids: string[]) =>
  waitFor(
    async () => ((await statuses(ids)).every((status) => status === 'EFFECTIVE') ? Date.now() : undefined),
    90_000,
    100,
  );

const documentsQueue = async () => (await health()).body.components.workers.task_queues.documents;

test('a worker killed with SIGKILL is seen dead by /health within 15 s, and documents that fell due meanwhile are EFFECTIVE within 10 s of its return', async () => {
  let worker = await startWorker();
  try {
    // Only the documents queue is polled here, so the report as a whole stays 503.
    await waitFor(async () => ((await documentsQueue()).status === 'up' ? true : undefined), 30_000, 250);

    const dueAt = Date.now() + 15_000;
    const ids = await approve(3, dueAt);
    const killedAt = Date.now();
    await worker.stop('SIGKILL');

    const seenDownAt = await waitFor(
      async () => ((await documentsQueue()).status === 'down' ? Date.now() : undefined),
      20_000,
      250,
    );
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.components.workers.task_queues.documents).toMatchObject({ status: 'down', live_workers: 0 });
    expect(seenDownAt - killedAt).toBeLessThan(15_000);
    process.stdout.write(
      `/health saw the killed worker after ${seenDownAt - killedAt} ms; Temporal still listed ` +
        `${down.body.components.workers.task_queues.documents.workflow_pollers} workflow poller(s)\n`,
    );

    // The due instant passes while no worker runs.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt + 1000 - Date.now())));
    expect(await statuses(ids)).toEqual(ids.map(() => 'APPROVED_PENDING_EFFECTIVE'));

    worker = await startWorker();
    const returnedAt = Date.now();
    const effectiveAt = await allEffective(ids);
    process.stdout.write(
      `worker dead for ${returnedAt - killedAt} ms; documents due meanwhile EFFECTIVE ${effectiveAt - returnedAt} ms after its return\n`,
    );
    expect(effectiveAt - returnedAt).toBeLessThan(10_000);
  } finally {
    await worker.stop('SIGKILL');
  }
});

test('a worker killed in the middle of making a document EFFECTIVE: the next worker finishes it within 10 s of its return, not after a 30 s activity timeout', async () => {
  let worker = await startWorker();
  const locker = await api.database.sql.reserve();
  try {
    await waitFor(async () => ((await documentsQueue()).status === 'up' ? true : undefined), 30_000, 250);
    const dueAt = Date.now() + 8000;
    const [id] = await approve(1, dueAt);
    // Holding the document's row makes the worker's transition wait inside its activity.
    await locker`begin`;
    await locker`select 1 from documents where id = ${id!} for update`;
    const activityStartedAt = await waitFor(
      async () => {
        const waiting = await api.database.sql`
          select 1 from pg_stat_activity where application_name = 'edms-worker' and wait_event_type = 'Lock'`;
        return waiting.length > 0 ? Date.now() : undefined;
      },
      30_000,
      100,
    );
    const killedAt = Date.now();
    await worker.stop('SIGKILL');
    await locker`rollback`;
    expect(await statuses([id!])).toEqual(['APPROVED_PENDING_EFFECTIVE']);

    worker = await startWorker();
    const returnedAt = Date.now();
    const effectiveAt = await allEffective([id!]);
    process.stdout.write(
      `activity started ${killedAt - activityStartedAt} ms before the kill; worker dead for ${returnedAt - killedAt} ms; ` +
        `EFFECTIVE ${effectiveAt - returnedAt} ms after its return (${effectiveAt - activityStartedAt} ms after the activity started)\n`,
    );
    expect(effectiveAt - returnedAt).toBeLessThan(10_000);
  } finally {
    locker.release();
    await worker.stop('SIGKILL');
  }
});
