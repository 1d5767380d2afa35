import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { eq, sql } from 'drizzle-orm';
import { createTransport, type Transporter } from 'nodemailer';
import { createNotificationActivities, NotificationDeliveryFailed } from '../activities/notifications';
import type { NotificationKind } from '../common';
import { connectDatabase, schema, type DatabaseHandle } from '../db';
import { createMailer, renderEmail } from '../outbox';
import { startSmtpSink, type SmtpSink } from '../launcher/smtp-sink';
import { seedDocument, type SeededDocument } from './helpers/documents';
import { TEST_MAIL_SETTINGS } from './helpers/mail';
import { waitFor } from './helpers/wait';
import { freePort } from '../lib/ports';
import { testDatabaseUrl } from './helpers/resources';

let database: DatabaseHandle;
let sink: SmtpSink;

beforeAll(async () => {
  database = connectDatabase(testDatabaseUrl());
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink?.close();
  await database?.close();
});

const workingMailer = () => createTransport(sink.url);

async function unreachableMailer() {
  return createTransport({ host: '127.0.0.1', port: await freePort(), connectionTimeout: 2000 });
}

function activitiesWith(mailer: Transporter) {
  return createNotificationActivities({ database, mailer, mail: TEST_MAIL_SETTINGS });
}

// Expected failures are asserted, not logged.
const QUIET = { logger: new DefaultLogger('ERROR') };

/** One activity execution of a delivery workflow; retries of it share its idempotency key. */
function execution() {
  return new MockActivityEnvironment(
    {
      activityId: '1',
      workflowExecution: { workflowId: `notify-${randomUUID()}`, runId: randomUUID() },
    },
    QUIET,
  );
}

async function deliver(attempt: MockActivityEnvironment, mailer: ReturnType<typeof createTransport>, key: string) {
  return attempt.run(activitiesWith(mailer).deliverNotification, key) as Promise<string>;
}

async function outboxEmail(document: SeededDocument, kind: NotificationKind = 'document_effective') {
  const key = `test:${randomUUID()}`;
  await database.db.insert(schema.notificationOutbox).values({
    idempotencyKey: key,
    kind,
    recipient: document.author.email,
    documentId: document.id,
    variables: {
      document_number: `DOC-${key.slice(-8)}`,
      title: 'Cleaning of tablet press',
      version: 1,
      effective_at: '2027-03-01T00:00:00.000Z',
    },
  });
  return key;
}

async function row(key: string) {
  const [found] = await database.db
    .select()
    .from(schema.notificationOutbox)
    .where(eq(schema.notificationOutbox.idempotencyKey, key));
  if (!found) throw new Error(`no outbox row ${key}`);
  return found;
}

const receivedFor = (key: string) => sink.messages.filter((mail) => mail.subject.includes(key.slice(-8)));

test('an email is sent once: a second delivery of a sent row sends nothing', async () => {
  const document = await seedDocument(database, { reviewers: 1, approvers: 1 });
  const key = await outboxEmail(document);

  expect(await deliver(execution(), workingMailer(), key)).toBe('sent');
  expect(await deliver(execution(), workingMailer(), key)).toBe('already_sent');

  const sent = await row(key);
  expect(sent).toMatchObject({ status: 'sent', attempts: 1, lastError: null });
  expect(sent.sentAt).toBeInstanceOf(Date);
  const received = receivedFor(key);
  expect(received).toHaveLength(1);
  expect(received[0]).toMatchObject({
    to: [document.author.email],
    messageId: sent.messageId,
    subject: expect.stringMatching(/^\[EDMS\] Effective: DOC-/),
  });
  expect(received[0]!.headers['x-edms-notification']).toBe(`document_effective; id=${sent.id}`);
});

test('a failed send leaves the row failed with its error; the retry sends it with the same Message-ID', async () => {
  const document = await seedDocument(database, { reviewers: 1, approvers: 1 });
  const key = await outboxEmail(document);
  const attempt = execution();

  const failure = deliver(attempt, await unreachableMailer(), key);
  await expect(failure).rejects.toThrow(NotificationDeliveryFailed);
  const failed = await row(key);
  expect(failed).toMatchObject({ status: 'failed', attempts: 1, claimedBy: null, sentAt: null });
  expect(failed.lastError).toMatch(/ECONNREFUSED|connect/i);
  expect(receivedFor(key)).toHaveLength(0);

  // The mail server is back; Temporal retries the same activity execution.
  expect(await deliver(attempt, workingMailer(), key)).toBe('sent');
  const sent = await row(key);
  expect(sent).toMatchObject({ status: 'sent', attempts: 2, lastError: null, messageId: failed.messageId });
  expect(receivedFor(key).map((mail) => mail.messageId)).toEqual([failed.messageId]);
});

test('a row another sender holds is left alone until its lease runs out', async () => {
  const document = await seedDocument(database, { reviewers: 1, approvers: 1 });
  const key = await outboxEmail(document);
  const claimed = { status: 'sending' as const, claimedBy: 'another-run:1', claimedAt: new Date() };
  await database.db
    .update(schema.notificationOutbox)
    .set(claimed)
    .where(eq(schema.notificationOutbox.idempotencyKey, key));

  await expect(deliver(execution(), workingMailer(), key)).rejects.toThrow('is being sent by another attempt');
  expect(await row(key)).toMatchObject({ ...claimed, attempts: 0 });
  expect(receivedFor(key)).toHaveLength(0);

  // That sender crashed: after the lease the row is taken over and sent.
  await database.db
    .update(schema.notificationOutbox)
    .set({ claimedAt: sql`now() - interval '11 minutes'` })
    .where(eq(schema.notificationOutbox.idempotencyKey, key));
  expect(await deliver(execution(), workingMailer(), key)).toBe('sent');
  expect(receivedFor(key)).toHaveLength(1);
});

test('an unknown notification key fails loudly', async () => {
  await expect(deliver(execution(), workingMailer(), `missing:${randomUUID()}`)).rejects.toThrow('does not exist');
});

test.each<NotificationKind>([
  'review_assigned',
  'review_reminder',
  'review_escalated',
  'document_approved',
  'document_effective',
  'document_obsolete',
  'document_superseded',
])('the %s email renders from MJML to HTML and plain text', async (kind) => {
  const email = await renderEmail(
    kind,
    {
      document_id: 'd0c',
      document_number: 'DOC-000042',
      title: 'Line clearance <B&W>',
      version: 3,
      kind: 'review',
      assignee: 'rita',
      actor: 'alan',
      due_at: '2027-01-05T09:00:00.000Z',
      effective_at: '2027-02-01T00:00:00.000Z',
      obsolete_at: '2028-02-01T00:00:00.000Z',
    },
    { publicUrl: 'https://edms.example.test', timezone: 'Europe/Berlin' },
  );
  expect(email.subject).toMatch(/^\[EDMS\] .*DOC-000042 "Line clearance <B&W>"$/);
  expect(email.html).toMatch(/^<!doctype html>/i);
  expect(email.html).toContain('DOC-000042 &quot;Line clearance &lt;B&amp;W&gt;&quot;');
  expect(email.html).toContain('href="https://edms.example.test/api/v1/documents/d0c"');
  expect(email.text).toContain('DOC-000042 "Line clearance <B&W>"');
  expect(email.text).toContain('Open the document: https://edms.example.test/api/v1/documents/d0c');
  // Instants are written in EDMS_TIMEZONE.
  expect(email.text).toMatch(/\d{1,2}:\d{2} \(Europe\/Berlin\)/);
});

test('a hand-off its activity gives up on is abandoned, and its late failure leaves a row sent meanwhile as it is', async () => {
  const document = await seedDocument(database, { reviewers: 1, approvers: 1 });
  const key = await outboxEmail(document);
  // A mail server that takes connections and never greets: the send waits until it is abandoned.
  const sockets: Socket[] = [];
  const stalled = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
  const mailer = createMailer(`smtp://127.0.0.1:${(stalled.address() as AddressInfo).port}`);
  const attempt = execution();
  try {
    const delivery = attempt.run(activitiesWith(mailer).deliverNotification, key);
    await waitFor(async () => ((await row(key)).status === 'sending' ? true : undefined));
    // Meanwhile another sender took the row over (its lease ran out) and sent the email.
    await database.db
      .update(schema.notificationOutbox)
      .set({ status: 'sent', claimedBy: 'another-sender', sentAt: new Date() })
      .where(eq(schema.notificationOutbox.idempotencyKey, key));
    attempt.cancel();
    await expect(delivery).rejects.toThrow(NotificationDeliveryFailed);
    await expect(delivery).rejects.toThrow(/aborted/);
    expect(await row(key)).toMatchObject({ status: 'sent', claimedBy: 'another-sender', lastError: null });
  } finally {
    mailer.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => stalled.close(resolve));
  }
});
