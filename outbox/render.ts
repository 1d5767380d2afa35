import mjml2html from 'mjml';
import type { NotificationKind } from '../common';
import { EMAIL_TEMPLATES, type EmailContent, type TemplateContext } from './templates';
import { escapeHtml } from '../lib/html';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** The shared layout of every EDMS email, in MJML so it renders well in every mail client. */
function layout(content: EmailContent): string {
  const paragraphs = content.paragraphs
    .map((p) => `<mj-text font-size="15px" line-height="22px">${escapeHtml(p)}</mj-text>`)
    .join('\n');
  const action = content.action
    ? `<mj-button href="${escapeHtml(content.action.url)}" background-color="#1f4e79">${escapeHtml(content.action.label)}</mj-button>`
    : '';
  return `<mjml>
  <mj-head><mj-title>${escapeHtml(content.subject)}</mj-title></mj-head>
  <mj-body background-color="#f4f5f7">
    <mj-section background-color="#1f4e79"><mj-column>
      <mj-text color="#ffffff" font-size="13px" font-weight="bold">EDMS document control</mj-text>
    </mj-column></mj-section>
    <mj-section background-color="#ffffff"><mj-column>
      <mj-text font-size="20px" font-weight="bold">${escapeHtml(content.heading)}</mj-text>
      ${paragraphs}
      ${action}
    </mj-column></mj-section>
    <mj-section><mj-column>
      <mj-text font-size="11px" color="#6b7280">Sent by the EDMS lifecycle engine. Do not reply to this message.</mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>`;
}

function plainText(content: EmailContent): string {
  return [
    content.heading,
    '',
    ...content.paragraphs.flatMap((p) => [p, '']),
    ...(content.action ? [`${content.action.label}: ${content.action.url}`, ''] : []),
    '-- ',
    'Sent by the EDMS lifecycle engine. Do not reply to this message.',
  ].join('\n');
}

/** Renders a notification to subject, HTML (MJML) and plain text. */
export async function renderEmail(
  kind: NotificationKind,
  variables: Record<string, unknown>,
  context: TemplateContext,
): Promise<RenderedEmail> {
  const content = EMAIL_TEMPLATES[kind](variables, context);
  const result = await mjml2html(layout(content), { validationLevel: 'strict' });
  if (result.errors.length > 0) {
    throw new Error(
      `email template ${kind} is invalid MJML: ${result.errors.map((e) => e.formattedMessage).join('; ')}`,
    );
  }
  return { subject: content.subject, html: result.html, text: plainText(content) };
}
