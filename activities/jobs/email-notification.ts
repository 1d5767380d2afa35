import type { EmailNotificationParameters } from '../../jobs/parameter-schemas';
import { EMAIL_TEMPLATE_KINDS, JOB_MESSAGE_KIND, type EmailTemplateKind } from '../../common';
import { renderEmail, type RenderedEmail } from '../../outbox';
import { sendJobEmails, type JobEmail } from './outbox-mail';
import { validatedParams, type JobRequest, type JobTemplateDeps, type JobTemplateResult } from './types';

const isTemplateKind = (kind: string): kind is EmailTemplateKind =>
  (EMAIL_TEMPLATE_KINDS as readonly string[]).includes(kind);

export function createEmailNotification(deps: JobTemplateDeps) {
  const { mail } = deps;

  /** Renders a stored row: an EDMS template (MJML) with its variables, or the job's plain message. */
  async function render({ kind, variables }: Pick<JobEmail, 'kind' | 'variables'>): Promise<RenderedEmail> {
    if (isTemplateKind(kind)) {
      const email = await renderEmail(kind, variables, mail);
      const subject = typeof variables.subject_override === 'string' ? variables.subject_override : email.subject;
      return { ...email, subject };
    }
    return { subject: String(variables.subject ?? ''), text: String(variables.body ?? ''), html: '' };
  }

  return async function runEmailNotification(
    request: JobRequest<EmailNotificationParameters>,
  ): Promise<JobTemplateResult> {
    const params = validatedParams('email_notification', request.params);
    const kind = params.template ?? JOB_MESSAGE_KIND;
    const variables: Record<string, unknown> = params.template
      ? { ...params.variables, ...(params.subject ? { subject_override: params.subject } : {}), job_id: request.jobId }
      : { subject: params.subject, body: params.body, job_id: request.jobId };
    const preview = await render({ kind, variables });
    const recipients = params.recipients;
    const logs = [`rendered ${kind}: "${preview.subject}"`];

    if (request.dryRun) {
      logs.push(`dry run: would send to ${recipients.length} recipient(s)`);
      return {
        summary: `Would send "${preview.subject}" to ${recipients.length} recipient(s)`,
        result: { template: kind, subject: preview.subject, preview: preview.text.slice(0, 500), recipients },
        logs,
      };
    }

    const outcomes = await sendJobEmails(
      deps,
      request.executionKey,
      recipients.map((recipient) => ({ recipient, kind, variables })),
      render,
    );
    const sent = outcomes.filter((o) => o.outcome === 'sent').map((o) => o.recipient);
    const alreadySent = outcomes.filter((o) => o.outcome === 'already_sent').map((o) => o.recipient);
    if (sent.length > 0) logs.push(`sent to ${sent.join(', ')}`);
    if (alreadySent.length > 0) logs.push(`already sent earlier to ${alreadySent.join(', ')}`);
    return {
      summary: `Sent "${preview.subject}" to ${sent.length} recipient(s)${alreadySent.length ? `, ${alreadySent.length} already sent` : ''}`,
      result: {
        template: kind,
        subject: preview.subject,
        sent_count: sent.length,
        already_sent_count: alreadySent.length,
        recipients: outcomes,
      },
      logs,
    };
  };
}
