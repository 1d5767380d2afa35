import { createTransport, type Transporter } from 'nodemailer';
import type { MailSettings } from '../../outbox';
import { startSmtpSink, type SmtpSink } from '../../launcher/smtp-sink';

let sink: Promise<SmtpSink> | undefined;
let mailer: Transporter | undefined;

/** A real SMTP server for this test file; the tests read what the workers sent to it. */
export function testMailSink(): Promise<SmtpSink> {
  sink ??= startSmtpSink({ unref: true });
  return sink;
}

export async function testMailer(): Promise<Transporter> {
  mailer ??= createTransport((await testMailSink()).url);
  return mailer;
}

export const TEST_MAIL_SETTINGS: MailSettings = {
  from: 'EDMS <edms@example.test>',
  publicUrl: 'http://edms.example.test',
  timezone: 'UTC',
};
