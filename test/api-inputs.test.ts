import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { isInstant, isUuid } from '../lib/dates';
import { buildTestApi, uniqueName, type TestApi } from './helpers/api';
import { createDevServerEnv, terminateOpenWorkflows, withQueueWorkers } from './helpers/temporal';

/*
 * Tests generated from the API's own OpenAPI document, so a new route or field is covered the day it
 * lands:
 * - every body field of every route gets null, "", " ", 0, false, true, [] and {}: a value its schema
 *   refuses must be a 400 naming that field and must not write to the database; a value it accepts
 *   must mean what the document says (null only where the field documents what null means; a blank
 *   string never);
 * - every query parameter, path parameter and text body field gets hostile text and numbers (NUL,
 *   unpaired surrogates, controls, numbers past bigint, a leap second...): never a 5xx;
 * - every status any of these requests gets is one the route declares in its OpenAPI responses.
 */

interface OpenApiSchema {
  type?: string | string[];
  nullable?: boolean;
  description?: string;
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  anyOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
  $ref?: string;
  [keyword: string]: unknown;
}
interface OpenApiParameter {
  in: 'path' | 'query';
  name: string;
  schema: OpenApiSchema;
}
interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content: { 'application/json'?: { schema: OpenApiSchema } } };
  responses: Record<string, unknown>;
}
interface Route {
  method: string;
  path: string;
  operation: OpenApiOperation;
}

let env: TestWorkflowEnvironment;
let api: TestApi;
let admin: { authorization: string; username: string };
let routes: Route[];
const fixtures: Record<string, string> = {};
/** Every request sent, with its answer, for the check against the declared responses. */
const answered: { route: Route; status: number; sent: string }[] = [];

beforeAll(async () => {
  env = await createDevServerEnv();
  api = await buildTestApi({ temporalAddress: env.address, namespace: 'edms' });
  admin = await api.as('admin');
  const reviewer = await api.as('reviewer');
  const approver = await api.as('approver');
  fixtures.username = reviewer.username;
  fixtures.reviewer = reviewer.username;
  fixtures.approver = approver.username;

  const document = await send('POST', '/api/v1/documents', {
    title: uniqueName('Fixture SOP'),
    reviewers: [reviewer.username],
    approvers: [approver.username],
  });
  expect(document.statusCode).toBe(201);
  fixtures.document = document.json<{ id: string }>().id;

  const job = await send('POST', '/api/v1/scheduler-jobs', validBodies()['POST /api/v1/scheduler-jobs']);
  expect(job.statusCode).toBe(201);
  fixtures.job = job.json<{ id: string }>().id;

  const spec = api.app.swagger() as unknown as { paths: Record<string, Record<string, OpenApiOperation>> };
  routes = Object.entries(spec.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
  );
});
afterAll(async () => {
  if (env) await terminateOpenWorkflows(env);
  await api?.close();
  await env?.teardown();
});

function send(method: string, url: string, payload?: unknown) {
  return api.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: admin.authorization },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload), headers: jsonHeaders() }),
  });
}
const jsonHeaders = () => ({ authorization: admin.authorization, 'content-type': 'application/json' });

/** A valid body per route that takes one with required fields, so a changed field is the only fault. */
function validBodies(): Record<string, Record<string, unknown>> {
  const job = {
    name: uniqueName('fixture job'),
    template_type: 'email_notification',
    parameters: { recipients: ['qa@example.test'], subject: 'Weekly', body: 'Hello' },
    recurrence_type: 'weekly',
    recurrence_config: { time: '09:00', days: [1] },
    timezone: 'Europe/Berlin',
  };
  return {
    'POST /api/v1/auth/login': { username: 'nobody', password: 'not-a-password' },
    'POST /api/v1/users': {
      username: uniqueName('user'),
      password: 'correct horse battery staple',
      role: 'viewer',
      email: 'someone@example.test',
    },
    'POST /api/v1/documents': {
      title: 'Cleaning of the filling line',
      reviewers: [fixtures.reviewer],
      approvers: [fixtures.approver],
    },
    'POST /api/v1/documents/{id}/review': { decision: 'approve' },
    'POST /api/v1/documents/{id}/reject': { comment: 'Needs the new torque values' },
    'POST /api/v1/documents/{id}/obsolete': { obsolescence_date: '2030-01-01', reason: 'Replaced' },
    'POST /api/v1/documents/{id}/reassign': { task_id: randomUUID(), username: fixtures.reviewer ?? 'x' },
    'POST /api/v1/backups/configs': { name: `fixture-${randomUUID().slice(0, 8)}`, backup_type: 'full', keep_last: 3 },
    'POST /api/v1/scheduler-jobs': job,
    'PUT /api/v1/scheduler-jobs/{id}': { ...job, version: 1 },
    'POST /api/v1/scheduler/monitoring/manual-trigger/': { task_name: 'no_such_task' },
  };
}

/**
 * Percent-encodes text for a URL, byte by byte as the text's WTF-8 form, so an unpaired surrogate
 * arrives as the ill-formed bytes a hostile client would send (encodeURIComponent refuses it).
 */
function urlEncode(value: string): string {
  let encoded = '';
  for (let i = 0; i < value.length; i += 1) {
    const unit = value.charCodeAt(i);
    const next = value.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      encoded += encodeURIComponent(value.slice(i, i + 2));
      i += 1;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      encoded += [
        '%' + (0xe0 | (unit >> 12)).toString(16),
        '%' + (0x80 | ((unit >> 6) & 0x3f)).toString(16),
        '%' + (0x80 | (unit & 0x3f)).toString(16),
      ]
        .join('')
        .toUpperCase();
    } else {
      encoded += encodeURIComponent(value[i]!);
    }
  }
  return encoded;
}

/** Concrete values for path parameters: real resources where a route would reach them. */
function pathFor(route: Route, override?: { name: string; value: string }): string {
  return route.path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    if (override?.name === name) return urlEncode(override.value);
    const value =
      name === 'username'
        ? fixtures.username
        : name === 'task_name'
          ? 'perform_system_health_check'
          : name === 'restore_id'
            ? randomUUID()
            : route.path.startsWith('/api/v1/documents/')
              ? fixtures.document
              : route.path.startsWith('/api/v1/scheduler-jobs/')
                ? fixtures.job
                : route.path.startsWith('/api/v1/backups/configs/')
                  ? 'on-demand-full'
                  : route.path.startsWith('/api/v1/backups/')
                    ? randomUUID()
                    : route.path.startsWith('/api/v1/scheduler/schedules/')
                      ? 'perform-system-health-check'
                      : undefined;
    if (value === undefined) throw new Error(`no fixture for path parameter ${name} of ${route.path}`);
    return encodeURIComponent(value);
  });
}

const bodySchema = (route: Route) => route.operation.requestBody?.content['application/json']?.schema;

/** Each field of a body schema by its dotted path (`recurrence_config.days.0`), objects and lists included. */
function fieldsOf(schema: OpenApiSchema, prefix: string[] = []): { path: string[]; schema: OpenApiSchema }[] {
  const fields: { path: string[]; schema: OpenApiSchema }[] = [];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, name];
    fields.push({ path, schema: field });
    if (field.properties) fields.push(...fieldsOf(field, path));
    if (field.items) {
      fields.push({ path: [...path, '0'], schema: field.items });
      if (field.items.properties) fields.push(...fieldsOf(field.items, [...path, '0']));
    }
  }
  return fields;
}

/** The base body with `value` at `path` (arrays and objects on the way are created as needed). */
function withValue(base: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const body = structuredClone(base);
  let cursor: Record<string, unknown> | unknown[] = body;
  path.forEach((segment, index) => {
    const last = index === path.length - 1;
    const key = Array.isArray(cursor) ? Number(segment) : segment;
    if (last) {
      (cursor as Record<string | number, unknown>)[key] = value;
      return;
    }
    const existing = (cursor as Record<string | number, unknown>)[key];
    const next = /^\d+$/.test(path[index + 1] ?? '') ? [] : {};
    const container = existing && typeof existing === 'object' ? structuredClone(existing) : next;
    if (Array.isArray(container) && /^\d+$/.test(path[index + 1] ?? '')) container.length = 0;
    (cursor as Record<string | number, unknown>)[key] = container;
    cursor = container as Record<string, unknown>;
  });
  return body;
}

/** `{"error": {"code", "message", "details"?}}`, the one body every error answers with. */
function isErrorBody(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    return typeof body.error?.code === 'string' && typeof body.error.message === 'string';
  } catch {
    return false;
  }
}

/** An ajv that reads OpenAPI 3.0 schemas as the API does for bodies: no coercion, strict formats. */
function fieldValidator(): (schema: OpenApiSchema) => ValidateFunction {
  // Defaults fill gaps as they do in the API, so `{}` for an object whose fields all have defaults is valid.
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: false, useDefaults: true });
  addFormats(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isInstant });
  ajv.addFormat('uuid', { type: 'string', validate: isUuid });
  const cache = new Map<OpenApiSchema, ValidateFunction>();
  return (schema) => {
    let validate = cache.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      cache.set(schema, validate);
    }
    return validate;
  };
}

/** The next transaction id PostgreSQL would assign: it moves if and only if something tried to write. */
async function nextTransactionId(): Promise<string> {
  const [row] = await api.database.sql<
    { xmax: string }[]
  >`select pg_snapshot_xmax(pg_current_snapshot())::text as xmax`;
  return row!.xmax;
}

/**
 * Whether sending the request again moves the transaction counter again. The counter is the whole
 * cluster's: a write some other process happened to make meanwhile (a previous suite's activity
 * finishing late) moves it once; a request that writes does so every time it is sent.
 */
async function writesAgain(method: string, url: string, body: Record<string, unknown>): Promise<boolean> {
  const before = await nextTransactionId();
  await send(method, url, body);
  return (await nextTransactionId()) !== before;
}

const SHAPES: [string, unknown][] = [
  ['null', null],
  ['""', ''],
  ['" "', ' '],
  ['0', 0],
  ['false', false],
  ['true', true],
  ['[]', []],
  ['{}', {}],
];

test('every body field of every route refuses a value of the wrong shape with a 400 naming it, and writes nothing', async () => {
  const validate = fieldValidator();
  const bases = validBodies();
  const problems: string[] = [];
  let sent = 0;
  for (const route of routes) {
    const schema = bodySchema(route);
    if (!schema) continue;
    const base = bases[`${route.method} ${route.path}`] ?? {};
    for (const field of fieldsOf(schema)) {
      const name = field.path.join('.');
      for (const [label, value] of SHAPES) {
        const where = `${route.method} ${route.path} ${name}=${label}`;
        if (validate(field.schema)(structuredClone(value))) {
          // Accepted by the schema: it must mean what the document says it means.
          if (value === null && !(field.schema.nullable && /null:/.test(field.schema.description ?? ''))) {
            problems.push(`${where}: null accepted but the field does not document what null means`);
          }
          if (value === '' || value === ' ') problems.push(`${where}: a blank string is accepted`);
          continue;
        }
        const body = withValue(base, field.path, value);
        const before = await nextTransactionId();
        const response = await send(route.method, pathFor(route), body);
        const after = await nextTransactionId();
        sent += 1;
        answered.push({ route, status: response.statusCode, sent: where });
        const reported = response.json<{ error?: { details?: unknown } }>().error?.details;
        const details = (Array.isArray(reported) ? (reported as { field?: string | null }[]) : [])
          .map((detail) => detail.field ?? '')
          .filter((f) => f === name || f.startsWith(`${name}.`));
        if (response.statusCode !== 400) problems.push(`${where}: ${response.statusCode} ${response.body}`);
        else if (details.length === 0) problems.push(`${where}: the 400 does not name the field: ${response.body}`);
        if (before !== after && (await writesAgain(route.method, pathFor(route), body))) {
          problems.push(`${where}: the database was written to`);
        }
      }
    }
  }
  expect(problems).toEqual([]);
  // Guards the generator itself: the API has dozens of body fields.
  expect(sent).toBeGreaterThan(300);
});

const HOSTILE_TEXT: [string, string][] = [
  ['NUL', 'a\u0000b'],
  ['unpaired high surrogate', '\ud800x'],
  ['unpaired low surrogate', 'x\udc00'],
  ['C1 control', 'a\u0085b'],
  ['line break', 'line\r\nbreak'],
  ['past bigint', '184467440737095517000'],
  ['past int64', '9223372036854775808'],
  ['negative', '-1'],
  ['huge exponent', '1e400'],
  ['leap second', '2026-12-31T23:59:60Z'],
  ['path traversal', '../../etc/passwd'],
  ['long', 'x'.repeat(20_000)],
];
const HOSTILE_NUMBERS: [string, number][] = [
  ['1e12', 1_000_000_000_000],
  ['past 2^53', 2 ** 53 + 2],
  ['-1', -1],
  ['0.5', 0.5],
];

test('hostile text and numbers in any query parameter, path parameter or body field never get a 5xx', async () => {
  // Workers on every queue, so requests that reach a workflow are answered by it as in production.
  await withQueueWorkers(env, { database: api.database }, () => sendHostileInputs());
}, 600_000);

async function sendHostileInputs() {
  const bases = validBodies();
  const problems: string[] = [];
  const record = (route: Route, where: string, status: number, body: string) => {
    answered.push({ route, status, sent: where });
    if (status >= 500) problems.push(`${where}: ${status} ${body.slice(0, 300)}`);
    if (status >= 400 && !isErrorBody(body)) problems.push(`${where}: ${status} not in the shared error body: ${body}`);
  };
  for (const route of routes) {
    for (const parameter of route.operation.parameters ?? []) {
      for (const [label, value] of HOSTILE_TEXT) {
        const where = `${route.method} ${route.path} ${parameter.in} ${parameter.name}=${label}`;
        const url =
          parameter.in === 'path'
            ? pathFor(route, { name: parameter.name, value })
            : `${pathFor(route)}?${parameter.name}=${urlEncode(value)}`;
        const response = await api.app.inject({
          method: route.method as 'GET',
          url,
          headers: { authorization: admin.authorization },
          ...(route.method === 'GET' ? {} : { payload: {} }),
        });
        record(route, where, response.statusCode, response.body);
      }
    }
    const schema = bodySchema(route);
    if (!schema) continue;
    const base = bases[`${route.method} ${route.path}`] ?? {};
    for (const [label, headers, payload] of [
      ['text/plain body', { 'content-type': 'text/plain' }, 'hello'],
      ['2 MiB body', { 'content-type': 'application/json' }, JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) })],
      ['malformed JSON', { 'content-type': 'application/json' }, '{"unterminated": '],
    ] as const) {
      const response = await api.app.inject({
        method: route.method as 'POST',
        url: pathFor(route),
        headers: { authorization: admin.authorization, ...headers },
        payload,
      });
      record(route, `${route.method} ${route.path} ${label}`, response.statusCode, response.body);
    }
    for (const field of fieldsOf(schema)) {
      const type = [field.schema.type ?? []].flat();
      const values: [string, unknown][] = [
        ...(type.includes('string') ? HOSTILE_TEXT : []),
        ...(type.includes('integer') || type.includes('number') ? HOSTILE_NUMBERS : []),
      ];
      for (const [label, value] of values) {
        const where = `${route.method} ${route.path} ${field.path.join('.')}=${label}`;
        const response = await send(route.method, pathFor(route), withValue(base, field.path, value));
        record(route, where, response.statusCode, response.body);
      }
    }
  }
  expect(problems).toEqual([]);
}

test('every status these requests got is declared in the route’s OpenAPI responses', () => {
  expect(answered.length).toBeGreaterThan(0);
  const undeclared = answered
    .filter(({ route, status }) => !(String(status) in route.operation.responses))
    .map(({ status, sent }) => `${sent}: ${status}`);
  expect([...new Set(undeclared)]).toEqual([]);
});

test('every number in a query string or body has documented bounds', () => {
  const unbounded: string[] = [];
  for (const route of routes) {
    const numbers = [
      ...(route.operation.parameters ?? []).map((p) => ({ name: `${p.in} ${p.name}`, schema: p.schema })),
      ...fieldsOf(bodySchema(route) ?? {}).map((f) => ({ name: f.path.join('.'), schema: f.schema })),
    ].filter(({ schema }) => [schema.type ?? []].flat().some((t) => t === 'integer' || t === 'number'));
    for (const { name, schema } of numbers) {
      if (schema.minimum === undefined || schema.maximum === undefined) {
        unbounded.push(`${route.method} ${route.path} ${name}`);
      }
    }
  }
  expect(unbounded).toEqual([]);
});
