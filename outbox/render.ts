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

/** Renders MJML to HTML, refusing MJML that is not valid. */
export async function mjmlToHtml(mjml: string, what: string): Promise<string> {
  const result = await mjml2html(mjml, { validationLevel: 'strict' });
  if (result.errors.length > 0) {
    throw new Error(`${what} is invalid MJML: ${result.errors.map((e) => e.formattedMessage).join('; ')}`);
  }
  return result.html;
}

/**
 * Where a text goes in a layout rendered once: letters, digits and hyphens only, which MJML carries
 * through unchanged into element text and attribute values alike.
 */
const slot = (name: string) => `edms-slot-${name}-end`;
const SLOT_PATTERN = /edms-slot-([a-z0-9]+)-end/g;

/**
 * The layout's HTML per shape (number of paragraphs, with or without a button), with slots where
 * the texts go. MJML takes a few milliseconds per email, most of an email delivery's CPU: a burst
 * of documents due at one instant sends hundreds, all of a handful of shapes. Each email then
 * costs one pass of string replacement. test/email-render.test.ts checks the result is what
 * rendering each email through MJML gives.
 */
const layouts = new Map<string, Promise<string>>();

function layoutHtml(paragraphs: number, action: boolean): Promise<string> {
  const shape = `${paragraphs}:${action}`;
  let html = layouts.get(shape);
  if (!html) {
    const slots: EmailContent = {
      subject: slot('subject'),
      heading: slot('heading'),
      paragraphs: Array.from({ length: paragraphs }, (_, index) => slot(`p${index}`)),
      ...(action ? { action: { label: slot('label'), url: slot('url') } } : {}),
    };
    html = mjmlToHtml(layout(slots), `the email layout (${shape})`);
    // A failed render is not kept: the next email tries again.
    html.catch(() => layouts.delete(shape));
    layouts.set(shape, html);
  }
  return html;
}

/** Renders a notification to subject, HTML (MJML) and plain text. */
export async function renderEmail(
  kind: NotificationKind,
  variables: Record<string, unknown>,
  context: TemplateContext,
): Promise<RenderedEmail> {
  const content = EMAIL_TEMPLATES[kind](variables, context);
  const texts: Record<string, string> = {
    subject: content.subject,
    heading: content.heading,
    ...Object.fromEntries(content.paragraphs.map((text, index) => [`p${index}`, text])),
    ...(content.action ? { label: content.action.label, url: content.action.url } : {}),
  };
  const layoutFor = await layoutHtml(content.paragraphs.length, content.action !== undefined);
  const html = layoutFor.replace(SLOT_PATTERN, (_, name: string) => escapeHtml(texts[name] ?? ''));
  return { subject: content.subject, html, text: plainText(content) };
}

/** The same email rendered through MJML on its own, as every email was before layouts were reused. */
export async function renderEmailDirectly(
  kind: NotificationKind,
  variables: Record<string, unknown>,
  context: TemplateContext,
): Promise<string> {
  return mjmlToHtml(layout(EMAIL_TEMPLATES[kind](variables, context)), `email template ${kind}`);
}
