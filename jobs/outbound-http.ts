import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import { isIP } from 'node:net';
import { normalizeHostname, type OutboundPolicy } from '../lib/outbound-policy';
import { classifyAddress } from './ip-addresses';
import { abortable, exchange, type CheckedAddress } from './pinned-exchange';
import { FailureType } from '../common';
import {
  WEBHOOK_DEFAULT_TIMEOUT_SECONDS,
  WEBHOOK_FORBIDDEN_HEADERS,
  WEBHOOK_MAX_TIMEOUT_SECONDS,
  WEBHOOK_METHODS,
  type WebhookMethod,
} from '../common/webhooks';

export type OutboundRefusalCode =
  | 'invalid_url'
  | 'scheme_not_allowed'
  | 'credentials_in_url'
  | 'host_not_allowed'
  | 'private_address'
  | 'reserved_address'
  | 'header_not_allowed'
  | 'invalid_request';

/**
 * The request was not sent because the policy or the request itself forbids it. Retrying cannot
 * change that, so the activity lists this name as non-retryable; the API turns it into a 400.
 */
export class OutboundRequestRefused extends Error {
  override name = FailureType.OutboundRequestRefused;
  constructor(
    readonly code: OutboundRefusalCode,
    /** The host (or address) that was refused; empty when the refusal is not about a host. */
    readonly host: string,
    message: string,
  ) {
    super(message);
  }
}

/** No complete response arrived in time; the connection was closed. Temporal may retry it. */
export class OutboundRequestTimedOut extends Error {
  override name = FailureType.OutboundRequestTimedOut;
  constructor(
    readonly target: string,
    readonly timeoutSeconds: number,
  ) {
    super(`${target} got no complete response within ${timeoutSeconds} s`);
  }
}

export interface OutboundRequest {
  method: WebhookMethod;
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON (`JSON.stringify`) whatever the content-type header says. */
  body?: unknown;
  /** The whole exchange, DNS to last byte: default 30, at most 300. */
  timeout_seconds?: number;
}

export interface OutboundRequestOptions {
  /** The activity's cancellation signal: aborting it closes the connection. */
  signal?: AbortSignal;
  maxResponseBytes?: number;
}

export interface OutboundResponse {
  status: number;
  ok: boolean;
  headers: Record<string, string>;
  /** UTF-8, cut after `maxResponseBytes`: enough for a job's history, not a download. */
  body: string;
  body_truncated: boolean;
  duration_ms: number;
  /** The address actually connected to: one of those the hostname resolved to, all of which were checked. */
  resolved_address: string;
}

const METHODS: readonly string[] = WEBHOOK_METHODS;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/** Lower-case names, as the check compares them. */
const FORBIDDEN_HEADERS = new Set<string>(WEBHOOK_FORBIDDEN_HEADERS);

function refuseAddress(address: string, host: string, policy: OutboundPolicy): void {
  const kind = classifyAddress(address);
  const where = address === host ? address : `${host} (${address})`;
  if (kind === 'reserved') {
    throw new OutboundRequestRefused('reserved_address', host, `${where} is not an address a web server can have`);
  }
  if (kind === 'non_public' && !policy.allowPrivateNetworks) {
    throw new OutboundRequestRefused(
      'private_address',
      host,
      `${where} is a private or loopback address; set EDMS_WEBHOOK_ALLOW_PRIVATE=true to allow webhooks inside the network`,
    );
  }
}

// --- Static checks --------------------------------------------------------------------------------

/** `example.com.` and `EXAMPLE.com` are the same host; IDNs compare in their punycode form. */
function hostAllowed(host: string, allowedHosts: string[]): boolean {
  return allowedHosts.some((entry) => {
    const pattern = entry.trim().toLowerCase();
    if (pattern.startsWith('*.')) return host.endsWith(`.${normalizeHostname(pattern.slice(2))}`);
    return host === normalizeHostname(pattern);
  });
}

/** `https://host/path` without query or credentials: query strings often carry API keys. */
function describeTarget(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

/**
 * The checks that need no network: scheme, credentials, allow-list, literal IP addresses. The API
 * calls this to answer 400 before a job is saved; `sendOutboundRequest` repeats it, because the
 * policy may have changed since, and then checks what the hostname resolves to.
 */
export function checkUrl(url: string, policy: OutboundPolicy): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OutboundRequestRefused('invalid_url', '', `${JSON.stringify(url)} is not an absolute URL`);
  }
  // WHATWG parsing already turns `0x7f.1` and `2130706433` into `127.0.0.1`, so literals below are canonical.
  const host = normalizeHostname(parsed.hostname);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new OutboundRequestRefused(
      'scheme_not_allowed',
      host,
      `${parsed.protocol} URLs are not allowed, only http and https`,
    );
  }
  if (parsed.username || parsed.password) {
    // They would end up in job definitions, logs and histories; an Authorization header is explicit.
    throw new OutboundRequestRefused(
      'credentials_in_url',
      host,
      'credentials in the URL are not allowed; send them in an Authorization header',
    );
  }
  if (!host) throw new OutboundRequestRefused('invalid_url', '', `${JSON.stringify(url)} has no host`);
  // The allow-list and the address checks are independent: listing an internal host does not
  // open private networks, so one mistaken entry cannot expose the worker's neighbourhood.
  if (policy.allowedHosts.length > 0 && !hostAllowed(host, policy.allowedHosts)) {
    throw new OutboundRequestRefused(
      'host_not_allowed',
      host,
      `${host} is not in EDMS_WEBHOOK_ALLOWED_HOSTS (${policy.allowedHosts.join(', ')})`,
    );
  }
  if (isIP(host)) refuseAddress(host, host, policy);
  // `localhost` and its subdomains are loopback by definition (RFC 6761 §6.3), whatever a resolver says.
  if (host === 'localhost' || host.endsWith('.localhost')) refuseAddress('127.0.0.1', host, policy);
  return parsed;
}

function checkTimeout(timeoutSeconds: number | undefined, host: string): number {
  const seconds = timeoutSeconds ?? WEBHOOK_DEFAULT_TIMEOUT_SECONDS;
  if (typeof seconds !== 'number' || !(seconds > 0) || seconds > WEBHOOK_MAX_TIMEOUT_SECONDS) {
    throw new OutboundRequestRefused(
      'invalid_request',
      host,
      `timeout_seconds must be more than 0 and at most ${WEBHOOK_MAX_TIMEOUT_SECONDS} (got ${String(timeoutSeconds)})`,
    );
  }
  return seconds;
}

function checkHeaders(headers: Record<string, string>, host: string): void {
  for (const [name, value] of Object.entries(headers)) {
    if (FORBIDDEN_HEADERS.has(name.toLowerCase())) {
      throw new OutboundRequestRefused(
        'header_not_allowed',
        host,
        `the ${name} header is set by the connection, not the job`,
      );
    }
    try {
      if (typeof value !== 'string') throw new TypeError('not a string');
      http.validateHeaderName(name);
      http.validateHeaderValue(name, value);
    } catch {
      throw new OutboundRequestRefused(
        'header_not_allowed',
        host,
        `the ${JSON.stringify(name)} header is not valid HTTP`,
      );
    }
  }
}

/**
 * Every check that needs no network, for a whole request: the API's validation of a
 * `webhook_trigger` job, and the first step of sending it.
 */
export function checkOutboundRequest(request: OutboundRequest, policy: OutboundPolicy): URL {
  const url = checkUrl(request.url, policy);
  const host = normalizeHostname(url.hostname);
  if (!METHODS.includes(request.method)) {
    throw new OutboundRequestRefused('invalid_request', host, `method must be one of ${METHODS.join(', ')}`);
  }
  checkHeaders(request.headers ?? {}, host);
  checkTimeout(request.timeout_seconds, host);
  if (request.body !== undefined && JSON.stringify(request.body) === undefined) {
    throw new OutboundRequestRefused('invalid_request', host, 'body cannot be sent as JSON');
  }
  return url;
}

/**
 * Everything the send would refuse before connecting, for a job being saved: the static checks, then
 * what the hostname resolves to now. A name that does not resolve (yet) is not refused here, as DNS
 * may be unreachable from the API; the run resolves and checks again at connect time anyway.
 * @throws OutboundRequestRefused with the same code and message a run would fail with
 */
export async function checkOutboundTarget(request: OutboundRequest, policy: OutboundPolicy): Promise<URL> {
  const url = checkOutboundRequest(request, policy);
  const host = normalizeHostname(url.hostname);
  try {
    await resolveCheckedAddresses(host, policy);
  } catch (error) {
    if (error instanceof OutboundRequestRefused) throw error;
  }
  return url;
}

// --- Sending --------------------------------------------------------------------------------------

/**
 * Resolves once and checks every address: a name that resolves to one public and one private
 * address is refused, because which of them a connection attempt uses is not ours to choose.
 */
async function resolveCheckedAddresses(host: string, policy: OutboundPolicy): Promise<CheckedAddress[]> {
  if (isIP(host)) return [{ address: host, family: isIP(host) }];
  const addresses = await dnsLookup(host, { all: true });
  for (const { address } of addresses) refuseAddress(address, host, policy);
  if (addresses.length === 0) throw new Error(`${host} resolved to no address`);
  return addresses;
}

/**
 * Sends one webhook request under the policy: the static checks, then DNS with every answer
 * checked, then a connection pinned to the checked address.
 *
 * Redirects are returned (status and Location header), never followed: the target of a redirect is
 * chosen by the remote server, so following it would let any allowed host send the worker to
 * 169.254.169.254 or an internal service; and re-sending a POST body elsewhere is rarely intended.
 */
export async function sendOutboundRequest(
  request: OutboundRequest,
  policy: OutboundPolicy,
  options: OutboundRequestOptions = {},
): Promise<OutboundResponse> {
  const started = performance.now();
  const url = checkOutboundRequest(request, policy);
  const host = normalizeHostname(url.hostname);
  const timeoutSeconds = checkTimeout(request.timeout_seconds, host);
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 0) {
    throw new RangeError(`maxResponseBytes must be a whole number of bytes (got ${maxResponseBytes})`);
  }
  options.signal?.throwIfAborted();

  const headers: Record<string, string> = { ...request.headers };
  const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name);
  if (!has('user-agent')) headers['user-agent'] = 'edms-temporal-webhook';
  let payload: Buffer | undefined;
  if (request.body !== undefined) {
    payload = Buffer.from(JSON.stringify(request.body), 'utf8');
    if (!has('content-type')) headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }

  // One deadline for the whole exchange (DNS, connect, headers, body), and the caller's
  // cancellation folded into the same signal.
  const stop = new AbortController();
  const timer = setTimeout(
    () => stop.abort(new OutboundRequestTimedOut(describeTarget(request.method, url), timeoutSeconds)),
    timeoutSeconds * 1000,
  );
  const onCallerAbort = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    const addresses = await abortable(resolveCheckedAddresses(host, policy), stop.signal);
    const response = await exchange({
      url,
      method: request.method,
      headers,
      payload,
      addresses,
      maxResponseBytes,
      signal: stop.signal,
    });
    return {
      status: response.status,
      ok: response.status >= 200 && response.status < 300,
      headers: response.headers,
      body: response.body.toString('utf8'),
      body_truncated: response.truncated,
      duration_ms: Math.round(performance.now() - started),
      resolved_address: response.remoteAddress ?? addresses[0]?.address ?? host,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}
