/**
 * The crash test's HTTP client: what any well-behaved client of the API does while the system
 * restarts parts of itself. A request that meets a transient failure (no connection, a reset, a
 * timeout, 429, 502-504, or a 500) is resent after a back-off, but only once the caller has checked
 * that its earlier attempt did not already take effect (see `performOnce`): the API has no
 * idempotency key, so idempotence is the client's job.
 */
import { sleep } from '../concurrency';

/** One answer of the API. */
export interface ApiResponse {
  status: number;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
}

/** A failure that says nothing about whether the request took effect, and calls for a retry. */
export class TransientFailure extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** How often each kind of transient failure was met (`ECONNREFUSED`, `503 temporal_unavailable`, ...). */
export type TransientCounts = Map<string, number>;

const TRANSIENT_STATUSES = new Set([429, 500, 502, 503, 504]);
/** Longest wait for one answer: an update waits for the workflow, which waits for a worker. */
const REQUEST_TIMEOUT_MS = 60_000;

/** The code of a failed fetch (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...), or its name. */
function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code) return cause.code;
  return (error as Error).name === 'TimeoutError' ? 'timeout' : String((error as Error).message);
}

export class ApiClient {
  readonly transients: TransientCounts = new Map();
  /** The 500 answers met (a 500 means a fault of the system, never of the request: each is reported). */
  readonly serverFaults: string[] = [];

  constructor(private readonly baseUrl: string) {}

  private countTransient(kind: string): void {
    this.transients.set(kind, (this.transients.get(kind) ?? 0) + 1);
  }

  /**
   * One attempt. Resolves with any non-transient answer (2xx or 4xx); throws TransientFailure for a
   * network failure, a timeout or a transient status.
   */
  async send(method: string, path: string, token?: string, body?: unknown): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      const kind = networkCode(error);
      this.countTransient(kind);
      throw new TransientFailure(kind, `${method} ${path}: ${kind}`);
    }
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (TRANSIENT_STATUSES.has(response.status)) {
      const code = (parsed as { error?: { code?: string } } | undefined)?.error?.code ?? '';
      const kind = `${response.status} ${code}`.trim();
      this.countTransient(kind);
      if (response.status === 500) this.serverFaults.push(`${method} ${path}: ${text.slice(0, 300)}`);
      throw new TransientFailure(kind, `${method} ${path}: ${kind}`);
    }
    return { status: response.status, body: parsed };
  }

  /**
   * A safe request (a read, or one whose repetition cannot change anything), resent on transient
   * failures until it answers or `deadlineMs` has passed.
   */
  async retrying(method: string, path: string, token?: string, body?: unknown, deadlineMs = 300_000) {
    return retryTransient(() => this.send(method, path, token, body), `${method} ${path}`, deadlineMs);
  }
}

/** Calls `attempt` until it does not throw TransientFailure: back-off 250 ms doubling to 2 s. */
export async function retryTransient<T>(attempt: () => Promise<T>, label: string, deadlineMs = 300_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof TransientFailure)) throw error;
      if (Date.now() + delay > deadline)
        throw new Error(`${label}: still failing after ${deadlineMs} ms: ${error.message}`);
      await sleep(delay);
    }
  }
}

/** What a non-idempotent action needs to be performed exactly once by a client that retries. */
export interface OnceAction<T> {
  label: string;
  /** One attempt at the action. */
  send(): Promise<ApiResponse>;
  /** Whether the action has taken effect (read from the API); its result if so. */
  done(): Promise<T | undefined>;
  /** After an uncertain failure, how long an action in flight may take to show (default 0). */
  settleMs?: number;
  /** The result of a successful answer. */
  result(response: ApiResponse): T;
  /**
   * A refusal that will pass by itself (say, the workflow not yet caught up with a change the
   * database already shows): resent after a back-off like a transient failure. Its name, for the count.
   */
  notYet?(response: ApiResponse): string | undefined;
}

/**
 * Performs an action once. A 2xx ends it. After a transient failure, or a 4xx (a refusal that an
 * earlier attempt having succeeded would also explain), it first asks `done()`, waiting up to
 * `settleMs` for an attempt still in flight to show, and resends only if it has not taken effect. A
 * 4xx that `done()` does not explain is an error, unless `notYet` names it (counted in `counts`).
 */
export async function performOnce<T>(
  action: OnceAction<T>,
  counts?: TransientCounts,
  deadlineMs = 300_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let uncertain = false;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
    if (uncertain) {
      const settleUntil = Date.now() + (action.settleMs ?? 0);
      for (;;) {
        const result = await retryTransient(() => action.done(), `${action.label} (check)`);
        if (result !== undefined) return result;
        if (Date.now() >= settleUntil) break;
        await sleep(1000);
      }
    }
    let response: ApiResponse;
    try {
      response = await action.send();
    } catch (error) {
      if (!(error instanceof TransientFailure)) throw error;
      if (Date.now() + delay > deadline) throw new Error(`${action.label}: still failing after ${deadlineMs} ms`);
      uncertain = true;
      await sleep(delay);
      continue;
    }
    if (response.status < 300) return action.result(response);
    const result = await retryTransient(() => action.done(), `${action.label} (check)`);
    if (result !== undefined) return result;
    const notYet = action.notYet?.(response);
    if (notYet !== undefined && Date.now() + delay <= deadline) {
      counts?.set(notYet, (counts.get(notYet) ?? 0) + 1);
      await sleep(delay);
      continue;
    }
    throw new Error(`${action.label}: ${response.status} ${JSON.stringify(response.body)}`);
  }
}
