import { normalizeHostname, type OutboundPolicy } from '../lib/outbound-policy';
import { checkOutboundRequest, checkTimeout, resolveCheckedAddresses, type OutboundRequest } from './outbound-checks';
import { abortable, exchange } from './pinned-exchange';
import { FailureType } from '../common';

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

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/** `https://host/path` without query or credentials: query strings often carry API keys. */
function describeTarget(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
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
