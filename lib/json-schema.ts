import { Type } from '@sinclair/typebox';

/** A string enum as a plain JSON Schema `enum` (one clear validation error, unlike a union of literals). */
export const StringEnum = <T extends readonly string[]>(
  values: T,
  options: { description?: string; default?: T[number] } = {},
) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/** An email address: RFC 5321 limits a path to 254 characters. */
export const Email = Type.String({ format: 'email', maxLength: 254 });

export const Recipients = (description: string) =>
  Type.Array(Email, { minItems: 1, maxItems: 50, uniqueItems: true, description });
