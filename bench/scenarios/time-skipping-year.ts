import os from 'node:os';
import { eq } from 'drizzle-orm';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { startDocumentWorkflow, updateDocument } from '../../api/services/document-workflow';
import { createNewVersion, insertDocument } from '../../api/services/documents';
import {
  approveUpdate,
  DAY_MS,
  reviewUpdate,
  scheduleObsolescenceUpdate,
  submitUpdate,
  TASK_QUEUES,
  type DocumentStatus,
  type LifecycleSettings,
} from '../../common';
import { documentFacts, schema } from '../../db';
import { createMailer } from '../../outbox';
import { startSmtpSink } from '../../launcher/smtp-sink';
import { resolveTemporalBinary } from '../../launcher/temporal-binaries';
import { createTimeSkippingEnv } from '../../launcher/time-skipping';
import { loadConfig } from '../../lib/config';
import { activitiesFor } from '../../worker/activities';
import { bundleWorkflows } from '../../worker/workflow-bundle';
import { createWorker } from '../../worker/workers';
import { waitUntil } from '../concurrency';
import { goal, round } from '../report';
import type { BenchContext, Scenario } from '../scenario';
import { userId } from '../seed';

const MAX_WALL_S = 2;
/** A timer fires during a skip; its activities then run in real time: how often the database is asked. */
const POLL_MS = 10;

interface People {
  author: { id: string; username: string };
  reviewer: string;
  approver: string;
}

/**
 * One document's year, driven as the API drives it (the same service functions, on the
 * time-skipping server): a review round rejected, a second one left overdue until its reminders and
 * the escalation to the reviewer's manager, approval, EFFECTIVE a month later; a new version
 * approved and EFFECTIVE two months later, which makes the first OBSOLETE; the new version's own
 * obsolescence at the end of the year. Returns each phase's wall time (s) and the emails the year
 * wrote, by kind.
 */
async function documentYear(
  context: BenchContext,
  env: TestWorkflowEnvironment,
  people: People,
  lifecycle: LifecycleSettings,
) {
  const { db, sql } = context.database;
  const client = env.client;
  const statusIs = (id: string, status: DocumentStatus) =>
    waitUntil(
      `document ${id} ${status}`,
      async () => (await db.select().from(schema.documents).where(eq(schema.documents.id, id)))[0]?.status === status,
      30_000,
      POLL_MS,
    );
  const later = async (ms: number) => new Date((await env.currentTimeMs()) + ms).toISOString();
  const phases: Record<string, number> = {};
  let phaseStart = performance.now();
  const phaseDone = (name: string) => {
    phases[name] = round((performance.now() - phaseStart) / 1000);
    phaseStart = performance.now();
  };
  const review = async (id: string) => {
    await updateDocument(client, id, submitUpdate, { actor: people.author.username });
    await updateDocument(client, id, reviewUpdate, { actor: people.reviewer, decision: 'approve' });
  };

  const first = await db.transaction(async (tx) => {
    const id = await insertDocument(
      tx,
      { title: 'A year in the life of an SOP', reviewers: [people.reviewer], approvers: [people.approver] },
      people.author,
      { username: people.author.username },
    );
    const [row] = await tx.select().from(schema.documents).where(eq(schema.documents.id, id));
    await startDocumentWorkflow(client, id, documentFacts(row!), lifecycle);
    return id;
  });

  await updateDocument(client, first, submitUpdate, { actor: people.author.username });
  await updateDocument(client, first, reviewUpdate, { actor: people.reviewer, decision: 'reject', comment: 'scope' });
  await statusIs(first, 'DRAFT');
  await updateDocument(client, first, submitUpdate, { actor: people.author.username });
  phaseDone('create_reject_resubmit_s');
  // The second round's review is left overdue: reminders from its due instant, then the escalation.
  await env.sleep((lifecycle.reviewDueDays + lifecycle.escalationDays) * DAY_MS + 60_000);
  await waitUntil(
    'the escalation email',
    async () =>
      (await sql`select 1 from notification_outbox where document_id = ${first} and kind = 'review_escalated'`).length >
      0,
    30_000,
    POLL_MS,
  );
  phaseDone('overdue_review_s');
  await updateDocument(client, first, reviewUpdate, { actor: people.reviewer, decision: 'approve' });
  await updateDocument(client, first, approveUpdate, { actor: people.approver, effectiveAt: await later(30 * DAY_MS) });
  await env.sleep(31 * DAY_MS);
  await statusIs(first, 'EFFECTIVE');
  phaseDone('approved_to_effective_s');

  const second = (
    await createNewVersion(
      { db, temporal: client, lifecycle },
      first,
      { title: 'A year in the life of an SOP, v2' },
      people.author,
    )
  ).id;
  await review(second);
  await updateDocument(client, second, approveUpdate, {
    actor: people.approver,
    effectiveAt: await later(60 * DAY_MS),
  });
  await env.sleep(61 * DAY_MS);
  await statusIs(second, 'EFFECTIVE');
  await statusIs(first, 'OBSOLETE');
  phaseDone('new_version_superseding_s');

  await updateDocument(client, second, scheduleObsolescenceUpdate, {
    actor: people.author.username,
    obsoleteAt: await later(200 * DAY_MS),
    reason: 'replaced by a new process',
  });
  await env.sleep(201 * DAY_MS);
  await statusIs(second, 'OBSOLETE');
  phaseDone('scheduled_obsolescence_s');

  const emails = await sql<{ kind: string; n: number }[]>`
    select kind, count(*)::int as n from notification_outbox where document_id in (${first}, ${second}) group by kind`;
  return { phases, emails: Object.fromEntries(emails.map((row) => [row.kind, row.n])) };
}

export const timeSkippingYear: Scenario = {
  name: 'time-skipping-year',
  description: `one document's year (reviews, reminders, escalation, effective, superseded, obsolete) on the time-skipping server, goal <= ${MAX_WALL_S} s`,
  async run(context) {
    const binary = await resolveTemporalBinary('testServer', { log: context.progress });
    const env = await createTimeSkippingEnv(
      binary.type === 'existing-path' ? { type: 'existing-path', path: binary.path } : { type: 'cached-download' },
    );
    const sink = await startSmtpSink({ unref: true });
    const mailer = createMailer(sink.url);
    try {
      const config = loadConfig({
        ...process.env,
        DATABASE_URL: context.system.databaseUrl,
        EDMS_DATA_DIR: context.system.dataDir,
      });
      const admin = { username: 'admin', authorization: `Bearer ${context.system.adminToken}` };
      const manager = await context.api.createUser(admin, 'approver');
      const people: People = {
        author: { id: await userId(context.database.sql, 'admin'), username: 'admin' },
        reviewer: (await context.api.createUser(admin, 'reviewer', { manager: manager.username })).username,
        approver: (await context.api.createUser(admin, 'approver')).username,
      };
      const workflowBundle = await bundleWorkflows(new DefaultLogger('WARN'));
      const worker = await createWorker(
        {
          connection: env.nativeConnection,
          namespace: env.namespace ?? 'default',
          workflowBundle,
          activities: activitiesFor(config, {
            database: context.database,
            databaseUrl: context.system.databaseUrl,
            mailer,
            temporal: env.client,
            identity: `bench@${os.hostname()}`,
          }),
          shutdownGraceSeconds: 1,
        },
        TASK_QUEUES.documents,
        TASK_QUEUES.documents,
      );
      const { wallSeconds, emails, phases } = await worker.runUntil(async () => {
        const started = performance.now();
        const year = await documentYear(context, env, people, config.lifecycle);
        return { wallSeconds: (performance.now() - started) / 1000, ...year };
      });
      if (!emails.review_reminder || emails.review_escalated !== 1 || !emails.document_superseded) {
        throw new Error(`the year did not send the emails it should: ${JSON.stringify(emails)}`);
      }
      return {
        inputs: { documents: 2, review_rounds: 3, simulated_days: 5 + 7 + 31 + 61 + 201 },
        figures: { wall_s: round(wallSeconds), phases, emails_by_kind: emails },
        goals: [goal('wall_s', wallSeconds, '<=', MAX_WALL_S)],
        // Its workflows ran on a server of its own, not on the system's; the database is the system's.
        target: { temporal: 'time-skipping test server' },
        headline: {
          wall_s: round(wallSeconds, 2),
          reminders: emails.review_reminder,
          escalations: emails.review_escalated,
        },
      };
    } finally {
      mailer.close();
      await sink.close();
      await env.teardown();
    }
  },
};
