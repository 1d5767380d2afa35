import { AjvCompiler } from '@fastify/ajv-compiler';
import type Ajv from 'ajv';
import type { FastifyInstance } from 'fastify';
import type { FastifySchemaControllerOptions } from 'fastify/types/schema';
import { isInstant, isUuid } from '../lib/dates';
import { ApiError } from './errors';

/**
 * How requests are validated, in one place:
 * - JSON bodies are taken exactly as sent: no type coercion (`0`, `""` or `false` never become `null`,
 *   `[null]` never becomes `[0]`), unknown properties are an error, documented defaults fill gaps.
 * - Query strings and path parameters arrive as text, so they are coerced to the documented type
 *   (`?page=2` is the integer 2); their schemas carry the bounds.
 * - Formats are stricter than JSON Schema's where the rest of the system is: a `date-time` must be an
 *   instant JavaScript and PostgreSQL both read (RFC 3339 allows the leap second `23:59:60`, neither
 *   does), and a `uuid` is the canonical 8-4-4-4-12 form PostgreSQL's uuid type takes.
 * @see https://fastify.dev/docs/latest/Reference/Validation-and-Serialization/
 */
const BASE_AJV_OPTIONS = { removeAdditional: false, useDefaults: true, allErrors: true } as const;

function addStrictFormats(ajv: Ajv): void {
  ajv.addFormat('date-time', { type: 'string', validate: isInstant });
  ajv.addFormat('uuid', { type: 'string', validate: isUuid });
}

interface RouteDefinition {
  schema: unknown;
  method: string;
  url: string;
  httpPart: string;
}
type RouteValidatorCompiler = (route: RouteDefinition) => unknown;
type ExternalSchemas = Parameters<ReturnType<typeof AjvCompiler>>[0];

/** Fastify's schema controller: one ajv for bodies (never coerces), one for query strings and params. */
export function requestValidators(): NonNullable<FastifySchemaControllerOptions['compilersFactory']> {
  const pool = AjvCompiler();
  const buildValidator = (externalSchemas: ExternalSchemas) => {
    const compilerFor = (coerceTypes: false | 'array') =>
      pool(externalSchemas, {
        customOptions: { ...BASE_AJV_OPTIONS, coerceTypes },
        onCreate: addStrictFormats,
      }) as unknown as RouteValidatorCompiler;
    const body = compilerFor(false);
    const text = compilerFor('array');
    return (route: RouteDefinition) => (route.httpPart === 'body' ? body(route) : text(route));
  };
  return { buildValidator: buildValidator as never };
}

/**
 * Characters no text field may hold anywhere in a request, typed or free-form (job parameters,
 * JSON values): PostgreSQL stores neither NUL (text and jsonb refuse it) nor an unpaired UTF-16
 * surrogate (not encodable as UTF-8), so letting one through would fail deep inside a write.
 */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The path of the first string (value or key) holding an unstorable character, however deep: a walk
 * with its own stack, since the body limit, not the nesting, bounds what a client can send.
 */
function findUnstorable(root: unknown): string[] | null {
  // Each entry links to its parent rather than copying its path, so deep nesting costs linear work.
  interface Entry {
    value: unknown;
    key: string | null;
    parent: Entry | null;
  }
  const pathOf = (entry: Entry | null, last?: string): string[] => {
    const path = last === undefined ? [] : [last];
    for (let at = entry; at && at.key !== null; at = at.parent) path.push(at.key);
    return path.reverse();
  };
  const pending: Entry[] = [{ value: root, key: null, parent: null }];
  while (pending.length > 0) {
    const entry = pending.pop()!;
    const { value } = entry;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) return pathOf(entry);
      continue;
    }
    // JSON.parse turns a number past double range (1e400) into Infinity, which JSON stores as null.
    if (typeof value === 'number' && !Number.isFinite(value)) return pathOf(entry);
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) continue;
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (UNSTORABLE.test(key)) return pathOf(entry, key);
      pending.push({ value: inner, key, parent: entry });
    }
  }
  return null;
}

/**
 * Refuses, before any schema or handler sees them, request values that no storage could keep (see
 * UNSTORABLE), with the same 400 body as a schema failure, naming the field.
 */
export function installInputGuards(app: FastifyInstance): void {
  const refuse = (part: string, field: string | null, message: string) =>
    new ApiError(400, 'validation_failed', `Invalid request: ${field ?? part} ${message}`, [
      { in: part, field, message },
    ]);
  app.addHook('preValidation', async (request) => {
    const parts = [
      ['body', request.body],
      ['querystring', request.query],
      ['params', request.params],
    ] as const;
    for (const [part, value] of parts) {
      const path = findUnstorable(value);
      if (path) {
        const field = path.length > 0 ? path.join('.') : null;
        throw refuse(
          part,
          field,
          'must not contain NUL characters, unpaired UTF-16 surrogates or numbers past double range',
        );
      }
    }
    // A route that takes no body says so by having no body schema: anything but nothing or `{}` is a
    // mistake (a client sending fields it thinks count), never silently ignored.
    const body = request.body as unknown;
    const emptyBody =
      body === undefined ||
      body === '' ||
      (body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
    const bodySchema = request.routeOptions.schema?.body as { type?: unknown; required?: unknown[] } | undefined;
    if (!bodySchema && !emptyBody) {
      throw refuse('body', null, 'must be empty: this route takes no body (send nothing or {})');
    }
    // A body whose fields are all optional (a pause note, a dry-run flag) may be left out: nothing
    // means what `{}` means, rather than a 400 for a request that asked for the defaults.
    if (body === undefined && bodySchema?.type === 'object' && !bodySchema.required?.length) request.body = {};
    // ajv coerces text like `1e400` to Infinity and then lets it pass `integer` and `maximum`.
    for (const part of ['querystring', 'params'] as const) {
      const schema = request.routeOptions.schema?.[part] as
        { properties?: Record<string, { type?: unknown }> } | undefined;
      const values = (part === 'params' ? request.params : request.query) as Record<string, unknown> | undefined;
      for (const [name, value] of Object.entries(values ?? {})) {
        const type = schema?.properties?.[name]?.type;
        if ((type === 'integer' || type === 'number') && Math.abs(Number(value)) === Infinity) {
          throw refuse(part, name, 'must be a finite number');
        }
      }
    }
  });
}
