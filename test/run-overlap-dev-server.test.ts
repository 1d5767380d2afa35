import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { jobScheduleId } from '../common';
import { schema } from '../db';
import { SYSTEM_SCHEDULES, syncSchedules } from '../schedules/system-schedules';
import { useDevServerApi } from './helpers/suite';
import { TEST_JOB_SETTINGS, withQueueWorkers, triggerScheduleFromCli } from './helpers/temporal';
import { waitFor } from './helpers/wait';

const { schedulerJobExecutions, schedulerJobRunSlots, backupRuns, auditTrail } = schema;

/**
 * One overlap rule whoever starts a job's run (its schedule, `temporal schedule trigger`, a run-now),
 * one manual run of a system task at a time, one backup of a configuration at a time, and runs left
 * `running` by terminated workflows reconciled. Schedules need the dev server.
 */
let admin: { authorization: string; username: string };

/**
 * A webhook endpoint that holds every request until the test lets it go, counting how many it holds
 * at once: two runs of one job overlapping would show as two at once.
 */
const endpoint = {
  server: http.createServer(),
  held: [] as http.ServerResponse[],
  received: 0,
  mostAtOnce: 0,
  url: '',
  release() {
    for (const response of endpoint.held.splice(0)) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"received":true}');
    }
  },
  reset() {
    endpoint.release();
    endpoint.received = 0;
    endpoint.mostAtOnce = 0;
  },
};

// Its webhook jobs call a loopback server, as TEST_JOB_SETTINGS lets the workers do.
const suite = useDevServerApi({ outboundPolicy: TEST_JOB_SETTINGS.outboundPolicy });

beforeAll(async () => {
  admin = await suite.api.as('admin');
  endpoint.server.on('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
    endpoint.received++;
    endpoint.held.push(response);
    endpoint.mostAtOnce = Math.max(endpoint.mostAtOnce, endpoint.held.length);
    response.on('close', () => {
      const index = endpoint.held.indexOf(response);
      if (index >= 0) endpoint.held.splice(index, 1);
    });
  });
  await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(endpoint.server.address() as AddressInfo).port}/hold`;
});
beforeEach(() => endpoint.reset());
afterAll(async () => {
  endpoint.release();
  endpoint.server.closeAllConnections();
  await new Promise((resolve) => endpoint.server.close(resolve));
});

type Method = 'GET' | 'POST' | 'DELETE';
const call = (method: Method, url: string, payload?: unknown) =>
  suite.api.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: admin.authorization },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

async function createJob(fields: Record<string, unknown>) {
  const response = await call('POST', '/scheduler-jobs', {
    name: `overlap-${randomUUID().slice(0, 8)}`,
    template_type: 'webhook_trigger',
    parameters: { url: endpoint.url, method: 'POST', timeout_seconds: 180 },
    schedule: { cron: '0 3 1 1 *' },
    timezone: 'UTC',
    retry_policy: { max_attempts: 1, initial_interval_seconds: 1, backoff_coefficient: 1 },
    ...fields,
  });
  expect(response.statusCode).toBe(201);
  return response.json() as { id: string; name: string };
}

const executionsOf = async (jobId: string) =>
  (await call('GET', `/scheduler-jobs/${jobId}/executions?limit=50`)).json().executions as {
    status: string;
    triggered_by: string;
    workflow_id: string;
    attempt: number;
    result: Record<string, unknown> | null;
    error: string | null;
    started_at: string;
    completed_at: string | null;
  }[];

const heldRequests = (count: number) =>
  waitFor(async () => (endpoint.held.length === count ? true : undefined), 30_000, 50);

test.each(['skip', 'buffer_one'])(
  'two run-nows at once on an idle %s job: one 202, the other 409 job_running, and only one run',
  async (overlap) => {
    const job = await createJob({ overlap });
    await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
      const answers = await Promise.all([
        call('POST', `/scheduler-jobs/${job.id}/run`, {}),
        call('POST', `/scheduler-jobs/${job.id}/run`, {}),
      ]);
      expect(answers.map((answer) => answer.statusCode).sort()).toEqual([202, 409]);
      const started = answers.find((answer) => answer.statusCode === 202)!.json();
      const refused = answers.find((answer) => answer.statusCode === 409)!.json();
      expect(refused.error).toMatchObject({
        code: 'job_running',
        details: { overlap, running_workflow_id: started.workflow_id },
      });
      await heldRequests(1);
      const [slot] = await suite.api.database.db
        .select()
        .from(schedulerJobRunSlots)
        .where(eq(schedulerJobRunSlots.jobId, job.id));
      expect(slot).toMatchObject({ workflowId: started.workflow_id, runId: started.run_id });

      endpoint.release();
      const executions = await waitFor(async () => {
        const rows = await executionsOf(job.id);
        return rows.length === 1 && rows[0]!.status === 'completed' ? rows : undefined;
      });
      expect(executions[0]).toMatchObject({
        workflow_id: started.workflow_id,
        triggered_by: `manual:${admin.username}`,
      });
      expect(endpoint.received).toBe(1);
      // The run gave its slot back: the job is free for the next run.
      await waitFor(async () => {
        const rows = await suite.api.database.db
          .select()
          .from(schedulerJobRunSlots)
          .where(eq(schedulerJobRunSlots.jobId, job.id));
        return rows.length === 0 ? true : undefined;
      });
    });
  },
);

test('a run-now still working when its skip job is due: the scheduled run is recorded skipped and never overlaps', async () => {
  // The job fires every minute; start early enough in a minute that the run-now comes first.
  if (new Date().getUTCSeconds() > 50) await new Promise((resolve) => setTimeout(resolve, 11_000));
  const job = await createJob({ overlap: 'skip', schedule: { cron: '* * * * *' } });
  await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
    const started = await call('POST', `/scheduler-jobs/${job.id}/run`, {});
    expect(started.statusCode).toBe(202);
    const manualId = started.json().workflow_id as string;
    await heldRequests(1);

    const skipped = await waitFor(
      async () => (await executionsOf(job.id)).find((row) => row.status === 'skipped'),
      80_000,
      500,
    );
    expect(skipped).toMatchObject({
      triggered_by: 'schedule',
      attempt: 1,
      workflow_id: expect.stringMatching(new RegExp(`^job-${job.id}-`)),
      result: { skipped: true, running_workflow_id: manualId },
    });
    expect(endpoint.received).toBe(1);
    expect(endpoint.mostAtOnce).toBe(1);

    // Stop the schedule before letting the manual run finish, so nothing else starts.
    expect((await call('POST', `/scheduler-jobs/${job.id}/pause`, { note: 'test over' })).statusCode).toBe(200);
    endpoint.release();
    const manual = await waitFor(async () =>
      (await executionsOf(job.id)).find((row) => row.workflow_id === manualId && row.status === 'completed'),
    );
    expect(manual.triggered_by).toBe(`manual:${admin.username}`);
    const audit = await suite.api.database.db
      .select({ action: auditTrail.action, details: auditTrail.details })
      .from(auditTrail)
      .where(and(eq(auditTrail.entityId, job.id), eq(auditTrail.action, 'JOB_EXECUTION_SKIPPED')));
    expect(audit).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ running_workflow_id: manualId }) }),
    ]);
    const stats = (await call('GET', '/scheduler-jobs/stats')).json();
    expect(stats.recent_failures.map((row: { workflow_id: string }) => row.workflow_id)).not.toContain(
      skipped.workflow_id,
    );
  });
}, 150_000);

test('under buffer_one a cli trigger during a run-now waits for it and runs after; a second one meanwhile is skipped', async () => {
  const job = await createJob({ overlap: 'buffer_one' });
  await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
    const started = await call('POST', `/scheduler-jobs/${job.id}/run`, {});
    expect(started.statusCode).toBe(202);
    await heldRequests(1);

    await triggerScheduleFromCli(suite.env, jobScheduleId(job.id));
    const waiting = await waitFor(async () => {
      const [slot] = await suite.api.database.db
        .select()
        .from(schedulerJobRunSlots)
        .where(eq(schedulerJobRunSlots.jobId, job.id));
      return slot?.waitingWorkflowId ? slot : undefined;
    });
    expect(waiting.workflowId).toBe(started.json().workflow_id);
    // The slot records the waiter as the claim returns; the run says so once it has taken the answer.
    const waiter = suite.env.client.workflow.getHandle(waiting.waitingWorkflowId!);
    const state = await waitFor(async () => {
      const now = await waiter.query<{ status: string }>('jobRunState');
      return now.status === 'planning' ? undefined : now;
    });
    expect(state).toMatchObject({ status: 'waiting_for_previous_run' });

    // A schedule names its runs by the second they start in: trigger again in a later second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Temporal's own overlap policy would drop this trigger; ALLOW_ALL lets it reach the job's rule.
    await suite.env.client.schedule.getHandle(jobScheduleId(job.id)).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
    const skipped = await waitFor(async () => (await executionsOf(job.id)).find((row) => row.status === 'skipped'));
    expect(skipped).toMatchObject({ triggered_by: 'cli', result: { skipped: true } });
    expect(endpoint.received).toBe(1);

    endpoint.release();
    await heldRequests(1);
    expect(endpoint.mostAtOnce).toBe(1);
    // Now the cli-started run holds the slot: a run-now meets it like any other run.
    const refused = await call('POST', `/scheduler-jobs/${job.id}/run`, {});
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'job_running',
      details: { overlap: 'buffer_one', running_workflow_id: waiting.waitingWorkflowId },
    });
    endpoint.release();
    const rows = await waitFor(async () => {
      const all = await executionsOf(job.id);
      return all.filter((row) => row.status === 'completed').length === 2 ? all : undefined;
    });
    const manual = rows.find((row) => row.triggered_by.startsWith('manual:'))!;
    const buffered = rows.find((row) => row.workflow_id === waiting.waitingWorkflowId)!;
    expect(buffered).toMatchObject({ status: 'completed', triggered_by: 'cli' });
    expect(new Date(buffered.started_at).getTime()).toBeGreaterThanOrEqual(new Date(manual.completed_at!).getTime());
    expect(endpoint.received).toBe(2);
  });
}, 90_000);

test('two manual triggers of one system task at once: one runs, the other is a 409 task_running', async () => {
  const trigger = () => call('POST', '/scheduler/monitoring/manual-trigger/', { task_name: 'check_workflow_timeouts' });
  // No worker yet: the first run stays open, so the second certainly meets it.
  const first = trigger();
  const second = trigger();
  const refused = await Promise.race([first, second]);
  expect(refused.statusCode).toBe(409);
  expect(refused.json().error).toMatchObject({
    code: 'task_running',
    details: { task_name: 'check_workflow_timeouts', workflow_id: 'manual-check-workflow-timeouts' },
  });
  await suite.env.client.workflow.getHandle('manual-check-workflow-timeouts').terminate('test: no worker');
  const answered = await Promise.all([first, second]);
  expect(answered.map((answer) => answer.statusCode).sort()).toEqual([200, 409]);
  expect(answered.find((answer) => answer.statusCode === 200)!.json()).toMatchObject({ success: false });

  // Once that run is over the task may be triggered again.
  await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
    const again = await trigger();
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ success: true, workflow_id: 'manual-check-workflow-timeouts' });
  });
});

test('two backups of one configuration at once: one 202, the other 409 backup_in_progress', async () => {
  const answers = await Promise.all([
    call('POST', '/backups', { config: 'on-demand-full' }),
    call('POST', '/backups', { config: 'on-demand-full' }),
  ]);
  expect(answers.map((answer) => answer.statusCode).sort()).toEqual([202, 409]);
  const refused = answers.find((answer) => answer.statusCode === 409)!.json();
  expect(refused.error).toMatchObject({
    code: 'backup_in_progress',
    details: { workflow_id: 'backup-on-demand-full' },
  });
  // No worker polls maintenance here: end the backup that was started.
  await suite.env.client.workflow.getHandle('backup-on-demand-full').terminate('test: no worker');
});

/** A workflow nobody works on (no worker polls its queue), open until terminated. */
const stuckWorkflow = (type: string, workflowId: string, args: unknown[]) =>
  suite.env.client.workflow.start(type, { taskQueue: `nobody-${randomUUID()}`, workflowId, args });

async function stuckJobExecution(job: { id: string; name: string }) {
  const handle = await stuckWorkflow('schedulerJob', `job-${job.id}-stuck-${randomUUID().slice(0, 8)}`, [
    { jobId: job.id, trigger: 'manual', triggeredBy: 'test' },
  ]);
  const [row] = await suite.api.database.db
    .insert(schedulerJobExecutions)
    .values({
      jobId: job.id,
      jobName: job.name,
      templateType: 'webhook_trigger',
      attempt: 1,
      trigger: 'manual',
      triggeredBy: 'manual:test',
      workflowId: handle.workflowId,
      runId: handle.firstExecutionRunId,
    })
    .returning();
  return { handle, row: row! };
}

test('a job execution and a backup run whose workflow was terminated by hand are marked failed with the reason and stop counting as running', async () => {
  const job = await createJob({ overlap: 'allow_all' });
  const { handle: jobRun, row: execution } = await stuckJobExecution(job);
  const backupRun = await stuckWorkflow('backup', `backup-reconcile-${randomUUID().slice(0, 8)}`, [{}]);
  const [backup] = await suite.api.database.db
    .insert(backupRuns)
    .values({
      backupType: 'full',
      workflowId: backupRun.workflowId,
      workflowRunId: backupRun.firstExecutionRunId,
      triggeredBy: 'test',
    })
    .returning();

  // While the workflows are open the rows are runs in progress.
  const before = (await call('GET', '/scheduler-jobs/stats')).json();
  expect(before.running_now).toBeGreaterThanOrEqual(1);
  const [stillRunning] = await suite.api.database.db
    .select()
    .from(schedulerJobExecutions)
    .where(eq(schedulerJobExecutions.id, execution.id));
  expect(stillRunning!.status).toBe('running');

  await jobRun.terminate('operator gave up on it');
  await backupRun.terminate('disk full, killed by ops');

  const after = (await call('GET', '/scheduler-jobs/stats')).json();
  expect(after.running_now).toBe(before.running_now - 1);
  const [failed] = await suite.api.database.db
    .select()
    .from(schedulerJobExecutions)
    .where(eq(schedulerJobExecutions.id, execution.id));
  expect(failed).toMatchObject({ status: 'failed', error: 'workflow terminated: operator gave up on it' });
  expect(failed!.completedAt).toBeInstanceOf(Date);
  const executions = await executionsOf(job.id);
  expect(executions[0]).toMatchObject({ status: 'failed', error: 'workflow terminated: operator gave up on it' });

  expect((await call('GET', '/scheduler/monitoring/status/')).statusCode).toBe(200);
  const [backupAfter] = await suite.api.database.db.select().from(backupRuns).where(eq(backupRuns.id, backup!.id));
  expect(backupAfter).toMatchObject({ status: 'failed', error: 'workflow terminated: disk full, killed by ops' });
  const audit = await suite.api.database.db
    .select({ action: auditTrail.action, details: auditTrail.details })
    .from(auditTrail)
    .where(eq(auditTrail.entityId, backup!.id));
  expect(audit).toEqual([
    expect.objectContaining({
      action: 'BACKUP_FAILED',
      details: expect.objectContaining({ error: 'workflow terminated: disk full, killed by ops', reconciled: true }),
    }),
  ]);
});

test('cleanup_workflow_tasks reconciles runs left by terminated workflows; its dry run only lists them', async () => {
  const job = await createJob({ overlap: 'allow_all' });
  const { handle, row } = await stuckJobExecution(job);
  await handle.terminate('stuck on a dead host');
  const statusOf = async () =>
    (
      await suite.api.database.db
        .select({ status: schedulerJobExecutions.status, error: schedulerJobExecutions.error })
        .from(schedulerJobExecutions)
        .where(eq(schedulerJobExecutions.id, row.id))
    )[0];
  await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
    const trigger = (dryRun: boolean) =>
      call('POST', '/scheduler/monitoring/manual-trigger/', { task_name: 'cleanup_workflow_tasks', dry_run: dryRun });
    const dry = await trigger(true);
    expect(dry.statusCode).toBe(200);
    expect(dry.json().result.abandoned_runs).toMatchObject({ dry_run: true });
    expect(dry.json().result.abandoned_runs.job_executions).toContainEqual({
      id: row.id,
      workflow_id: handle.workflowId,
      reason: 'workflow terminated: stuck on a dead host',
    });
    expect(await statusOf()).toEqual({ status: 'running', error: null });

    const real = await trigger(false);
    expect(real.json().result.abandoned_runs.job_executions).toContainEqual({
      id: row.id,
      workflow_id: handle.workflowId,
      reason: 'workflow terminated: stuck on a dead host',
    });
    expect(await statusOf()).toEqual({ status: 'failed', error: 'workflow terminated: stuck on a dead host' });
  });
});

test('a run-now takes over the slot of a run that was terminated without giving it back', async () => {
  const job = await createJob({ overlap: 'skip' });
  const { handle } = await stuckJobExecution(job);
  // The stuck run holds the slot as a real run would.
  await suite.api.database.db
    .insert(schedulerJobRunSlots)
    .values({ jobId: job.id, workflowId: handle.workflowId, runId: handle.firstExecutionRunId });
  const refused = await call('POST', `/scheduler-jobs/${job.id}/run`, {});
  expect(refused.statusCode).toBe(409);
  expect(refused.json().error.code).toBe('job_running');

  await handle.terminate('operator gave up on it');
  await withQueueWorkers(suite.env, { database: suite.api.database }, async () => {
    const started = await call('POST', `/scheduler-jobs/${job.id}/run`, {});
    expect(started.statusCode).toBe(202);
    await heldRequests(1);
    endpoint.release();
    await waitFor(async () =>
      (await executionsOf(job.id)).find(
        (row) => row.workflow_id === started.json().workflow_id && row.status === 'completed',
      ),
    );
  });
});

test('the monitoring status lists all 13 schedules, the three backup schedules included, with next runs and pause state', async () => {
  await syncSchedules(suite.env.client, 'UTC');
  await suite.env.client.schedule.getHandle('backup-weekly-export').pause('paused by qa: storage migration');
  try {
    const response = await call('GET', '/scheduler/monitoring/status/');
    expect(response.statusCode).toBe(200);
    const { schedules } = response.json() as {
      schedules: {
        schedule_id: string;
        task_name: string;
        paused: boolean;
        note: string | null;
        exists: boolean;
        next_run_times: string[];
      }[];
    };
    expect(schedules.map((s) => s.schedule_id)).toEqual(SYSTEM_SCHEDULES.map((s) => s.scheduleId));
    expect(schedules).toHaveLength(13);
    for (const schedule of schedules) {
      expect(schedule).toMatchObject({ exists: true });
      expect(schedule.next_run_times).toHaveLength(3);
    }
    const byId = Object.fromEntries(schedules.map((s) => [s.schedule_id, s]));
    expect(byId['backup-weekly-export']).toMatchObject({
      task_name: 'run_scheduled_backup',
      paused: true,
      note: 'paused by qa: storage migration',
    });
    expect(byId['backup-monthly-archive']).toMatchObject({ task_name: 'run_scheduled_backup', paused: false });
    for (const at of byId['backup-monthly-archive']!.next_run_times) {
      expect(at).toMatch(/^\d{4}-\d{2}-01T04:00:00\.000Z$/);
    }
    for (const at of byId['backup-weekly-export']!.next_run_times) {
      expect(new Date(at).getUTCDay()).toBe(0);
      expect(at).toMatch(/T03:00:00\.000Z$/);
    }
    expect(byId['backup-daily-full']).toMatchObject({ task_name: 'run_scheduled_backup', paused: false });
  } finally {
    await suite.env.client.schedule.getHandle('backup-weekly-export').unpause();
  }
  // The OpenAPI document tells clients about both.
  const docs = (await suite.api.app.inject({ url: '/docs/json' })).json();
  expect(Object.keys(docs.paths['/api/v1/scheduler/monitoring/manual-trigger/'].post.responses)).toContain('409');
  expect(JSON.stringify(docs)).toContain('"next_run_times"');
  const statusSchema = JSON.stringify(docs.paths['/api/v1/scheduler/monitoring/status/'].get.responses['200']);
  const ref = /"\$ref":"#\/components\/schemas\/([^"]+)"/.exec(statusSchema)?.[1];
  const resolved = ref ? docs.components.schemas[ref] : JSON.parse(statusSchema).content['application/json'].schema;
  expect(Object.keys(resolved.properties)).toEqual(expect.arrayContaining(['schedules', 'available_tasks']));
});
