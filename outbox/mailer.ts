import { createTransport, type Transporter } from 'nodemailer';

/**
 * Connections a worker keeps open to the mail server, and messages each carries before it is
 * replaced: nodemailer's pool defaults, stated here because the README tells operators about them.
 */
export const SMTP_POOL = { maxConnections: 5, maxMessages: 100 } as const;

/**
 * The worker's SMTP transport for `smtpUrl` (`smtp://` or `smtps://`, as SMTP_URL): nodemailer's
 * pooled transport, so deliveries reuse up to SMTP_POOL.maxConnections open connections instead of
 * opening one per email. A new connection costs the TCP and TLS handshakes and the server's
 * greeting, which mail servers hold back on purpose to catch spammers that talk too early: 100 ms
 * from the embedded mailbox (smtp-server's early-talker check), seconds from an MTA behind Postfix's
 * postscreen. Measured with the embedded mailbox: 110 ms per email unpooled, 4 ms pooled. A
 * `pool=false` (or another pool setting) in the URL's query wins over these.
 */
export function createMailer(smtpUrl: string): Transporter {
  return createTransport({ url: smtpUrl, pool: true, ...SMTP_POOL });
}
