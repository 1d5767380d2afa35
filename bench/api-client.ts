import { randomUUID } from 'node:crypto';
import type { UserRole } from '../common';

/** A user the benchmark created, with a bearer header ready to use. */
export interface BenchUser {
  username: string;
  authorization: string;
}

/** The people of a document's flow: its author (the admin), one reviewer, one approver. */
export interface FlowUsers {
  author: BenchUser;
  reviewer: BenchUser;
  approver: BenchUser;
}

/** Milliseconds each call of one document's flow took, by route. */
export interface FlowTimings {
  create_ms: number;
  submit_ms: number;
  review_ms: number;
  approve_ms: number;
}

/** A non-2xx answer of the API: the harness stops, since every call it makes is one that must work. */
export class ApiCallFailed extends Error {
  override readonly name = 'ApiCallFailed';
}

/** The system's HTTP API as the benchmark drives it: JSON in, JSON out, any non-2xx is an error. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async call<T>(method: string, route: string, authorization: string | undefined, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${route}`, {
      method,
      headers: {
        ...(authorization ? { authorization } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new ApiCallFailed(`${method} ${route} answered ${response.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  /** A new active user of `role` created by the admin, logged in. */
  async createUser(admin: BenchUser, role: UserRole, fields: { manager?: string } = {}): Promise<BenchUser> {
    const username = `bench-${role}-${randomUUID().slice(0, 8)}`;
    const password = `bench-password-${randomUUID()}`;
    await this.call('POST', '/api/v1/users', admin.authorization, {
      username,
      password,
      role,
      email: `${username}@bench.example`,
      ...fields,
    });
    const { access_token } = await this.call<{ access_token: string }>('POST', '/api/v1/auth/login', undefined, {
      username,
      password,
    });
    return { username, authorization: `Bearer ${access_token}` };
  }

  /** The admin (author of the benchmark's documents), a reviewer and an approver. */
  async flowUsers(adminToken: string): Promise<FlowUsers> {
    const author = { username: 'admin', authorization: `Bearer ${adminToken}` };
    return {
      author,
      reviewer: await this.createUser(author, 'reviewer'),
      approver: await this.createUser(author, 'approver'),
    };
  }

  /**
   * One document through the whole API flow: created, submitted, reviewed and approved for
   * `effectiveAt()` (read when the approval is sent, so "a few seconds ahead" means ahead of it).
   * Returns the document's id, the instant it was approved for and each call's duration.
   */
  async approvedDocument(
    users: FlowUsers,
    title: string,
    effectiveAt: () => Date,
  ): Promise<{ id: string; effectiveAt: Date; timings: FlowTimings }> {
    const timed = async <T>(call: () => Promise<T>): Promise<[T, number]> => {
      const start = performance.now();
      const result = await call();
      return [result, performance.now() - start];
    };
    const [{ id }, create_ms] = await timed(() =>
      this.call<{ id: string }>('POST', '/api/v1/documents', users.author.authorization, {
        title,
        reviewers: [users.reviewer.username],
        approvers: [users.approver.username],
      }),
    );
    const [, submit_ms] = await timed(() =>
      this.call('POST', `/api/v1/documents/${id}/submit`, users.author.authorization),
    );
    const [, review_ms] = await timed(() =>
      this.call('POST', `/api/v1/documents/${id}/review`, users.reviewer.authorization, { decision: 'approve' }),
    );
    const instant = effectiveAt();
    const [, approve_ms] = await timed(() =>
      this.call('POST', `/api/v1/documents/${id}/approve`, users.approver.authorization, {
        effective_at: instant.toISOString(),
      }),
    );
    return { id, effectiveAt: instant, timings: { create_ms, submit_ms, review_ms, approve_ms } };
  }
}
