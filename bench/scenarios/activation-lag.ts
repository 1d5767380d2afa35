import { inPool, waitUntil } from '../concurrency';
import { goal, round, summarize } from '../report';
import type { Scenario } from '../scenario';

/** How far ahead of its approval each document is due, ms: "a few seconds", after the approval's answer. */
const LEAD_MS = 5_000;
/** Documents in flight at once: enough to keep the run short, few enough that each one is alone at its instant. */
const CONCURRENCY = 4;
const MAX_P99_S = 1;

/**
 * Single documents approved through the API for an instant a few seconds ahead; the lateness of
 * each is the EFFECTIVE transition's database timestamp minus the instant requested.
 */
export const activationLag: Scenario = {
  name: 'activation-lag',
  description: `50 documents approved through the API for instants ${LEAD_MS / 1000} s ahead: EFFECTIVE lateness, goal p99 <= ${MAX_P99_S} s`,
  async run({ api, system, database, options, progress }) {
    const count = options.quick ? 5 : 50;
    const users = await api.flowUsers(system.adminToken);
    const documents = await inPool(count, CONCURRENCY, async (index) => {
      const flow = await api.approvedDocument(
        users,
        `Activation lag ${index + 1}`,
        () => new Date(Date.now() + LEAD_MS),
      );
      // An approval answered after its own instant would measure the API, not the timer.
      const answeredAfterInstant = Date.now() > flow.effectiveAt.getTime();
      return { ...flow, answeredAfterInstant };
    });
    progress(`activation-lag: ${count} documents approved, waiting for them to become EFFECTIVE`);
    const ids = documents.map((d) => d.id);
    const { sql } = database;
    await waitUntil(
      `${count} documents EFFECTIVE`,
      async () =>
        (
          await sql<{ n: number }[]>`
          select count(*)::int as n from documents where id = any(${ids}::uuid[]) and status = 'EFFECTIVE'`
        )[0]!.n >= count,
      LEAD_MS + 60_000,
    );
    const rows = await sql<{ lateness_s: number }[]>`
      select extract(epoch from t.occurred_at - d.effective_at)::float8 as lateness_s
      from documents d join document_transitions t on t.document_id = d.id and t.to_status = 'EFFECTIVE'
      where d.id = any(${ids}::uuid[])`;
    const lateness = summarize(rows.map((row) => row.lateness_s));
    return {
      inputs: { documents: count, lead_s: LEAD_MS / 1000, concurrency: CONCURRENCY },
      figures: {
        lateness_p50_s: round(lateness.p50),
        lateness_p99_s: round(lateness.p99),
        lateness_max_s: round(lateness.max),
        approvals_answered_after_instant: documents.filter((d) => d.answeredAfterInstant).length,
      },
      goals: [goal('lateness_p99_s', lateness.p99, '<=', MAX_P99_S)],
      headline: {
        n: count,
        p50_s: round(lateness.p50, 3),
        p99_s: round(lateness.p99, 3),
        max_s: round(lateness.max, 3),
      },
    };
  },
};
