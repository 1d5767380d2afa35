import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { createTransport } from 'nodemailer';
import { createNotificationActivities } from '../activities/notifications';
import { notificationDeliveryWorkflowId } from '../common';
import { schema } from '../db';
import { startSmtpSink, type SmtpSink } from '../launcher/smtp-sink';
import { notificationDelivery } from '../workflows';
import { seedDocument } from './helpers/documents';
import { recordHistories } from './helpers/histories';
import { TEST_MAIL_SETTINGS } from './helpers/mail';
import { freePort } from '../lib/ports';
import { useTimeSkipping } from './helpers/suite';
import { uniqueTaskQueue, withWorker } from './helpers/temporal';

const suite = useTimeSkipping();
let sink: SmtpSink | undefined;

afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function outboxRow(key: string) {
  const [row] = await suite.database.db
    .select()
    .from(schema.notificationOutbox)
    .where(eq(schema.notificationOutbox.idempotencyKey, key));
  return row;
}

async function until(predicate: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

test('an email the mail server refuses is retried by its delivery workflow until it is sent, once', async () => {
  const document = await seedDocument(suite.database, { reviewers: 1, approvers: 1 });
  const key = `test:${randomUUID()}`;
  await suite.database.db.insert(schema.notificationOutbox).values({
    idempotencyKey: key,
    kind: 'document_obsolete',
    recipient: document.author.email,
    documentId: document.id,
    variables: { document_number: 'DOC-RETRY', title: 'Gowning', version: 2, obsolete_at: new Date().toISOString() },
  });
  // The worker's mail server is down: nothing listens on its port yet.
  const smtpPort = await freePort();
  const mailer = createTransport({ host: '127.0.0.1', port: smtpPort, connectionTimeout: 2000 });
  const taskQueue = uniqueTaskQueue('delivery');
  const activities = createNotificationActivities({ database: suite.database, mailer, mail: TEST_MAIL_SETTINGS });

  await withWorker(suite.env, { taskQueue, database: suite.database, activities }, async () => {
    const handle = await suite.env.client.workflow.start(notificationDelivery, {
      taskQueue,
      workflowId: notificationDeliveryWorkflowId(key),
      args: [{ notificationKey: key }],
    });
    await until(async () => (await outboxRow(key))?.status === 'failed', 'the first send failed');
    expect((await outboxRow(key))?.lastError).toMatch(/ECONNREFUSED/);

    // The mail server comes back; the retry (10 s later on the workflow's clock) gets through.
    sink = await startSmtpSink({ port: smtpPort });
    expect(await handle.result()).toBe('sent');
    expect(await outboxRow(key)).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
    expect(sink.messages.map((mail) => [mail.to, mail.subject])).toEqual([
      [[document.author.email], '[EDMS] Obsolete: DOC-RETRY "Gowning"'],
    ]);
    await recordHistories(suite.env, { 'notification-delivery-retried': handle.workflowId });
  });
});
