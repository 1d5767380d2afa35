import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { DEFAULT_JOB_RETRY_POLICY, type JobOverlapPolicy } from '../common';
import { schema } from '../db';
import { schedulerJob } from '../workflows';
import { recordHistories } from './helpers/histories';
import { uniqueTaskQueue, withWorker } from './helpers/temporal';
import { waitFor } from './helpers/wait';
import { useTimeSkipping } from './helpers/suite';

const { schedulerJobs, schedulerJobExecutions, schedulerJobRunSlots } = schema;

/**
 * The job run slot seen from the workflow (time-skipping server): a run that finds another run of
 * its job working is skipped (`skip`) or waits for it (`buffer_one`), and a holder that was
 * terminated without giving the slot back does not block the job. Also records replay fixtures.
 */
const suite = useTimeSkipping();
let hooks: http.Server;
let hookUrl: string;
let calls = 0;
/** While true the endpoint answers nobody: the run that called it keeps working (and holding its slot). */
let holding = false;
const held: http.ServerResponse[] = [];
const answer = (response: http.ServerResponse) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end('{"ok":true}');
};

beforeAll(async () => {
  hooks = http.createServer((_request, response) => {
    calls++;
    if (holding) held.push(response);
    else answer(response);
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  hooks?.closeAllConnections();
  await new Promise((resolve) => hooks?.close(resolve));
});

async function insertJob(overlap: JobOverlapPolicy) {
  const [job] = await suite.database.db
    .insert(schedulerJobs)
    .values({
      name: `slot-${randomUUID().slice(0, 8)}`,
      templateType: 'webhook_trigger',
      parameters: { url: hookUrl, method: 'POST' },
      timeoutSeconds: 60,
      retryPolicy: DEFAULT_JOB_RETRY_POLICY,
      notifications: { on_failure: [], on_success: [] },
      schedule: { interval_seconds: 3600 },
      overlap,
      createdBy: 'alice',
    })
    .returning();
  return job!;
}

async function jobWithHeldSlot(overlap: JobOverlapPolicy) {
  const job = await insertJob(overlap);
  // A run of the job that nobody works on (no worker polls its queue) holds the slot.
  const holder = await suite.env.client.workflow.start(schedulerJob, {
    taskQueue: `nobody-${randomUUID()}`,
    workflowId: `job-${job.id}-holder`,
    args: [{ jobId: job.id, trigger: 'manual', triggeredBy: 'bob' }],
  });
  await suite.database.db
    .insert(schedulerJobRunSlots)
    .values({ jobId: job.id, workflowId: holder.workflowId, runId: holder.firstExecutionRunId });
  return { job, holder };
}

const executionsOf = (jobId: string) =>
  suite.database.db.select().from(schedulerJobExecutions).where(eq(schedulerJobExecutions.jobId, jobId));
const slotOf = async (jobId: string) =>
  (await suite.database.db.select().from(schedulerJobRunSlots).where(eq(schedulerJobRunSlots.jobId, jobId)))[0];

test('a scheduled run of a skip job while another run holds the slot is one skipped execution and nothing else', async () => {
  const { job, holder } = await jobWithHeldSlot('skip');
  const taskQueue = uniqueTaskQueue('slot');
  const before = calls;
  const outcome = await withWorker(suite.env, { taskQueue, database: suite.database, queueKind: 'scheduler' }, () =>
    suite.env.client.workflow.execute(schedulerJob, {
      taskQueue,
      workflowId: 'scheduler-job-skipped-by-slot',
      args: [{ jobId: job.id, trigger: 'schedule' }],
    }),
  );
  const rows = await executionsOf(job.id);
  expect(outcome).toEqual({
    jobId: job.id,
    status: 'skipped',
    attempts: 0,
    executionIds: [rows[0]!.id],
    summary: `Skipped: a run of ${job.name} was in progress (${holder.workflowId})`,
  });
  expect(rows).toEqual([
    expect.objectContaining({
      status: 'skipped',
      attempt: 1,
      trigger: 'schedule',
      triggeredBy: 'schedule',
      workflowId: 'scheduler-job-skipped-by-slot',
      result: expect.objectContaining({ skipped: true, running_workflow_id: holder.workflowId }),
    }),
  ]);
  expect(calls).toBe(before);
  expect(await slotOf(job.id)).toMatchObject({ workflowId: holder.workflowId });
  await recordHistories(suite.env, { 'scheduler-job-skipped-by-slot': 'scheduler-job-skipped-by-slot' });
});

test('a buffer_one run waits for the run holding the slot, is handed it when that run ends, and a third run meanwhile is skipped', async () => {
  const job = await insertJob('buffer_one');
  const taskQueue = uniqueTaskQueue('slot');
  const before = calls;
  holding = true;
  const outcome = await withWorker(
    suite.env,
    { taskQueue, database: suite.database, queueKind: 'scheduler' },
    async () => {
      const first = await suite.env.client.workflow.start(schedulerJob, {
        taskQueue,
        workflowId: `job-${job.id}-first`,
        args: [{ jobId: job.id, trigger: 'manual', triggeredBy: 'bob' }],
      });
      await waitFor(async () => (held.length === 1 ? true : undefined));
      const waiting = await suite.env.client.workflow.start(schedulerJob, {
        taskQueue,
        workflowId: 'scheduler-job-buffered',
        args: [{ jobId: job.id, trigger: 'schedule' }],
      });
      await waitFor(async () => ((await slotOf(job.id))?.waitingWorkflowId === waiting.workflowId ? true : undefined));
      const third = await suite.env.client.workflow.execute(schedulerJob, {
        taskQueue,
        workflowId: `job-${job.id}-third`,
        args: [{ jobId: job.id, trigger: 'schedule' }],
      });
      expect(third).toMatchObject({ status: 'skipped', attempts: 0 });
      expect(calls).toBe(before + 1);

      // The first run ends and hands the slot over; the waiting run is woken by it, not by its own timer.
      holding = false;
      for (const response of held.splice(0)) answer(response);
      expect(await first.result()).toMatchObject({ status: 'completed' });
      return waiting.result();
    },
  );
  expect(outcome).toMatchObject({ status: 'completed', attempts: 1 });
  expect(calls).toBe(before + 2);
  const rows = await executionsOf(job.id);
  expect(Object.fromEntries(rows.map((row) => [row.workflowId, row.status]))).toEqual({
    [`job-${job.id}-first`]: 'completed',
    'scheduler-job-buffered': 'completed',
    [`job-${job.id}-third`]: 'skipped',
  });
  const first = rows.find((row) => row.workflowId === `job-${job.id}-first`)!;
  const buffered = rows.find((row) => row.workflowId === 'scheduler-job-buffered')!;
  expect(buffered.startedAt.getTime()).toBeGreaterThanOrEqual(first.completedAt!.getTime());
  expect(await slotOf(job.id)).toBeUndefined();
  await recordHistories(suite.env, { 'scheduler-job-buffered': 'scheduler-job-buffered' });
});
