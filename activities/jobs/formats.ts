import type postgres from 'postgres';

/**
 * One CSV field (RFC 4180): a field with a quote, comma or line break is quoted, its quotes doubled.
 * Instants are written as ISO 8601, objects as JSON, nothing as an empty field.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record, CRLF-terminated as RFC 4180 says. */
export const csvRecord = (values: readonly unknown[]) => `${values.map(csvField).join(',')}\r\n`;

/**
 * A timestamp as ISO 8601 text in UTC. The shared client hands timestamps over as PostgreSQL's text
 * (drizzle installs that parser), in the session's zone: exports and reports format them in SQL.
 */
export const isoUtcText = (sql: postgres.Sql, timestamp: postgres.Fragment) =>
  sql`to_char(${timestamp} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
