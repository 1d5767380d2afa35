import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../lib/config';
import { checkOutboundRequest, checkUrl, OutboundRequestRefused } from '../jobs/outbound-checks';
import { OutboundRequestTimedOut, sendOutboundRequest } from '../jobs/outbound-http';
import { outboundPolicyFromEnv, type OutboundPolicy } from '../lib/outbound-policy';

interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const PUBLIC_ONLY: OutboundPolicy = { allowedHosts: [], allowPrivateNetworks: false };
const PRIVATE_ALLOWED: OutboundPolicy = { allowedHosts: [], allowPrivateNetworks: true };

/** A webhook receiver on loopback: records every request that reaches it, answers by path. */
let server: http.Server;
let base: string;
let port: number;
const seen: SeenRequest[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', base).pathname;
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (path === '/echo') {
        res.writeHead(200, { 'content-type': 'application/json', 'x-receiver': 'test' });
        res.end(JSON.stringify({ received: true }));
      } else if (path === '/redirect') {
        res.writeHead(302, { location: `${base}/after-redirect` });
        res.end();
      } else if (path === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(200 * 1024));
      } else if (path === '/stalled-body') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part, and then nothing');
      } else if (path !== '/never-answers') {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

beforeEach(() => {
  seen.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function refusal(promise: Promise<unknown>): Promise<OutboundRequestRefused> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(OutboundRequestRefused);
  return error as OutboundRequestRefused;
}

function refusalOf(check: () => unknown): OutboundRequestRefused {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(OutboundRequestRefused);
    return error as OutboundRequestRefused;
  }
  throw new Error('expected the check to refuse');
}

describe('webhooks cannot reach the worker’s own network by default', () => {
  test('a request to 127.0.0.1 is refused as a private address and never reaches the server', async () => {
    const error = await refusal(sendOutboundRequest({ method: 'GET', url: `${base}/echo` }, PUBLIC_ONLY));
    expect(error.code).toBe('private_address');
    expect(error.host).toBe('127.0.0.1');
    expect(seen).toHaveLength(0);
  });

  test('localhost is refused because it resolves to loopback', async () => {
    const error = await refusal(
      sendOutboundRequest({ method: 'GET', url: `http://localhost:${port}/echo` }, PUBLIC_ONLY),
    );
    expect(error.code).toBe('private_address');
    expect(error.host).toBe('localhost');
    expect(error.message).toMatch(/localhost \(127\.0\.0\.1\)|localhost \(::1\)/);
    expect(seen).toHaveLength(0);
  });

  test('the same request goes through when private networks are allowed', async () => {
    const response = await sendOutboundRequest({ method: 'GET', url: `${base}/echo` }, PRIVATE_ALLOWED);
    expect(response).toMatchObject({ status: 200, ok: true, resolved_address: '127.0.0.1', body_truncated: false });
    expect(JSON.parse(response.body)).toEqual({ received: true });
    expect(response.headers['x-receiver']).toBe('test');
    expect(response.duration_ms).toBeGreaterThanOrEqual(0);
    expect(seen).toHaveLength(1);
  });

  test('a listed hostname keeps its name in the Host header while the connection is pinned to the checked address', async () => {
    const response = await sendOutboundRequest(
      { method: 'GET', url: `http://LOCALHOST:${port}/echo` },
      { allowedHosts: ['localhost'], allowPrivateNetworks: true },
    );
    expect(response.status).toBe(200);
    expect(response.resolved_address).toBe('127.0.0.1');
    expect(seen[0]?.headers.host).toBe(`localhost:${port}`);
  });
});

describe('the allow-list', () => {
  test('a host not in the list is refused before any DNS lookup or connection', async () => {
    const policy: OutboundPolicy = { allowedHosts: ['api.example.com'], allowPrivateNetworks: true };
    const unresolvable = await refusal(sendOutboundRequest({ method: 'GET', url: 'https://hooks.invalid/x' }, policy));
    expect(unresolvable).toMatchObject({ code: 'host_not_allowed', host: 'hooks.invalid' });
    const loopback = await refusal(sendOutboundRequest({ method: 'GET', url: `${base}/echo` }, policy));
    expect(loopback).toMatchObject({ code: 'host_not_allowed', host: '127.0.0.1' });
    expect(seen).toHaveLength(0);
  });

  test.each([
    ['https://hooks.example.com/x', true],
    ['https://a.b.EXAMPLE.com./x', true],
    ['https://api.other.org/x', true],
    ['https://example.com/x', false],
    ['https://evilexample.com/x', false],
    ['https://example.com.evil.net/x', false],
    ['https://other.org/x', false],
  ])('with *.example.com and api.other.org listed, %s allowed: %s', (url, allowed) => {
    const policy: OutboundPolicy = { allowedHosts: ['*.Example.com', 'API.other.org'], allowPrivateNetworks: false };
    if (allowed) expect(checkUrl(url, policy).href).toBe(new URL(url).href);
    else expect(refusalOf(() => checkUrl(url, policy)).code).toBe('host_not_allowed');
  });

  test('listing a private host does not open private networks', () => {
    const policy: OutboundPolicy = { allowedHosts: ['10.0.0.5'], allowPrivateNetworks: false };
    expect(refusalOf(() => checkUrl('http://10.0.0.5/hook', policy)).code).toBe('private_address');
  });
});

describe('static URL checks', () => {
  test('credentials in the URL are refused', async () => {
    expect(refusalOf(() => checkUrl('https://user:secret@api.example.com/', PUBLIC_ONLY)).code).toBe(
      'credentials_in_url',
    );
    const error = await refusal(
      sendOutboundRequest({ method: 'GET', url: `http://user@127.0.0.1:${port}/echo` }, PRIVATE_ALLOWED),
    );
    expect(error.code).toBe('credentials_in_url');
    expect(seen).toHaveLength(0);
  });

  test.each(['ftp://files.example.com/a', 'file:///etc/passwd', 'gopher://example.com/', 'javascript:alert(1)'])(
    '%s is refused: only http and https',
    (url) => {
      expect(refusalOf(() => checkUrl(url, PRIVATE_ALLOWED)).code).toBe('scheme_not_allowed');
    },
  );

  test('a relative or malformed URL is refused', () => {
    expect(refusalOf(() => checkUrl('/hooks/1', PUBLIC_ONLY)).code).toBe('invalid_url');
  });

  test.each([
    'http://10.1.2.3/',
    'http://172.16.0.1/',
    'http://172.31.255.255/',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/',
    'http://127.1/',
    'http://0x7f.0.0.1/',
    'http://2130706433/',
    'http://[::1]/',
    'http://[fd12:3456::1]/',
    'http://[fe80::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[::ffff:10.0.0.1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[2002:c0a8:101::1]/',
    'http://[::ffff:0:7f00:1]/',
  ])('%s is refused as a private address', (url) => {
    expect(refusalOf(() => checkUrl(url, PUBLIC_ONLY)).code).toBe('private_address');
    expect(checkUrl(url, PRIVATE_ALLOWED)).toBeInstanceOf(URL);
  });

  test.each([
    'http://0.0.0.0/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://192.0.2.10/',
    'http://[::]/',
    'http://[ff02::1]/',
    'http://[2001:db8::1]/',
    'http://[::ffff:0.0.0.0]/',
  ])('%s is refused even when private networks are allowed', (url) => {
    expect(refusalOf(() => checkUrl(url, PRIVATE_ALLOWED)).code).toBe('reserved_address');
  });

  test.each([
    'https://8.8.8.8/',
    'https://172.32.0.1/',
    'https://100.128.0.1/',
    'https://[2606:4700:4700::1111]/',
    'https://[::ffff:8.8.8.8]/',
    'https://api.example.com/',
  ])('%s is a public destination', (url) => {
    expect(checkUrl(url, PUBLIC_ONLY)).toBeInstanceOf(URL);
  });
});

describe('the request that is sent', () => {
  test('a POST carries its JSON body, the caller’s headers and the computed ones', async () => {
    const response = await sendOutboundRequest(
      {
        method: 'POST',
        url: `${base}/echo?run=1`,
        headers: { 'X-Signature': 'abc123', Authorization: 'Bearer t0ken' },
        body: { document: 'SOP-001', effective: true, reviewers: ['ana', 'ben'] },
      },
      PRIVATE_ALLOWED,
    );
    expect(response.status).toBe(200);
    const [received] = seen;
    expect(received).toMatchObject({ method: 'POST', url: '/echo?run=1' });
    expect(received?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-signature': 'abc123',
      authorization: 'Bearer t0ken',
      host: `127.0.0.1:${port}`,
      'user-agent': 'edms-temporal-webhook',
    });
    expect(received?.headers['content-length']).toBe(String(Buffer.byteLength(received?.body ?? '')));
    expect(JSON.parse(received?.body ?? '')).toEqual({
      document: 'SOP-001',
      effective: true,
      reviewers: ['ana', 'ben'],
    });
  });

  test('a content-type given by the job replaces application/json', async () => {
    await sendOutboundRequest(
      { method: 'PUT', url: `${base}/echo`, headers: { 'Content-Type': 'application/vnd.api+json' }, body: [1, 2] },
      PRIVATE_ALLOWED,
    );
    expect(seen[0]?.headers['content-type']).toBe('application/vnd.api+json');
    expect(seen[0]?.body).toBe('[1,2]');
  });

  test.each(['Host', 'content-length', 'Transfer-Encoding', 'Connection'])(
    'a %s header is refused, not sent',
    async (name) => {
      const error = await refusal(
        sendOutboundRequest({ method: 'GET', url: `${base}/echo`, headers: { [name]: 'x' } }, PRIVATE_ALLOWED),
      );
      expect(error.code).toBe('header_not_allowed');
      expect(seen).toHaveLength(0);
    },
  );

  test('a header value with a line break cannot smuggle another header', () => {
    const request = { method: 'GET' as const, url: `${base}/echo`, headers: { 'X-A': 'a\r\nX-Injected: 1' } };
    expect(refusalOf(() => checkOutboundRequest(request, PRIVATE_ALLOWED)).code).toBe('header_not_allowed');
  });

  test('a timeout above 300 seconds is refused', () => {
    const request = { method: 'GET' as const, url: 'https://api.example.com/', timeout_seconds: 301 };
    expect(refusalOf(() => checkOutboundRequest(request, PUBLIC_ONLY)).code).toBe('invalid_request');
  });
});

describe('the response that comes back', () => {
  test('a 302 is returned with its Location and not followed', async () => {
    const response = await sendOutboundRequest({ method: 'POST', url: `${base}/redirect`, body: {} }, PRIVATE_ALLOWED);
    expect(response).toMatchObject({ status: 302, ok: false });
    expect(response.headers.location).toBe(`${base}/after-redirect`);
    expect(seen.map((request) => request.url)).toEqual(['/redirect']);
  });

  test('a large body is cut at maxResponseBytes, 64 KiB unless told otherwise', async () => {
    const small = await sendOutboundRequest({ method: 'GET', url: `${base}/big` }, PRIVATE_ALLOWED, {
      maxResponseBytes: 1000,
    });
    expect(small.body).toBe('x'.repeat(1000));
    expect(small.body_truncated).toBe(true);
    const byDefault = await sendOutboundRequest({ method: 'GET', url: `${base}/big` }, PRIVATE_ALLOWED);
    expect(byDefault.body).toHaveLength(64 * 1024);
    expect(byDefault.body_truncated).toBe(true);
  });

  test('a negative response limit is a programming error, refused before connecting', async () => {
    await expect(
      sendOutboundRequest({ method: 'GET', url: `${base}/echo` }, PRIVATE_ALLOWED, { maxResponseBytes: -1 }),
    ).rejects.toThrow(RangeError);
    expect(seen).toHaveLength(0);
  });

  test('a server that never answers hits the timeout with a clear error', async () => {
    const started = Date.now();
    const error = await sendOutboundRequest(
      { method: 'GET', url: `${base}/never-answers?token=secret`, timeout_seconds: 0.3 },
      PRIVATE_ALLOWED,
    ).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(OutboundRequestTimedOut);
    expect((error as Error).message).toBe(`GET ${base}/never-answers got no complete response within 0.3 s`);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test('a body that stalls halfway also hits the timeout', async () => {
    const error = await sendOutboundRequest(
      { method: 'GET', url: `${base}/stalled-body`, timeout_seconds: 0.3 },
      PRIVATE_ALLOWED,
    ).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(OutboundRequestTimedOut);
  });

  test('cancelling the activity aborts the request with the cancellation as the reason', async () => {
    const cancellation = new Error('activity cancelled');
    const controller = new AbortController();
    setTimeout(() => controller.abort(cancellation), 100);
    const error = await sendOutboundRequest({ method: 'GET', url: `${base}/never-answers` }, PRIVATE_ALLOWED, {
      signal: controller.signal,
    }).catch((reason: unknown) => reason);
    expect(error).toBe(cancellation);
  });
});

describe('policy from the environment', () => {
  test('an empty environment allows any public host and no private network', () => {
    expect(outboundPolicyFromEnv({})).toEqual({ allowedHosts: [], allowPrivateNetworks: false });
    expect(outboundPolicyFromEnv({ EDMS_WEBHOOK_ALLOWED_HOSTS: '', EDMS_WEBHOOK_ALLOW_PRIVATE: '' })).toEqual(
      PUBLIC_ONLY,
    );
  });

  test('hosts are trimmed, lower-cased and de-duplicated; wildcards are kept', () => {
    const policy = outboundPolicyFromEnv({
      EDMS_WEBHOOK_ALLOWED_HOSTS: ' API.example.com , *.Hooks.example.org,,api.example.com ',
    });
    expect(policy.allowedHosts).toEqual(['api.example.com', '*.hooks.example.org']);
  });

  test.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('EDMS_WEBHOOK_ALLOW_PRIVATE=%s means %s', (value, expected) => {
    expect(outboundPolicyFromEnv({ EDMS_WEBHOOK_ALLOW_PRIVATE: value }).allowPrivateNetworks).toBe(expected);
  });

  test('values that would silently change what webhooks reach are configuration errors', () => {
    expect(() => outboundPolicyFromEnv({ EDMS_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(ConfigError);
    expect(() => outboundPolicyFromEnv({ EDMS_WEBHOOK_ALLOWED_HOSTS: 'https://api.example.com' })).toThrow(
      /EDMS_WEBHOOK_ALLOWED_HOSTS.*"https:\/\/api\.example\.com"/,
    );
    expect(() => outboundPolicyFromEnv({ EDMS_WEBHOOK_ALLOWED_HOSTS: 'api.example.com:8443' })).toThrow(ConfigError);
  });
});
