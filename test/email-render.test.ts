import { NOTIFICATION_KINDS } from '../common';
import { renderEmail, renderEmailDirectly } from '../outbox';

const context = { publicUrl: 'https://edms.example.com/base?x=1&y="2"', timezone: 'Europe/Berlin' };

/** Every variable any template reads, with text that HTML, MJML and the slots themselves could trip on. */
function variables(text: string): Record<string, unknown> {
  const instant = '2026-03-29T01:30:00.000Z';
  return {
    actor: text,
    assignee: text,
    attempt: 2,
    attempts: 5,
    backup_type: 'full',
    comment: `${text}\nsecond line`,
    counts: { sent: 3, failed: 1 },
    date: '2026-03-29',
    document_id: '3f0c1a52-9a1e-4c52-a7c5-5b3a2d1e0f11',
    document_number: `SOP-0001 ${text}`,
    due_at: instant,
    effective_at: instant,
    error: text,
    finished_at: instant,
    health_status: 'warning',
    job_id: '7',
    job_name: text,
    kind: 'approval',
    obsolete_at: null,
    started_at: instant,
    status: 'failed',
    summary: { checked: 4, text },
    template_type: 'webhook',
    title: text,
    triggered_by: 'admin',
    until: instant,
    version: 3,
  };
}

const TEXTS = [
  'Plain title',
  `<script>alert("x")</script> & 'quotes' "double" <b>bold</b>`,
  'edms-slot-p0-end edms-slot-subject-end $& $1 $$',
  'Ünïcödé — 日本語 — emoji 📄',
  '&amp; &lt;already escaped&gt; &#39;',
];

// The layout is rendered once per shape and filled in per email: each email must come out exactly as
// rendering it through MJML on its own does.
describe.each(NOTIFICATION_KINDS.map((kind) => [kind]))('the %s email', (kind) => {
  test.each(TEXTS.map((text) => [text]))('with %j is the HTML MJML renders for it', async (text) => {
    const rendered = await renderEmail(kind, variables(text), context);
    expect(rendered.html).toBe(await renderEmailDirectly(kind, variables(text), context));
  });
});
