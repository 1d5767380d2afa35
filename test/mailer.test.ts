import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../lib/ports';
import { msToNumber } from '@temporalio/common/lib/time';
import { createMailer, SMTP_HANDOFF_TIMEOUT_MS } from '../outbox';
import { EMAIL_DELIVERY_OPTIONS } from '../workflows/activity-options';

/** A real SMTP server on `port` that counts the connections it is opened and the messages it takes. */
async function countingServer(port: number) {
  const counts = { connections: 0, messages: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // A stop ends open connections at once instead of waiting for their clients to quit.
    closeTimeout: 50,
    onConnect(_session, callback) {
      counts.connections += 1;
      callback();
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        counts.messages += 1;
        callback();
      });
    },
  });
  server.listen(port, '127.0.0.1');
  await once(server.server, 'listening');
  return {
    counts,
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const email = (n: number) => ({ from: 'edms@example.test', to: 'qa@example.test', subject: `notice ${n}`, text: 'x' });

/** Sends `count` emails one after another through createMailer(server URL + `query`); what the server counted. */
async function sendThrough(count: number, query = '') {
  const server = await countingServer(0);
  const mailer = createMailer(`${server.url}${query}`);
  try {
    for (let n = 0; n < count; n++) await mailer.sendMail(email(n));
    return { ...server.counts };
  } finally {
    mailer.close();
    await server.close();
  }
}

test('the mailer hands many emails to the mail server over one kept connection', async () => {
  expect(await sendThrough(10)).toEqual({ connections: 1, messages: 10 });
});

test('pool=false in SMTP_URL opens a connection per email, as the URL asks', async () => {
  expect(await sendThrough(3, '?pool=false')).toEqual({ connections: 3, messages: 3 });
});

test('a kept connection lost with its mail server is replaced: the next email after the restart is sent', async () => {
  const port = await freePort();
  const mailer = createMailer(`smtp://127.0.0.1:${port}?connectionTimeout=2000`);
  try {
    // Down: the email fails (the delivery activity retries it).
    await expect(mailer.sendMail(email(0))).rejects.toThrow(/ECONNREFUSED/);
    let server = await countingServer(port);
    await mailer.sendMail(email(1));
    await server.close();
    server = await countingServer(port);
    await mailer.sendMail(email(2));
    expect(server.counts).toEqual({ connections: 1, messages: 1 });
    await server.close();
  } finally {
    mailer.close();
  }
});

test("an email's hand-off is abandoned before its delivery activity times out, so a retry never races it", () => {
  expect(SMTP_HANDOFF_TIMEOUT_MS).toBeLessThan(msToNumber(EMAIL_DELIVERY_OPTIONS.startToCloseTimeout!));
});
