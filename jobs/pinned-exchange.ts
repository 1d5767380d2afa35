import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { WebhookMethod } from '../common/webhooks';
import { normalizeHostname } from '../lib/outbound-policy';

/** An address a hostname resolved to, checked against the outbound policy. */
export interface CheckedAddress {
  address: string;
  family: number;
}

/** Rejects with the signal's reason as soon as it aborts, for steps (DNS) that cannot be aborted. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function flattenHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export interface Exchange {
  url: URL;
  method: WebhookMethod;
  headers: Record<string, string>;
  payload: Buffer | undefined;
  addresses: CheckedAddress[];
  maxResponseBytes: number;
  signal: AbortSignal;
}

interface Exchanged {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
  remoteAddress: string | undefined;
}

/**
 * One HTTP exchange with the connection pinned to addresses already checked, the response body cut
 * after `maxResponseBytes`; `signal` ends it at any point.
 */
export function exchange({ url, method, headers, payload, addresses, maxResponseBytes, signal }: Exchange) {
  // The connection goes to the addresses that were checked, never to a second DNS answer: a name
  // that resolved to a public address for the check could resolve to 127.0.0.1 a moment later.
  // Node asks for all of them when it races IPv6 against IPv4 (autoSelectFamily).
  const pinnedLookup: LookupFunction = (_hostname, options, callback) => {
    const [first] = addresses;
    if (options.all) callback(null, addresses);
    else if (first) callback(null, first.address, first.family);
  };
  return new Promise<Exchanged>((resolve, reject) => {
    // The deadline may have passed between the DNS answer and this point; its event will not fire again.
    signal.throwIfAborted();
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request({
      method,
      // The original hostname stays in Host, SNI and certificate checks; only the lookup is pinned.
      hostname: normalizeHostname(url.hostname),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers,
      lookup: pinnedLookup,
      // A fresh connection each time: a pooled socket could belong to an earlier resolution.
      agent: false,
    });
    const onAbort = () => {
      settle(() => reject(signal.reason));
      request.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => settle(() => reject(error)));
    request.on('response', (response) => {
      const remoteAddress = response.socket.remoteAddress;
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (truncated: boolean) =>
        settle(() =>
          resolve({
            status: response.statusCode ?? 0,
            headers: flattenHeaders(response),
            body: Buffer.concat(chunks),
            truncated,
            remoteAddress,
          }),
        );
      response.on('data', (chunk: Buffer) => {
        const room = maxResponseBytes - size;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        size += Math.min(chunk.length, room);
        if (chunk.length > room) {
          // Stop reading: a webhook answer is kept for the job's history, not downloaded in full.
          finish(true);
          request.destroy();
        }
      });
      response.on('end', () => finish(false));
      response.on('error', (error) => settle(() => reject(error)));
      response.on('close', () => {
        if (!response.complete) settle(() => reject(new Error(`${url.host} closed the connection mid-response`)));
      });
    });
    request.end(payload);
  });
}
