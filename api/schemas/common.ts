import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable error code, e.g. validation_failed' }),
      message: Type.String({ description: 'Human-readable explanation' }),
      details: Type.Optional(Type.Unknown({ description: 'Per-field problems or the current state' })),
    }),
  },
  { $id: 'ErrorResponse', description: 'The error body shared by every endpoint' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; nothing was changed',
  401: 'Missing, invalid or expired bearer token',
  403: 'Authenticated, but the role may not perform this action',
  404: 'No such resource',
  409: 'Conflicts with the current state; nothing was changed',
  413: 'The body is larger than 1 MiB',
  414: 'A path parameter is longer than 200 characters',
  415: 'The body is not application/json',
  429: 'Too many attempts, or Temporal is limiting requests; retry after the Retry-After header',
  503: 'PostgreSQL or Temporal cannot be reached right now; retry later',
};

/** Response schemas for the error statuses a route can answer with. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(
    statuses.map((status) => [status, Type.Ref(ErrorResponse, { description: ERROR_DESCRIPTIONS[status] ?? 'Error' })]),
  );
}

/** Marks a route as needing `Authorization: Bearer <token>` in the OpenAPI document. */
export const bearerAuth = [{ bearerAuth: [] }];

/*
 * Text the API accepts. Every text field holds printable Unicode only: no C0 or C1 control characters
 * (a CR/LF in a title breaks every list and email subject it appears in), no invisible format
 * characters (zero-width spaces, the line and paragraph separators U+2028/9, bidirectional overrides
 * that make a title read differently than it is stored, the BOM), no noncharacters and no unpaired
 * surrogates;
 * only fields documented as multi-line also take tab, LF and CR. A required value is never blank:
 * "" and "   " are refused rather than stored as if they said something. Patterns run with ajv's
 * Unicode flag, in which a surrogate range matches unpaired surrogates only.
 */
const SINGLE_LINE_CHARS =
  '[^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF\\u200B-\\u200F\\u2028-\\u202E\\u2060-\\u2069\\uFDD0-\\uFDEF\\uFEFF\\uFFFE\\uFFFF]';
const MULTI_LINE_CHARS =
  '[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF\\u200B-\\u200F\\u2028-\\u202E\\u2060-\\u2069\\uFDD0-\\uFDEF\\uFEFF\\uFFFE\\uFFFF]';
const NOT_BLANK = '(?=[\\s\\S]*\\S)';

/** The message a 400 gives for each text pattern, instead of the pattern itself. */
export const TEXT_PATTERN_MESSAGES: Record<string, string> = {
  [`^${NOT_BLANK}${SINGLE_LINE_CHARS}*$`]: 'must be single-line text, not blank, without control characters',
  [`^${NOT_BLANK}${MULTI_LINE_CHARS}*$`]:
    'must be text that is not blank, without control characters except tab and line breaks',
};

interface TextOptions {
  maxLength: number;
  minLength?: number;
  description?: string;
  examples?: string[];
}

/** Single-line, not blank, printable text: names, titles, subjects. */
export const SingleLineText = (options: TextOptions) =>
  Type.String({ minLength: 1, ...options, pattern: `^${NOT_BLANK}${SINGLE_LINE_CHARS}*$` });

/** Text that may span lines (tab, LF, CR allowed), not blank and otherwise printable: comments, reasons. */
export const MultiLineText = (options: TextOptions) =>
  Type.String({ minLength: 1, ...options, pattern: `^${NOT_BLANK}${MULTI_LINE_CHARS}*$` });

/**
 * A field that may be sent as `null` to clear it: an OpenAPI 3.0 `nullable` schema, so the docs say it
 * and `null` is the only non-`T` value accepted (bodies are never coerced). The description must say
 * what `null` means.
 */
export const Nullable = <T extends TSchema>(schema: T, meaningOfNull: string) =>
  Type.Unsafe<Static<T> | null>({
    ...schema,
    nullable: true,
    description: [schema.description, `null: ${meaningOfNull}`].filter(Boolean).join('; '),
  });

/** A response field that is `null` when there is nothing to show (a run not finished, no error). */
export const OrNull = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
