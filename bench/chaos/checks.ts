/**
 * What the crash test checks once the system is quiet, each from its source of truth: the database
 * (documents, transitions, audit trail, outbox), Temporal (workflow outcomes through a visibility
 * query) and the mail sink (.eml files). Every finding is a line naming the document or email and
 * what was wrong; an empty list is a pass.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Sql } from 'postgres';
import type { TrackedDocument } from './workload';

/** Every status change an undisturbed document makes on its way through the crash test, in order. */
export const EXPECTED_TRANSITIONS = [
  'null>DRAFT',
  'DRAFT>PENDING_REVIEW',
  'PENDING_REVIEW>UNDER_REVIEW',
  'UNDER_REVIEW>REVIEWED',
  'REVIEWED>PENDING_APPROVAL',
  'PENDING_APPROVAL>APPROVED_PENDING_EFFECTIVE',
  'APPROVED_PENDING_EFFECTIVE>EFFECTIVE',
  'EFFECTIVE>SCHEDULED_FOR_OBSOLESCENCE',
  'SCHEDULED_FOR_OBSOLESCENCE>OBSOLETE',
];

/** Audit entries per document and action: one per transition, one per review or approval decision. */
export function expectedAuditCounts(decisions: number): Record<string, number> {
  return {
    DOCUMENT_CREATED: 1,
    DOCUMENT_SUBMITTED: 1,
    DOCUMENT_REVIEW_STARTED: 1,
    REVIEW_TASK_DECIDED: decisions,
    DOCUMENT_REVIEWED: 1,
    DOCUMENT_APPROVAL_STARTED: 1,
    DOCUMENT_APPROVED: 1,
    DOC_EFFECTIVE_PROCESSED: 1,
    DOCUMENT_OBSOLESCENCE_SCHEDULED: 1,
    DOC_OBSOLETE_PROCESSED: 1,
  };
}

/** Emails per document: kind and recipient, each exactly once. */
export function expectedEmails(author: string, assignees: readonly string[]): string[] {
  const to = (username: string) => `${username}@chaos.example`;
  return [
    ...assignees.map((name) => `review_assigned ${to(name)}`),
    ...['document_approved', 'document_effective', 'document_obsolete'].map((kind) => `${kind} ${to(author)}`),
  ];
}

/** The workflow types of the documents' own work, which must all have finished when the system is quiet. */
const DOCUMENT_WORKFLOW_TYPES = ['documentLifecycle', 'notificationDelivery', 'reviewTimers'];

/** How far the system is from quiet: what is still moving. */
export interface Progress {
  notObsolete: number;
  outboxNotSent: number;
  runningWorkflows: number;
}

export async function progress(sql: Sql, temporal: Client): Promise<Progress> {
  const [row] = await sql<{ not_obsolete: number; not_sent: number }[]>`
    select (select count(*)::int from documents where status <> 'OBSOLETE') as not_obsolete,
           (select count(*)::int from notification_outbox where status <> 'sent') as not_sent`;
  const types = DOCUMENT_WORKFLOW_TYPES.map((type) => `'${type}'`).join(', ');
  const running = await temporal.workflow.count(`ExecutionStatus = 'Running' AND WorkflowType IN (${types})`);
  return { notObsolete: row!.not_obsolete, outboxNotSent: row!.not_sent, runningWorkflows: running.count };
}

/** Waits until nothing moves (every document OBSOLETE, every email sent, no document workflow running). */
export async function waitForQuiet(
  sql: Sql,
  temporal: Client,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<Progress> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    let now: Progress | undefined;
    try {
      now = await progress(sql, temporal);
    } catch (error) {
      log(`progress check failed (${(error as Error).message}); trying again`);
    }
    if (now) {
      const line = `not OBSOLETE ${now.notObsolete}, emails not sent ${now.outboxNotSent}, document workflows running ${now.runningWorkflows}`;
      if (line !== last) log(line);
      last = line;
      if (now.notObsolete + now.outboxNotSent + now.runningWorkflows === 0) return now;
      if (Date.now() > deadline) return now;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

export interface TimedTransition {
  event: 'EFFECTIVE' | 'OBSOLETE';
  number: string;
  requestedMs: number;
  actualMs: number;
}

/** The findings and the figures behind them. */
export interface CheckResult {
  problems: string[];
  /** Seconds each EFFECTIVE / OBSOLETE transition came after its requested instant. */
  effectiveLatenessS: number[];
  obsoleteLatenessS: number[];
  /** Every timed transition with its requested and actual instant (epoch ms), to tell why one was late. */
  timed: TimedTransition[];
  counts: Record<string, number>;
  /**
   * Emails received twice with the same Message-ID whose outbox row was claimed again after an
   * attempt that never recorded it sent: the SMTP server had accepted it, then the sender died
   * before the `sent` mark (outbox/deliver.ts). SMTP has no idempotent hand-off, so this window is
   * inherent; the repeated Message-ID lets receivers drop the copy. Reported, not a failure; a
   * copy without a second claim is.
   */
  redelivered: string[];
}

/** Checks the database's view of every tracked document. */
async function checkDatabase(
  sql: Sql,
  documents: readonly TrackedDocument[],
  cast: { author: string; assignees: readonly string[] },
  result: CheckResult,
): Promise<void> {
  const { problems } = result;
  const byId = new Map(documents.map((document) => [document.id, document]));
  const rows = await sql<{ id: string; status: string; effective_at: Date | null; obsolete_at: Date | null }[]>`
    select id, status, effective_at, obsolete_at from documents`;
  result.counts.documents = rows.length;
  for (const row of rows) {
    const tracked = byId.get(row.id);
    if (!tracked) problems.push(`document ${row.id} was not created by the crash test`);
    else if (row.status !== 'OBSOLETE') problems.push(`${tracked.number}: ${row.status}, not OBSOLETE`);
  }
  for (const document of documents) {
    if (!rows.some((row) => row.id === document.id)) problems.push(`${document.number}: missing from the database`);
  }

  const transitions = await sql<{ document_id: string; step: string; occurred_at: Date }[]>`
    select document_id, coalesce(from_status::text, 'null') || '>' || to_status as step, occurred_at
    from document_transitions order by document_id, occurred_at, id`;
  result.counts.transitions = transitions.length;
  const steps = new Map<string, { step: string; at: Date }[]>();
  for (const t of transitions) {
    const list = steps.get(t.document_id) ?? [];
    list.push({ step: t.step, at: t.occurred_at });
    steps.set(t.document_id, list);
  }
  for (const document of documents) {
    const list = steps.get(document.id) ?? [];
    const seen = list.map((entry) => entry.step);
    if (seen.join(' ') !== EXPECTED_TRANSITIONS.join(' ')) {
      const missing = EXPECTED_TRANSITIONS.filter((step) => !seen.includes(step));
      const extra = seen.filter((step, i) => seen.indexOf(step) !== i || !EXPECTED_TRANSITIONS.includes(step));
      problems.push(
        `${document.number}: transitions ${seen.join(', ')}` +
          (missing.length ? `; missing ${missing.join(', ')}` : '') +
          (extra.length ? `; duplicated or unexpected ${extra.join(', ')}` : ''),
      );
    }
    const at = (step: string) => list.find((entry) => entry.step === step)?.at;
    const effective = at('APPROVED_PENDING_EFFECTIVE>EFFECTIVE');
    if (effective && document.effectiveAt) {
      const requestedMs = Date.parse(document.effectiveAt);
      result.effectiveLatenessS.push((effective.getTime() - requestedMs) / 1000);
      result.timed.push({ event: 'EFFECTIVE', number: document.number, requestedMs, actualMs: effective.getTime() });
    }
    const obsolete = at('SCHEDULED_FOR_OBSOLESCENCE>OBSOLETE');
    if (obsolete && document.obsoleteAt) {
      const requestedMs = Date.parse(document.obsoleteAt);
      result.obsoleteLatenessS.push((obsolete.getTime() - requestedMs) / 1000);
      result.timed.push({ event: 'OBSOLETE', number: document.number, requestedMs, actualMs: obsolete.getTime() });
    }
  }
  for (const row of rows) {
    const tracked = byId.get(row.id);
    if (!tracked) continue;
    if (row.effective_at?.toISOString() !== tracked.effectiveAt) {
      problems.push(
        `${tracked.number}: effective_at ${row.effective_at?.toISOString()}, requested ${tracked.effectiveAt}`,
      );
    }
    if (row.obsolete_at?.toISOString() !== tracked.obsoleteAt) {
      problems.push(
        `${tracked.number}: obsolete_at ${row.obsolete_at?.toISOString()}, requested ${tracked.obsoleteAt}`,
      );
    }
  }

  // A review task's entries name their document in their details.
  const audit = await sql<{ entity_id: string; action: string; n: number }[]>`
    select case entity_type when 'document' then entity_id else details->>'document_id' end as entity_id,
           action, count(*)::int as n
    from audit_trail where entity_type in ('document', 'review_task') group by 1, 2`;
  result.counts.documentAuditEntries = audit.reduce((sum, row) => sum + row.n, 0);
  const expectedAudit = expectedAuditCounts(cast.assignees.length);
  for (const document of documents) {
    const actual = new Map(audit.filter((row) => row.entity_id === document.id).map((row) => [row.action, row.n]));
    for (const [action, n] of Object.entries(expectedAudit)) {
      const got = actual.get(action) ?? 0;
      if (got !== n) problems.push(`${document.number}: ${got} audit entries ${action}, expected ${n}`);
    }
    for (const [action, n] of actual) {
      if (action === 'LATENESS_SLA_BREACHED') continue;
      if (!(action in expectedAudit) && n > 1) problems.push(`${document.number}: ${n} audit entries ${action}`);
    }
    // A crash can make EFFECTIVE or OBSOLETE later than the lateness SLA: audited once per event at most.
    const breaches = actual.get('LATENESS_SLA_BREACHED') ?? 0;
    if (breaches > 2) problems.push(`${document.number}: ${breaches} LATENESS_SLA_BREACHED entries for 2 timed events`);
  }
  result.counts.latenessSlaBreaches = audit
    .filter((row) => row.action === 'LATENESS_SLA_BREACHED')
    .reduce((sum, row) => sum + row.n, 0);

  const outbox = await sql<{ document_id: string | null; email: string; status: string; n: number }[]>`
    select document_id, kind || ' ' || recipient as email, status::text, count(*)::int as n
    from notification_outbox group by document_id, kind, recipient, status`;
  result.counts.outboxRows = outbox.reduce((sum, row) => sum + row.n, 0);
  for (const row of outbox) {
    if (row.status !== 'sent')
      problems.push(`outbox: ${row.n} × ${row.email} (document ${row.document_id}) ${row.status}`);
  }
  const expectedMail = expectedEmails(cast.author, cast.assignees);
  for (const document of documents) {
    const mine = outbox.filter((row) => row.document_id === document.id);
    for (const email of expectedMail) {
      const n = mine.filter((row) => row.email === email).reduce((sum, row) => sum + row.n, 0);
      if (n !== 1) problems.push(`${document.number}: ${n} outbox rows ${email}, expected 1`);
    }
    for (const row of mine) {
      if (!expectedMail.includes(row.email)) problems.push(`${document.number}: unexpected outbox row ${row.email}`);
    }
  }
}

/** The headers of an .eml file that matter here, unfolded. */
function headersOf(raw: string): Map<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

/** Every sent outbox row arrived in the mail sink exactly once (by Message-ID), and nothing else did. */
async function checkMailSink(sql: Sql, mailDir: string, result: CheckResult): Promise<void> {
  const received = new Map<string, string[]>();
  const files = (await readdir(mailDir).catch(() => [])).filter((name) => name.endsWith('.eml'));
  for (const name of files) {
    const headers = headersOf(await readFile(path.join(mailDir, name), 'utf8'));
    const id = headers.get('message-id') ?? `(no Message-ID: ${name})`;
    received.set(id, [...(received.get(id) ?? []), `${name} to ${headers.get('to')}: ${headers.get('subject')}`]);
  }
  result.counts.emailsReceived = files.length;
  const rows = await sql<{ message_id: string | null; email: string; status: string; attempts: number }[]>`
    select message_id, kind || ' ' || recipient as email, status::text, attempts from notification_outbox`;
  const expected = new Set<string>();
  for (const row of rows) {
    if (row.status !== 'sent') continue;
    if (!row.message_id) {
      result.problems.push(`outbox: ${row.email} sent without a Message-ID`);
      continue;
    }
    expected.add(row.message_id);
    const copies = received.get(row.message_id) ?? [];
    if (copies.length === 0) result.problems.push(`mail: ${row.email} ${row.message_id} marked sent, never received`);
    if (copies.length > 1) {
      const line = `mail: ${row.email} ${row.message_id} received ${copies.length} times in ${row.attempts} claims: ${copies.join('; ')}`;
      // Each copy needs a claim of its own: more copies than claims is a real duplicate.
      if (copies.length <= row.attempts) result.redelivered.push(line);
      else result.problems.push(line);
    }
  }
  for (const [id, copies] of received) {
    if (!expected.has(id))
      result.problems.push(`mail: ${copies.length} × ${id} not from a sent outbox row: ${copies[0]}`);
  }
}

/** No workflow ended badly, and none of the documents' own is still running. */
async function checkTemporal(temporal: Client, result: CheckResult): Promise<void> {
  const bad = temporal.workflow.list({
    query: `ExecutionStatus = 'Failed' OR ExecutionStatus = 'Terminated' OR ExecutionStatus = 'TimedOut' OR ExecutionStatus = 'Canceled'`,
  });
  for await (const workflow of bad) {
    result.problems.push(`workflow ${workflow.workflowId} (${workflow.type}) ${workflow.status.name}`);
  }
  const types = DOCUMENT_WORKFLOW_TYPES.map((type) => `'${type}'`).join(', ');
  for await (const workflow of temporal.workflow.list({
    query: `ExecutionStatus = 'Running' AND WorkflowType IN (${types})`,
  })) {
    result.problems.push(`workflow ${workflow.workflowId} (${workflow.type}) still running`);
  }
  result.counts.completedDocumentWorkflows = (
    await temporal.workflow.count(`ExecutionStatus = 'Completed' AND WorkflowType = 'documentLifecycle'`)
  ).count;
  result.counts.completedDeliveries = (
    await temporal.workflow.count(`ExecutionStatus = 'Completed' AND WorkflowType = 'notificationDelivery'`)
  ).count;
}

/** Runs every check; see the module comment. */
export async function checkEverything(
  sources: { sql: Sql; temporal: Client; mailDir: string },
  documents: readonly TrackedDocument[],
  cast: { author: string; assignees: readonly string[] },
): Promise<CheckResult> {
  const result: CheckResult = {
    problems: [],
    effectiveLatenessS: [],
    obsoleteLatenessS: [],
    timed: [],
    counts: {},
    redelivered: [],
  };
  await checkDatabase(sources.sql, documents, cast, result);
  await checkMailSink(sources.sql, sources.mailDir, result);
  await checkTemporal(sources.temporal, result);
  return result;
}
