import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

export interface SmtpSink {
  port: number;
  url: string;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  port?: number;
  host?: string;
  /** Keep every message as an .eml file here (the dev system's mailbox). */
  directory?: string;
  onMail?: (mail: ReceivedMail) => void;
  /** Do not keep the process alive for this server (tests). */
  unref?: boolean;
}

/**
 * A real SMTP server that accepts every message and keeps it: the mailbox of `npm start` (files
 * under .data/mail) and of the tests (in memory). Loopback only, no authentication, no TLS.
 */
export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  if (options.directory) await mkdir(options.directory, { recursive: true });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then(async (parsed) => {
            const mail: ReceivedMail = {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              messageId: parsed.messageId ?? '',
              headers: Object.fromEntries([...parsed.headers.entries()].map(([key, value]) => [key, String(value)])),
            };
            messages.push(mail);
            if (options.directory) {
              const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${messages.length}.eml`;
              await writeFile(path.join(options.directory, name), raw);
            }
            options.onMail?.(mail);
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  if (options.unref) server.server.unref();
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    url: `smtp://${options.host ?? '127.0.0.1'}:${port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
