import type { Transporter } from 'nodemailer';
import type { MailSettings } from '../../outbox';
import { createMailer } from '../../outbox/mailer';
import { startSmtpSink, type SmtpSink } from '../../launcher/smtp-sink';

let sink: Promise<SmtpSink> | undefined;
let mailer: Transporter | undefined;

/** A real SMTP server for this test file; the tests read what the workers sent to it. */
export function testMailSink(): Promise<SmtpSink> {
  sink ??= startSmtpSink({ unref: true });
  return sink;
}

/** The workers' transport (pooled, as in production) to this file's sink. */
export async function testMailer(): Promise<Transporter> {
  mailer ??= createMailer((await testMailSink()).url);
  return mailer;
}

/** Closes the pooled connections of this file's mailer: left open, they would keep Jest running. */
export function closeTestMailer(): void {
  mailer?.close();
  mailer = undefined;
}

export const TEST_MAIL_SETTINGS: MailSettings = {
  from: 'EDMS <edms@example.test>',
  publicUrl: 'http://edms.example.test',
  timezone: 'UTC',
};
