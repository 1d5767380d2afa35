import { csvRecord } from './formats';
import { escapeHtml } from '../../lib/html';

/** One table of a report: the figures of the result, the HTML table and the CSV lines come from it. */
export interface SectionTable {
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
}

/** An instant as the report's readers read it: medium date and short time in `timezone`; '' for none. */
export const reportTime =
  (timezone: string) =>
  (value: string | Date | null): string =>
    value
      ? new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: timezone }).format(
          new Date(value),
        )
      : '';

/** The report as one HTML page (the email's HTML part and the .html file), a table per section. */
export function reportHtml(title: string, generated: Date, tables: SectionTable[], timezone: string): string {
  const body = tables
    .map((t) => {
      const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
      const rows = t.rows.length
        ? t.rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(v === null ? '' : String(v))}</td>`).join('')}</tr>`)
        : [`<tr><td colspan="${t.columns.length}">None</td></tr>`];
      return `<h2>${escapeHtml(t.title)}</h2>\n<table>\n<tr>${head}</tr>\n${rows.join('\n')}\n</table>`;
    })
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>Generated ${escapeHtml(reportTime(timezone)(generated))} (${escapeHtml(timezone)})</p>
${body}
</body></html>
`;
}

/** The report as CSV: each section's title, header and rows, an empty record between sections. */
export const reportCsv = (tables: SectionTable[]) =>
  tables
    .flatMap((t) => [[t.title], t.columns, ...t.rows, []])
    .map(csvRecord)
    .join('');
