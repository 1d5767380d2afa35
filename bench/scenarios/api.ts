import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import { tsxNodeArgs } from '../../launcher/managed-process';
import type { FlowTimings } from '../api-client';
import { createBareActivities } from '../baseline/bare-activities';
import { BARE_DOCUMENT_UPDATES } from '../baseline/bare-workflow';
import { withBareWorker } from '../baseline/bare-worker';
import { inPool, waitUntil } from '../concurrency';
import { goal, percentile, round, type Goal } from '../report';
import { cpuMsPer, cpuSnapshot, type BenchContext, type Scenario } from '../scenario';
import { insertDocuments, seedDocuments, userId } from '../seed';
import { freePort } from '../../lib/ports';
import { DAY_MS } from '../../common';

/** Goals of the issue, in the units of the figures they apply to. */
const GOALS = {
  onePerSecondP99Ms: 10,
  pageP99Ms: 20,
  /** At this fixed request rate (req/s) the p99 goals are measured. */
  fixedRate: 500,
  throughputRatio: 0.5,
  updateP50Ms: 100,
  flowDocsPerS: 50,
};
/** The update routes, in the order a document takes them; each has a p50 and a goal. */
const UPDATE_STEPS = ['submit', 'review', 'approve'] as const;
/** Every step of the create-to-approved flow, timed one document at a time. */
const FLOW_STEPS = ['create', ...UPDATE_STEPS] as const;
/** Reads rotate over this many seeded documents, so no single row stays hot in every cache. */
const ROTATING_IDS = 100;

interface Sizes {
  /** Documents in the database while reads are measured. */
  documents: number;
  /** Seconds of each autocannon run (after a warm-up of `warmup_s` per route and server). */
  duration_s: number;
  warmup_s: number;
  /** Documents taken one at a time through create, submit, review, approve (their p50s). */
  update_documents: number;
  /** Documents through the whole flow, `flow_concurrency` at a time (documents/s). */
  flow_documents: number;
  flow_concurrency: number;
}

const FULL: Sizes = {
  documents: 10_000,
  duration_s: 10,
  warmup_s: 3,
  update_documents: 30,
  flow_documents: 100,
  flow_concurrency: 10,
};
const QUICK: Sizes = {
  documents: 300,
  duration_s: 2,
  warmup_s: 1,
  update_documents: 3,
  flow_documents: 10,
  flow_concurrency: 5,
};

/** A request unanswered after this long counts as timed out (autocannon's own default is 10 s). */
const REQUEST_TIMEOUT_S = 10;

/**
 * One autocannon run's figures: answers, requests that timed out, answers per second over the run,
 * latency percentiles (ms; null when nothing was answered within the run). When more than 1 % of
 * the requests timed out, the p99 is the timeout itself: a lower bound, since autocannon leaves
 * unanswered requests out of its histogram.
 */
interface LoadFigures {
  responses: number;
  timeouts: number;
  rps: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

/**
 * Loads `paths` (taken in turn) on `baseUrl` with `connections` at once, as fast as answered or at
 * `overallRate` req/s. Any non-2xx answer or connection error fails the harness: a figure made of
 * errors is no figure.
 */
async function load(
  baseUrl: string,
  paths: string[],
  options: { connections: number; duration: number; overallRate?: number; authorization?: string },
): Promise<LoadFigures> {
  let next = 0;
  const result = await autocannon({
    url: baseUrl,
    connections: options.connections,
    duration: options.duration,
    timeout: REQUEST_TIMEOUT_S,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    headers: options.authorization ? { authorization: options.authorization } : {},
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }),
      },
    ],
  });
  // A slow answer is a figure; an error answer or a refused connection is a broken run.
  if (result.non2xx > 0 || result.errors > result.timeouts) {
    throw new Error(
      `${baseUrl}${paths[0]}: ${result.non2xx} non-2xx answers, ${result.errors - result.timeouts} connection errors`,
    );
  }
  const answered = result.requests.total > 0;
  const mostlyTimedOut = result.timeouts > 0.01 * (result.requests.total + result.timeouts);
  return {
    responses: result.requests.total,
    timeouts: result.timeouts,
    rps: round(result.requests.total / result.duration, 1),
    p50_ms: answered ? result.latency.p50 : null,
    p99_ms: mostlyTimedOut ? REQUEST_TIMEOUT_S * 1000 : answered ? result.latency.p99 : null,
    max_ms: answered ? result.latency.max : null,
  };
}

/** Tops the database up to `total` documents, straight into the tables; returns ids to read. */
async function seed(context: BenchContext, total: number): Promise<string[]> {
  const { sql } = context.database;
  const [{ n: existing } = { n: 0 }] = await sql<{ n: number }[]>`select count(*)::int as n from documents`;
  const users = await context.api.flowUsers(context.system.adminToken);
  const [admin, reviewer, approver] = await Promise.all(
    [users.author, users.reviewer, users.approver].map((u) => userId(sql, u.username)),
  );
  const now = Date.now();
  // Documents no timer waits on (drafts, in force, withdrawn), so nothing but the reads touches them.
  const documents = seedDocuments(
    Math.max(0, total - existing),
    `API-${now.toString(36)}`,
    (index) => {
      const createdAt = new Date(now - (index + 1) * 60_000);
      if (index % 10 < 2) return { status: 'DRAFT', effectiveAt: null, obsoleteAt: null, createdAt };
      if (index % 10 === 2) {
        return { status: 'OBSOLETE', effectiveAt: createdAt, obsoleteAt: new Date(now - DAY_MS), createdAt };
      }
      return { status: 'EFFECTIVE', effectiveAt: new Date(createdAt.getTime() + DAY_MS), obsoleteAt: null, createdAt };
    },
    admin!,
  );
  await insertDocuments(sql, documents, { reviewerId: reviewer!, approverId: approver! });
  await sql`analyze documents, document_assignees, document_transitions`;
  const ids = await sql<{ id: string }[]>`select id from documents order by random() limit ${ROTATING_IDS}`;
  return ids.map((row) => row.id);
}

/** The bare server in its own process on a free port, answering once it prints that it listens. */
async function startBareApi(databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, tsxNodeArgs(path.join(__dirname, '..', 'baseline', 'bare-api.ts')), {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitUntil(
    'the bare API to listen',
    async () => {
      if (child.exitCode !== null) throw new Error(`the bare API exited with ${child.exitCode}`);
      return output.includes('listening');
    },
    60_000,
    100,
  );
  return { url: `http://127.0.0.1:${port}`, child };
}

/** Reads of one document and of a page at 10 and 50 connections and at the fixed rate, on the system and the baseline. */
async function measureReads(context: BenchContext, sizes: Sizes, ids: string[]) {
  const bare = await startBareApi(context.system.databaseUrl);
  const authorization = `Bearer ${context.system.adminToken}`;
  const targets = {
    system: {
      url: context.system.apiUrl,
      one: ids.map((id) => `/api/v1/documents/${id}`),
      page: ['/api/v1/documents?page=1'],
      authorization,
    },
    baseline: {
      url: bare.url,
      one: ids.map((id) => `/documents/${id}`),
      page: ['/documents?page=1'],
      authorization: undefined,
    },
  };
  const figures: Record<string, LoadFigures> = {};
  try {
    for (const [name, target] of Object.entries(targets)) {
      for (const route of ['one', 'page'] as const) {
        const paths = target[route];
        const run = (connections: number, overallRate?: number, duration = sizes.duration_s) =>
          load(target.url, paths, { connections, duration, overallRate, authorization: target.authorization });
        await run(10, undefined, sizes.warmup_s);
        for (const connections of [10, 50]) {
          context.progress(`api: ${name} ${route} at ${connections} connections`);
          figures[`${name}_${route}_c${connections}`] = await run(connections);
        }
        // The goal is on the system's figure; the baseline's, beside it, is what the servers allow.
        context.progress(`api: ${name} ${route} at ${GOALS.fixedRate} req/s`);
        figures[`${name}_${route}_at_${GOALS.fixedRate}rps`] = await run(10, GOALS.fixedRate);
      }
    }
  } finally {
    bare.child.kill('SIGTERM');
  }
  return figures;
}

/** One document through create, submit, review and approve (`label` tells it apart); each step's duration. */
type DocumentFlow = (label: string) => Promise<FlowTimings>;

/** The milliseconds `call` took. */
async function elapsedMs(call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await call();
  return performance.now() - start;
}

/** The steps of `flow` one document at a time (their latency unloaded), then the flow's rate under concurrency. */
async function measureFlow(context: BenchContext, sizes: Sizes, name: string, flow: DocumentFlow) {
  context.progress(`api: ${name}: ${sizes.update_documents} documents one at a time through the updates`);
  const timings = await inPool(sizes.update_documents, 1, (index) => flow(`update ${index + 1}`));
  const p50 = (key: keyof FlowTimings) =>
    round(
      percentile(
        timings.map((t) => t[key]),
        50,
      ),
      1,
    );
  context.progress(
    `api: ${name}: ${sizes.flow_documents} documents through the flow, ${sizes.flow_concurrency} at a time`,
  );
  const started = performance.now();
  const cpuBefore = cpuSnapshot(context.system);
  await inPool(sizes.flow_documents, sizes.flow_concurrency, (index) => flow(`flow ${index + 1}`));
  const flowSeconds = (performance.now() - started) / 1000;
  // The flow is CPU-bound on a small machine: where each document's CPU went says which process to look at.
  const cpu = cpuMsPer(cpuBefore, cpuSnapshot(context.system), sizes.flow_documents);
  return {
    create_p50_ms: p50('create_ms'),
    submit_p50_ms: p50('submit_ms'),
    review_p50_ms: p50('review_ms'),
    approve_p50_ms: p50('approve_ms'),
    flow_docs_per_s: round(sizes.flow_documents / flowSeconds, 2),
    cpu,
  };
}

/** The system: each document created, submitted, reviewed and approved through the HTTP API. */
async function measureUpdates(context: BenchContext, sizes: Sizes) {
  const users = await context.api.flowUsers(context.system.adminToken);
  // Approved for a month ahead: no document falls due while the scenario measures.
  const effectiveAt = () => new Date(Date.now() + 30 * DAY_MS);
  return measureFlow(context, sizes, 'system', (label) =>
    context.api.approvedDocument(users, `API ${label}`, effectiveAt).then((flow) => flow.timings),
  );
}

/**
 * The baseline, measured as the system is but straight through the Temporal client, no HTTP: a
 * create is one INSERT and a start of the bare document workflow (bare-workflow.ts), in a Worker
 * of this process with the documents queue's settings; submit, review and approve are its updates,
 * each one local activity doing one INSERT. What the dev server and one worker allow at best.
 */
function measureBareUpdates(context: BenchContext, sizes: Sizes) {
  const { recordMark } = createBareActivities(context.database.sql);
  return withBareWorker(context, (taskQueue) =>
    measureFlow(context, sizes, 'baseline', async (label) => {
      const workflowId = `${taskQueue}-${label.replace(/ /g, '-')}`;
      const handle = context.temporal.workflow.getHandle(workflowId);
      const [submit, review, approve] = BARE_DOCUMENT_UPDATES;
      return {
        create_ms: await elapsedMs(async () => {
          await recordMark(`${workflowId}:create`);
          await context.temporal.workflow.start('bareDocument', { taskQueue, workflowId });
        }),
        submit_ms: await elapsedMs(() => handle.executeUpdate(submit)),
        review_ms: await elapsedMs(() => handle.executeUpdate(review)),
        approve_ms: await elapsedMs(() => handle.executeUpdate(approve)),
      };
    }),
  );
}

export const api: Scenario = {
  name: 'api',
  description: `reads (one document, a page) with 10,000 documents vs a bare Fastify + postgres.js server, update routes and create-to-approved flow vs a bare Temporal workflow`,
  async run(context) {
    const sizes = context.options.quick ? QUICK : FULL;
    context.progress(`api: seeding up to ${sizes.documents} documents`);
    const ids = await seed(context, sizes.documents);
    const reads = await measureReads(context, sizes, ids);
    const { cpu: bareFlowCpu, ...bareUpdates } = await measureBareUpdates(context, sizes);
    const { cpu: flowCpu, ...updates } = await measureUpdates(context, sizes);
    const ratio = (route: 'one' | 'page', connections: number) =>
      reads[`system_${route}_c${connections}`]!.rps / reads[`baseline_${route}_c${connections}`]!.rps;
    const fixed = (route: 'one' | 'page') => reads[`system_${route}_at_${GOALS.fixedRate}rps`]!;
    const bareFixed = (route: 'one' | 'page') => reads[`baseline_${route}_at_${GOALS.fixedRate}rps`]!;
    /** System over baseline (above 1: the system is slower); null when either was not measured. */
    const over = (system: number | null, baseline: number | null) =>
      system === null || baseline === null || baseline === 0 ? null : round(system / baseline, 2);
    const stepRatio = (step: (typeof FLOW_STEPS)[number]) =>
      over(updates[`${step}_p50_ms`], bareUpdates[`${step}_p50_ms`]);
    const againstBaseline = {
      [`baseline_one_p99_ms_at_${GOALS.fixedRate}rps`]: bareFixed('one').p99_ms,
      [`baseline_page_p99_ms_at_${GOALS.fixedRate}rps`]: bareFixed('page').p99_ms,
      [`one_p99_ratio_at_${GOALS.fixedRate}rps`]: over(fixed('one').p99_ms, bareFixed('one').p99_ms),
      [`page_p99_ratio_at_${GOALS.fixedRate}rps`]: over(fixed('page').p99_ms, bareFixed('page').p99_ms),
      ...Object.fromEntries(FLOW_STEPS.map((step) => [`baseline_${step}_p50_ms`, bareUpdates[`${step}_p50_ms`]])),
      baseline_flow_docs_per_s: bareUpdates.flow_docs_per_s,
      ...Object.fromEntries(FLOW_STEPS.map((step) => [`update_p50_ratio_${step}`, stepRatio(step)])),
      // Documents/s: below 1, the system's flow is slower than the baseline's.
      flow_ratio: over(updates.flow_docs_per_s, bareUpdates.flow_docs_per_s),
    };
    const ratios = {
      one_c10_throughput_ratio: round(ratio('one', 10)),
      one_c50_throughput_ratio: round(ratio('one', 50)),
      page_c10_throughput_ratio: round(ratio('page', 10)),
      page_c50_throughput_ratio: round(ratio('page', 50)),
    };
    const goals: Goal[] = [
      goal(`one_p99_ms_at_${GOALS.fixedRate}rps`, fixed('one').p99_ms, '<=', GOALS.onePerSecondP99Ms),
      goal(`page_p99_ms_at_${GOALS.fixedRate}rps`, fixed('page').p99_ms, '<=', GOALS.pageP99Ms),
      ...Object.entries(ratios).map(([key, value]) => goal(key, value, '>=', GOALS.throughputRatio)),
      ...UPDATE_STEPS.map((step) => goal(`${step}_p50_ms`, updates[`${step}_p50_ms`], '<=', GOALS.updateP50Ms)),
      goal('flow_docs_per_s', updates.flow_docs_per_s, '>=', GOALS.flowDocsPerS),
    ];
    return {
      inputs: { ...sizes, fixed_rate_rps: GOALS.fixedRate, rotating_ids: ids.length, page_size: 50 },
      figures: {
        [`one_p99_ms_at_${GOALS.fixedRate}rps`]: fixed('one').p99_ms,
        [`page_p99_ms_at_${GOALS.fixedRate}rps`]: fixed('page').p99_ms,
        ...ratios,
        ...updates,
        ...againstBaseline,
        // CPU ms per document of the concurrent flow, by process: the baseline's worker runs in the
        // bench process, the system's in the worker process.
        flow_cpu_ms_per_document: { system: flowCpu, baseline: bareFlowCpu },
        reads,
      },
      goals,
      headline: {
        one_rps: reads.system_one_c10!.rps,
        baseline_one_rps: reads.baseline_one_c10!.rps,
        one_p99_ms_at_500: fixed('one').p99_ms ?? 'n/a',
        baseline_one_p99_ms_at_500: bareFixed('one').p99_ms ?? 'n/a',
        page_rps: reads.system_page_c10!.rps,
        baseline_page_rps: reads.baseline_page_c10!.rps,
        page_p99_ms_at_500: fixed('page').p99_ms ?? 'n/a',
        baseline_page_p99_ms_at_500: bareFixed('page').p99_ms ?? 'n/a',
        ...Object.fromEntries(
          UPDATE_STEPS.flatMap((step) => [
            [`${step}_p50_ms`, updates[`${step}_p50_ms`]],
            [`baseline_${step}_p50_ms`, bareUpdates[`${step}_p50_ms`]],
            [`update_p50_ratio_${step}`, stepRatio(step) ?? 'n/a'],
          ]),
        ),
        flow_docs_per_s: updates.flow_docs_per_s,
        baseline_flow_docs_per_s: bareUpdates.flow_docs_per_s,
        flow_ratio: againstBaseline.flow_ratio ?? 'n/a',
      },
    };
  },
};
