import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type postgres from 'postgres';
import { startDocumentWorkflow } from '../../api/services/document-workflow';
import { DEFAULT_LIFECYCLE_SETTINGS } from '../../common';
import { MARKS_TABLE } from '../baseline/bare-activities';
import { withBareWorker } from '../baseline/bare-worker';
import { inPool, sleep, waitUntil } from '../concurrency';
import { goal, round, summarize } from '../report';
import { cpuMsPer, cpuSnapshot, type BenchContext, type Scenario } from '../scenario';
import { insertDocuments, seedDocuments, userId } from '../seed';

/**
 * What one start costs before any has been measured (ms): generous, since the run fails when the
 * starts reach the instant (500 took 51 ms each on a 2-core machine under a load of 14).
 */
const BASELINE_MS_PER_START_GUESS = 50;
/**
 * What a document workflow's first workflow task costs the worker before any has been measured
 * (ms): building the workflow and its first sleep. Started workflows run it after their start
 * returns, one workflow task at a time per worker thread, so the instant leaves room for all of them.
 */
const FIRST_TASK_MS_GUESS = 40;
/** Workflow starts in flight while a burst is set up. */
const START_CONCURRENCY = 20;
/** The goal: the last document EFFECTIVE at most this many times later than the bare baseline's last row. */
const MAX_RATIO = 1.3;

/** When a burst's writes landed, in seconds after the instant, as the database clocked them. */
interface BurstTiming {
  /** Seconds from the instant to the last write of the burst. */
  last_s: number;
  /** Lateness of the median document, seconds. */
  p50_s: number;
}

/**
 * An instant far enough ahead for `count` workflow starts (at the pace `msPerStart` seen so far) to
 * finish before it: the burst is then only the timers firing, not the set-up still going.
 */
const instantAhead = (count: number, msPerStart: number, quick: boolean) =>
  Date.now() + (quick ? 5_000 : 10_000) + Math.ceil(count * msPerStart * 2);

/**
 * The CPU counters half a second before the instant: the set-up's work (workflows running their
 * first task after their start returned) is over by then, so what follows is the burst's own.
 */
async function cpuAtInstant(context: BenchContext, at: number) {
  await sleep(Math.max(0, at - Date.now() - 500));
  return cpuSnapshot(context.system);
}

/** Throws when the set-up ran into the instant: the figures would measure the starts, not the burst. */
function checkSlack(at: number, what: string): number {
  const slack = (at - Date.now()) / 1000;
  if (slack < 1) throw new Error(`${what}: the workflow starts ended ${round(-slack, 1)} s after the instant`);
  return slack;
}

/** The baseline: bare workflows on their own queue, in a Worker of this process with the documents queue's settings. */
async function bareBurst(context: BenchContext, n: number, sql: postgres.Sql) {
  return withBareWorker(context, async (taskQueue) => {
    const at = instantAhead(n, BASELINE_MS_PER_START_GUESS, context.options.quick);
    const started = performance.now();
    await inPool(n, START_CONCURRENCY, (index) =>
      context.temporal.workflow.start('bareBurst', {
        taskQueue,
        workflowId: `bench-bare-${taskQueue}-${index}`,
        args: [{ markId: String(index), at }],
      }),
    );
    const msPerStart = (performance.now() - started) / n;
    const slack = checkSlack(at, 'bare baseline');
    context.progress(`burst: ${n} bare workflows started (slack ${round(slack, 1)} s), waiting for their rows`);
    const cpuBefore = await cpuAtInstant(context, at);
    await waitUntil(
      `${n} baseline rows`,
      async () => (await sql`select count(*)::int as n from ${sql(MARKS_TABLE)}`)[0]!.n >= n,
      at - Date.now() + 60_000 + n * 300,
    );
    const cpu = cpuMsPer(cpuBefore, cpuSnapshot(context.system), n);
    const lateness = (
      await sql<{ s: number }[]>`select extract(epoch from at)::float8 * 1000 - ${at} as s from ${sql(MARKS_TABLE)}`
    ).map((row) => row.s / 1000);
    return { ...timing(lateness), msPerStart, slack, cpu };
  });
}

const timing = (latenessS: number[]): BurstTiming => {
  const stats = summarize(latenessS);
  return { last_s: stats.max, p50_s: stats.p50 };
};

/**
 * The system: documents already APPROVED_PENDING_EFFECTIVE in the database, their workflows started
 * as the API starts them, all due at one instant. Done when the last is EFFECTIVE with its audit
 * entry and its author's outbox email; each document's time is its latest of the three writes.
 */
async function systemBurst(context: BenchContext, client: Client, n: number, msPerStart: number) {
  const { sql } = context.database;
  const admin = await userId(sql, 'admin');
  const prefix = `BURST-${randomUUID().slice(0, 8)}`;
  const at = instantAhead(n, msPerStart * 2 + FIRST_TASK_MS_GUESS, context.options.quick);
  const documents = seedDocuments(
    n,
    prefix,
    () => ({
      status: 'APPROVED_PENDING_EFFECTIVE',
      effectiveAt: new Date(at),
      obsoleteAt: null,
      createdAt: new Date(),
    }),
    admin,
  );
  await insertDocuments(sql, documents, { reviewerId: admin, approverId: admin });
  await inPool(n, START_CONCURRENCY, (index) => {
    const document = documents[index]!;
    return startDocumentWorkflow(
      client,
      document.id,
      {
        documentNumber: document.documentNumber,
        status: document.status,
        effectiveAt: new Date(at).toISOString(),
        obsoleteAt: null,
        supersedesId: null,
      },
      DEFAULT_LIFECYCLE_SETTINGS,
    );
  });
  checkSlack(at, 'system burst');
  // A started workflow is set up only once its first workflow task has run (it publishes its status
  // then): until every one has, the worker is still busy setting up, and the burst would measure that.
  const setUp = `DocumentNumber STARTS_WITH '${prefix}-' AND DocumentStatus = 'APPROVED_PENDING_EFFECTIVE'`;
  await waitUntil(
    `${n} document workflows set up`,
    async () => (await client.workflow.count(setUp)).count >= n,
    Math.max(1_000, at - Date.now()),
    200,
  );
  const slack = checkSlack(at, 'system burst (workflows set up)');
  context.progress(`burst: ${n} document workflows set up (slack ${round(slack, 1)} s), waiting for EFFECTIVE`);
  const cpuBefore = await cpuAtInstant(context, at);
  const ids = documents.map((d) => d.id);
  const done = async () => {
    const [row] = await sql<{ effective: number; audited: number; notified: number }[]>`
      select
        (select count(*)::int from documents where id = any(${ids}::uuid[]) and status = 'EFFECTIVE') as effective,
        (select count(*)::int from audit_trail where action = 'DOC_EFFECTIVE_PROCESSED' and entity_type = 'document'
           and entity_id = any(${ids}::text[])) as audited,
        (select count(*)::int from notification_outbox where kind = 'document_effective'
           and document_id = any(${ids}::uuid[])) as notified`;
    return row!.effective >= n && row!.audited >= n && row!.notified >= n;
  };
  await waitUntil(`${n} documents EFFECTIVE with audit and outbox rows`, done, at - Date.now() + 120_000 + n * 500);
  const cpu = cpuMsPer(cpuBefore, cpuSnapshot(context.system), n);
  const rows = await sql<{ s: number }[]>`
    select extract(epoch from greatest(t.occurred_at, a.occurred_at, o.created_at))::float8 * 1000 - ${at} as s
    from documents d
    join document_transitions t on t.document_id = d.id and t.to_status = 'EFFECTIVE'
    join audit_trail a on a.entity_type = 'document' and a.entity_id = d.id::text and a.action = 'DOC_EFFECTIVE_PROCESSED'
    join notification_outbox o on o.document_id = d.id and o.kind = 'document_effective'
    where d.id = any(${ids}::uuid[])`;
  return { ...timing(rows.map((row) => row.s / 1000)), slack, cpu };
}

export const burst: Scenario = {
  name: 'burst',
  description: `N documents (default 1,000; --n) due at one instant: last EFFECTIVE vs a bare Temporal baseline, goal ratio <= ${MAX_RATIO}`,
  async run(context) {
    const n = context.options.n ?? (context.options.quick ? 20 : 1000);
    const baseline = await bareBurst(context, n, context.database.sql);
    context.progress(`burst: baseline last row after ${round(baseline.last_s, 2)} s`);
    const system = await systemBurst(context, context.temporal, n, baseline.msPerStart);
    const ratio = system.last_s / baseline.last_s;
    return {
      inputs: { n, start_concurrency: START_CONCURRENCY, worker_count: 1 },
      figures: {
        last_effective_s: round(system.last_s),
        p50_effective_s: round(system.p50_s),
        baseline_last_s: round(baseline.last_s),
        baseline_p50_s: round(baseline.p50_s),
        ratio: round(ratio),
        setup_slack_s: round(system.slack, 1),
        baseline_setup_slack_s: round(baseline.slack, 1),
        baseline_ms_per_start: round(baseline.msPerStart, 2),
        // Where each run's CPU went, per document, from just before the instant to its last write:
        // the baseline's worker runs in the bench process, the system's in the worker process.
        cpu_ms_per_document: { system: system.cpu, baseline: baseline.cpu },
      },
      goals: [goal('ratio', ratio, '<=', MAX_RATIO)],
      headline: {
        n,
        last_effective_s: round(system.last_s, 2),
        baseline_s: round(baseline.last_s, 2),
        ratio: round(ratio, 2),
        server_cpu_ms_per_doc: `${system.cpu.temporal ?? 'n/a'}/${baseline.cpu.temporal ?? 'n/a'}`,
      },
    };
  },
};
