/**
 * The SQLSTATE of a failed query. drizzle wraps the driver's error (DrizzleQueryError) and keeps the
 * PostgreSQL error as its `cause`.
 */
export function pgErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = '23505';
