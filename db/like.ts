/**
 * A LIKE/ILIKE pattern matching text that contains `text` literally: `%`, `_` and the escape
 * character itself are escaped with `\\`, PostgreSQL's default LIKE escape, so a search for `50%`
 * finds "50%" and not every row with "50".
 */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
