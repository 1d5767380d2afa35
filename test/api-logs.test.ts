import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../api/app';
import { DEFAULT_LIFECYCLE_SETTINGS, TASK_QUEUES } from '../common';
import { connectDatabase, type DatabaseHandle } from '../db';
import { plainTemporalSettings } from '../lib/temporal';
import { TEST_JWT_SECRET } from './helpers/api';
import { seedUser } from './helpers/documents';
import { testDatabaseUrl } from './helpers/resources';
import { createTimeSkippingEnv, terminateOpenWorkflows, withWorkerUntilDelivered } from './helpers/temporal';

/**
 * What the API writes to its log: every line of a request on one document names the document and
 * its workflow, Fastify's own lines included, so one grep follows a document through the system.
 */
jest.setTimeout(120_000);

interface LogLine {
  reqId?: string;
  msg?: string;
  level: number;
  document_id?: string;
  workflow_id?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
  code?: string;
}

const lines: LogLine[] = [];
let env: TestWorkflowEnvironment;
let database: DatabaseHandle;
let app: FastifyInstance;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  database = connectDatabase(testDatabaseUrl());
  app = await buildApp({
    database,
    temporalSettings: plainTemporalSettings(env.address, env.namespace ?? 'default'),
    jwtSecret: TEST_JWT_SECRET,
    jwtTtlSeconds: 600,
    loginAttemptsPerMinute: 1000,
    logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) }),
    timezone: 'UTC',
    lifecycle: DEFAULT_LIFECYCLE_SETTINGS,
    version: 'test',
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await database?.close();
  await env?.teardown();
});
afterEach(() => terminateOpenWorkflows(env));

async function login(role: 'author' | 'reviewer' | 'approver') {
  const user = await seedUser(database, role);
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: user.username, password: 'password-for-tests' },
  });
  expect(response.statusCode).toBe(200);
  return { ...user, authorization: `Bearer ${response.json<{ access_token: string }>().access_token}` };
}

/** The log lines of the one request answered by `send`. */
async function linesOf(send: () => Promise<{ statusCode: number }>, status: number): Promise<LogLine[]> {
  const from = lines.length;
  const response = await send();
  expect(response.statusCode).toBe(status);
  const written = lines.slice(from);
  const reqIds = new Set(written.map((line) => line.reqId).filter(Boolean));
  expect(reqIds.size).toBe(1);
  return written;
}

test("every line of a request on a document names it and its workflow, a refusal's included; other routes' lines do not", async () => {
  const author = await login('author');
  const reviewer = await login('reviewer');
  const approver = await login('approver');
  const as = (who: { authorization: string }) => ({ authorization: who.authorization });

  await withWorkerUntilDelivered(env, { taskQueue: TASK_QUEUES.documents, database }, async () => {
    let id = '';
    const create = await linesOf(async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/documents',
        headers: as(author),
        payload: { title: `Logged SOP ${Date.now()}`, reviewers: [reviewer.username], approvers: [approver.username] },
      });
      id = response.json<{ id: string }>().id;
      return response;
    }, 201);
    const list = await linesOf(() => app.inject({ url: '/api/v1/documents', headers: as(author) }), 200);
    for (const line of [...create, ...list]) {
      expect(line).not.toHaveProperty('document_id');
      expect(line).not.toHaveProperty('workflow_id');
    }

    const ids = { document_id: id, workflow_id: `document-${id}` };
    const read = await linesOf(() => app.inject({ url: `/api/v1/documents/${id}`, headers: as(reviewer) }), 200);
    const submit = () => app.inject({ method: 'POST', url: `/api/v1/documents/${id}/submit`, headers: as(author) });
    const update = await linesOf(submit, 200);
    // Submitted already: the workflow refuses it (409).
    const refusedByWorkflow = await linesOf(submit, 409);
    // Not the author: refused before the workflow is asked (403).
    const refusedByApi = await linesOf(
      () => app.inject({ method: 'POST', url: `/api/v1/documents/${id}/submit`, headers: as(reviewer) }),
      403,
    );

    for (const request of [read, update, refusedByWorkflow, refusedByApi]) {
      expect(request.map((line) => line.msg)).toEqual(
        expect.arrayContaining(['incoming request', 'request completed']),
      );
      for (const line of request) expect(line).toMatchObject(ids);
    }
    expect(refusedByWorkflow).toContainEqual(
      expect.objectContaining({ ...ids, code: 'invalid_transition', msg: expect.stringMatching(/^request refused: /) }),
    );
    expect(refusedByWorkflow).toContainEqual(
      expect.objectContaining({ ...ids, msg: 'request completed', res: { statusCode: 409 } }),
    );
    expect(refusedByApi).toContainEqual(
      expect.objectContaining({ ...ids, code: 'forbidden', msg: expect.stringMatching(/^request refused: /) }),
    );
  });
});
