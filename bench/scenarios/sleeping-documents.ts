import { DAY_MS } from '../../common';
import { inPool } from '../concurrency';
import { goal, round } from '../report';
import { rssMb, type BenchContext, type Scenario } from '../scenario';

const MAX_WORKER_RSS_MB = 500;
/** The RSS at this many documents is what the goal is about; smaller runs project it. */
const GOAL_DOCUMENTS = 100_000;
/** "Flat": the worker grows by at most this much (%) over the second half of the run. */
const MAX_SECOND_HALF_GROWTH_PCT = 10;

/** Memory and disk after `documents` documents, `elapsed_s` into the run. */
interface Checkpoint {
  documents: number;
  elapsed_s: number;
  /** Creation rate of the documents since the previous checkpoint. */
  docs_per_s: number;
  worker_rss_mb: number | null;
  /**
   * The worker's main thread (activities, the SDK's worker loop) as its /metrics reports it: JS heap
   * in use and reserved. The rest of the worker's RSS is its workflow threads and native memory.
   */
  worker_main_heap_mb: { used: number; total: number } | null;
  temporal_rss_mb: number | null;
  db_size_mb: number;
}

const rounded = (mb: number | null) => (mb === null ? null : round(mb, 1));

/** A gauge of the worker's /metrics (prom-client's default Node.js metrics), in MB. */
function gaugeMb(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  const value = line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
  return Number.isFinite(value) ? round(value / 2 ** 20, 1) : undefined;
}

async function workerMainHeapMb(context: BenchContext): Promise<Checkpoint['worker_main_heap_mb']> {
  try {
    const response = await fetch(`http://127.0.0.1:${context.system.workerMetricsPort}/metrics`);
    const metrics = await response.text();
    const used = gaugeMb(metrics, 'nodejs_heap_size_used_bytes');
    const total = gaugeMb(metrics, 'nodejs_heap_size_total_bytes');
    return used === undefined || total === undefined ? null : { used, total };
  } catch {
    // A worker that does not answer is reported as null, like a process that has gone.
    return null;
  }
}

async function databaseBytes(context: BenchContext): Promise<number> {
  const [row] = await context.database.sql<{ bytes: string }[]>`select pg_database_size(current_database()) as bytes`;
  return Number(row!.bytes);
}

/**
 * N documents through the full API flow, approved for 30 days ahead, so their workflows sleep. The
 * worker's and the Temporal server's RSS and the database's size are sampled at evenly spaced
 * checkpoints, to show whether memory is flat in N once the worker's cache is full.
 */
export const sleepingDocuments: Scenario = {
  name: 'sleeping-documents',
  description: `N documents (default 10,000; --n) approved 30 days ahead: creation rate, worker and server RSS, database size per document; goal worker RSS <= ${MAX_WORKER_RSS_MB} MB at 100,000 and flat`,
  async run(context) {
    const { options, system, api } = context;
    const n = options.n ?? (options.quick ? 20 : 10_000);
    const checkpoints = Math.min(options.quick ? 2 : 10, n);
    const concurrency = options.quick ? 5 : 10;
    const users = await api.flowUsers(system.adminToken);
    const workerPid = system.pidOf('worker');
    const startBytes = await databaseBytes(context);
    const before = { worker_rss_mb: rssMb(workerPid), temporal_rss_mb: rssMb(system.pidOf('temporal')) };
    const samples: Checkpoint[] = [];
    const started = performance.now();
    let created = 0;
    for (let block = 1; block <= checkpoints; block++) {
      const size = Math.round((block * n) / checkpoints) - created;
      const blockStarted = performance.now();
      await inPool(size, concurrency, (index) =>
        api.approvedDocument(users, `Sleeping ${created + index + 1}`, () => new Date(Date.now() + 30 * DAY_MS)),
      );
      created += size;
      samples.push({
        documents: created,
        elapsed_s: round((performance.now() - started) / 1000, 1),
        docs_per_s: round(size / ((performance.now() - blockStarted) / 1000), 2),
        worker_rss_mb: rounded(rssMb(system.pidOf('worker'))),
        worker_main_heap_mb: await workerMainHeapMb(context),
        temporal_rss_mb: rounded(rssMb(system.pidOf('temporal'))),
        db_size_mb: round((await databaseBytes(context)) / 2 ** 20, 1),
      });
      const last = samples.at(-1)!;
      context.progress(
        `sleeping-documents: ${created}/${n} at ${last.docs_per_s} docs/s, worker ${last.worker_rss_mb} MB (main heap ${last.worker_main_heap_mb?.total ?? 'n/a'} MB), temporal ${last.temporal_rss_mb} MB`,
      );
    }
    const creationSeconds = (performance.now() - started) / 1000;
    const bytesPerDocument = ((await databaseBytes(context)) - startBytes) / n;
    const last = samples.at(-1)!;
    const middle = samples[Math.floor((samples.length - 1) / 2)]!;
    const workerLast = last.worker_rss_mb;
    const workerMiddle = middle.worker_rss_mb;
    const growthPct =
      workerLast !== null && workerMiddle !== null && last !== middle
        ? (100 * (workerLast - workerMiddle)) / workerMiddle
        : null;
    // A straight line through the second half, extended to the goal's size: flat stays flat, growth keeps growing.
    const mbPerDocument =
      workerLast !== null && workerMiddle !== null && last !== middle
        ? (workerLast - workerMiddle) / (last.documents - middle.documents)
        : 0;
    const projected =
      workerLast === null ? null : workerLast + Math.max(0, mbPerDocument) * Math.max(0, GOAL_DOCUMENTS - n);
    return {
      inputs: { n, concurrency, checkpoints, effective_in_days: 30 },
      figures: {
        creation_docs_per_s: round(n / creationSeconds, 2),
        worker_rss_before_mb: rounded(before.worker_rss_mb),
        temporal_rss_before_mb: rounded(before.temporal_rss_mb),
        worker_rss_mb: workerLast,
        temporal_rss_mb: last.temporal_rss_mb,
        db_bytes_per_document: Math.round(bytesPerDocument),
        worker_rss_second_half_growth_pct: growthPct === null ? null : round(growthPct, 1),
        worker_rss_mb_per_1000_documents: round(mbPerDocument * 1000, 2),
        worker_rss_projected_100k_mb: projected === null ? null : round(projected, 1),
        worker_restarted: system.pidOf('worker') !== workerPid,
        checkpoints: samples,
      },
      goals: [
        goal('worker_rss_projected_100k_mb', projected, '<=', MAX_WORKER_RSS_MB),
        goal('worker_rss_second_half_growth_pct', growthPct, '<=', MAX_SECOND_HALF_GROWTH_PCT),
      ],
      headline: {
        n,
        docs_per_s: round(n / creationSeconds, 2),
        worker_rss_mb: workerLast ?? 'n/a',
        temporal_rss_mb: last.temporal_rss_mb ?? 'n/a',
        db_kb_per_doc: round(bytesPerDocument / 1024, 1),
        worker_projected_100k_mb: projected === null ? 'n/a' : round(projected, 0),
      },
    };
  },
};
