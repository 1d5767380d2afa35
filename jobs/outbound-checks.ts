import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import { isIP } from 'node:net';
import { normalizeHostname, type OutboundPolicy } from '../lib/outbound-policy';
import { classifyAddress } from './ip-addresses';
import type { CheckedAddress } from './pinned-exchange';
import { FailureType } from '../common';
import {
  WEBHOOK_DEFAULT_TIMEOUT_SECONDS,
  WEBHOOK_FORBIDDEN_HEADERS,
  WEBHOOK_MAX_TIMEOUT_SECONDS,
  WEBHOOK_METHODS,
  type WebhookMethod,
} from '../common/webhooks';

/**
 * What a webhook request may be and where it may go (the SSRF policy), checked when a job is saved
 * and again when it is sent: ./outbound-http.ts sends only what passed.
 */

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

export interface OutboundRequest {
  method: WebhookMethod;
  url: string;
  headers?: Record<string, string>;
  /** Sent as JSON (`JSON.stringify`) whatever the content-type header says. */
  body?: unknown;
  /** The whole exchange, DNS to last byte: default 30, at most 300. */
  timeout_seconds?: number;
}

const METHODS: readonly string[] = WEBHOOK_METHODS;

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
/** `example.com.` and `EXAMPLE.com` are the same host; IDNs compare in their punycode form. */
function hostAllowed(host: string, allowedHosts: string[]): boolean {
  return allowedHosts.some((entry) => {
    const pattern = entry.trim().toLowerCase();
    if (pattern.startsWith('*.')) return host.endsWith(`.${normalizeHostname(pattern.slice(2))}`);
    return host === normalizeHostname(pattern);
  });
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
/** The request's deadline in seconds (default 30); OutboundRequestRefused past 300 or not above 0. */
export function checkTimeout(timeoutSeconds: number | undefined, host: string): number {
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

/**
 * Resolves once and checks every address: a name that resolves to one public and one private
 * address is refused, because which of them a connection attempt uses is not ours to choose.
 */
export async function resolveCheckedAddresses(host: string, policy: OutboundPolicy): Promise<CheckedAddress[]> {
  if (isIP(host)) return [{ address: host, family: isIP(host) }];
  const addresses = await dnsLookup(host, { all: true });
  for (const { address } of addresses) refuseAddress(address, host, policy);
  if (addresses.length === 0) throw new Error(`${host} resolved to no address`);
  return addresses;
}
