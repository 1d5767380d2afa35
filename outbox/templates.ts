import type { NotificationKind } from '../common';

type Variables = Record<string, unknown>;

/** What an email says, independent of how it is laid out (MJML for HTML, plain text). */
export interface EmailContent {
  subject: string;
  heading: string;
  paragraphs: string[];
  action?: { label: string; url: string };
}

export interface TemplateContext {
  /** Base URL of the API, for links to the document. */
  publicUrl: string;
  timezone: string;
}

const text = (value: unknown) => (value === null || value === undefined ? '' : String(value));

/** One formatter per zone: building one costs more than a whole email's other text (about 0.3 ms). */
const formatters = new Map<string, Intl.DateTimeFormat>();

function when(value: unknown, context: TemplateContext): string {
  if (typeof value !== 'string') return 'not set';
  let format = formatters.get(context.timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: context.timezone });
    formatters.set(context.timezone, format);
  }
  return `${format.format(new Date(value))} (${context.timezone})`;
}

const documentLabel = (v: Variables) => `${text(v.document_number)} "${text(v.title)}"`;

const documentLink = (v: Variables, context: TemplateContext) => ({
  label: 'Open the document',
  url: `${context.publicUrl}/api/v1/documents/${text(v.document_id)}`,
});

const jobLink = (v: Variables, context: TemplateContext) => ({
  label: 'Open the job executions',
  url: `${context.publicUrl}/api/v1/scheduler-jobs/${text(v.job_id)}/executions`,
});

const taskName = (v: Variables) => (v.kind === 'approval' ? 'approval' : 'review');
const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** One template per notification kind. */
export const EMAIL_TEMPLATES: Record<NotificationKind, (v: Variables, context: TemplateContext) => EmailContent> = {
  review_assigned: (v, c) => ({
    subject: `[EDMS] ${capitalized(taskName(v))} requested: ${documentLabel(v)}`,
    heading: `Your ${taskName(v)} is requested`,
    paragraphs: [
      `${text(v.assignee)}, you have been asked to ${v.kind === 'approval' ? 'approve' : 'review'} ${documentLabel(v)}.`,
      `It is due ${when(v.due_at, c)}.`,
    ],
    action: documentLink(v, c),
  }),
  review_reminder: (v, c) => ({
    subject: `[EDMS] Reminder: ${taskName(v)} overdue for ${documentLabel(v)}`,
    heading: `Your ${taskName(v)} is overdue`,
    paragraphs: [
      `${text(v.assignee)}, your ${taskName(v)} of ${documentLabel(v)} was due ${when(v.due_at, c)} and is still open.`,
      'Please record your decision, or ask document control to reassign the task.',
    ],
    action: documentLink(v, c),
  }),
  review_escalated: (v, c) => ({
    subject: `[EDMS] Escalation: ${taskName(v)} by ${text(v.assignee)} overdue for ${documentLabel(v)}`,
    heading: 'An overdue task is escalated to you',
    paragraphs: [
      `The ${taskName(v)} of ${documentLabel(v)} assigned to ${text(v.assignee)} was due ${when(v.due_at, c)} and is still open.`,
      'As their manager (or as an administrator), please follow up or reassign the task.',
    ],
    action: documentLink(v, c),
  }),
  document_approved: (v, c) => ({
    subject: `[EDMS] Approved: ${documentLabel(v)}`,
    heading: 'Your document is approved',
    paragraphs: [
      `${documentLabel(v)} version ${text(v.version)} was approved by ${text(v.actor)}.`,
      `It becomes effective ${when(v.effective_at, c)}.`,
      ...(v.comment ? [`Comment: ${text(v.comment)}`] : []),
    ],
    action: documentLink(v, c),
  }),
  document_effective: (v, c) => ({
    subject: `[EDMS] Effective: ${documentLabel(v)}`,
    heading: 'Your document is now effective',
    paragraphs: [`${documentLabel(v)} version ${text(v.version)} became EFFECTIVE ${when(v.effective_at, c)}.`],
    action: documentLink(v, c),
  }),
  document_obsolete: (v, c) => ({
    subject: `[EDMS] Obsolete: ${documentLabel(v)}`,
    heading: 'Your document is now obsolete',
    paragraphs: [`${documentLabel(v)} version ${text(v.version)} became OBSOLETE ${when(v.obsolete_at, c)}.`],
    action: documentLink(v, c),
  }),
  document_superseded: (v, c) => ({
    subject: `[EDMS] Superseded: ${documentLabel(v)}`,
    heading: 'Your document was superseded',
    paragraphs: [
      `${documentLabel(v)} version ${text(v.version)} became OBSOLETE ${when(v.obsolete_at, c)}: a newer version is now effective.`,
      ...(v.comment ? [text(v.comment)] : []),
    ],
    action: documentLink(v, c),
  }),
  backup_failed: (v, c) => ({
    subject: `[EDMS] Backup failed: ${text(v.backup_type)} backup of ${when(v.started_at, c)}`,
    heading: 'A backup failed',
    paragraphs: [
      `The ${text(v.backup_type)} backup started ${when(v.started_at, c)} failed on attempt ${text(v.attempt)}.`,
      `Error: ${text(v.error)}`,
      'Temporal retries it; check the run in the Temporal Web UI and the monitoring status.',
    ],
    action: { label: 'Open the monitoring status', url: `${c.publicUrl}/api/v1/scheduler/monitoring/status/` },
  }),
  job_succeeded: (v, c) => ({
    subject: `[EDMS] Job succeeded: ${text(v.job_name)}`,
    heading: `Scheduled job ${text(v.job_name)} succeeded`,
    paragraphs: [
      `The ${text(v.template_type)} job ${text(v.job_name)} finished ${when(v.finished_at, c)} after ${text(v.attempts)} attempt(s), started by ${text(v.triggered_by)}.`,
      text(v.summary),
    ],
    action: jobLink(v, c),
  }),
  job_failed: (v, c) => ({
    subject: `[EDMS] Job ${text(v.status)}: ${text(v.job_name)}`,
    heading: `Scheduled job ${text(v.job_name)} failed`,
    paragraphs: [
      `The ${text(v.template_type)} job ${text(v.job_name)} ended ${text(v.status)} ${when(v.finished_at, c)} after ${text(v.attempts)} attempt(s), started by ${text(v.triggered_by)}.`,
      `Error: ${text(v.error)}`,
      'A recurring job runs again at its next time; its executions show each attempt, and the Temporal Web UI the run.',
    ],
    action: jobLink(v, c),
  }),
  daily_summary: (v, c) => {
    const counts = (v.counts ?? {}) as Record<string, number>;
    const line = (label: string, key: string) => `${label}: ${counts[key] ?? 0}`;
    return {
      subject: `[EDMS] Daily summary for ${text(v.date)}`,
      heading: `Document control, the 24 hours to ${when(v.until, c)}`,
      paragraphs: [
        [
          line('Documents created', 'documents_created'),
          line('Became effective', 'documents_effective'),
          line('Became obsolete', 'documents_obsolete'),
          line('Awaiting their effective date', 'documents_pending_effective'),
        ].join(' · '),
        [
          line('Open review and approval tasks', 'open_tasks'),
          line('Overdue', 'overdue_tasks'),
          line('Escalated today', 'escalations'),
        ].join(' · '),
        [
          line('System task runs', 'task_runs'),
          line('Failed', 'task_runs_failed'),
          line('Emails not yet delivered', 'notifications_undelivered'),
        ].join(' · '),
        `Last health check: ${text(v.health_status ?? 'none yet')}.`,
      ],
      action: { label: 'Open the monitoring status', url: `${c.publicUrl}/api/v1/scheduler/monitoring/status/` },
    };
  },
};
