import path from 'node:path';
import type postgres from 'postgres';
import { JOB_REPORT_KIND } from '../../common';
import {
  REPORT_FORMATS,
  REPORT_SECTIONS,
  type ReportGenerationParameters,
  type ReportSection,
} from '../../common/job-parameters';
import { writeFileAtomically } from './files';
import { csvRecord, isoUtcText } from './formats';
import { sendJobEmails } from './outbox-mail';
import {
  shortKey,
  utcStamp,
  validatedParams,
  type JobRequest,
  type JobTemplateDeps,
  type JobTemplateResult,
} from './types';

/** One table of a report: the figures of the result, the HTML table and the CSV lines come from it. */
interface SectionTable {
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
}

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function createReportGeneration(deps: JobTemplateDeps) {
  const { sql } = deps.database;
  const ISO = (expression: postgres.Fragment) => isoUtcText(sql, expression);
  const { settings } = deps;
  const when = (value: string | Date | null) =>
    value
      ? new Intl.DateTimeFormat('en-GB', {
          dateStyle: 'medium',
          timeStyle: 'short',
          timeZone: settings.timezone,
        }).format(new Date(value))
      : '';

  const SECTIONS: Record<ReportSection, (days: number) => Promise<{ figures: unknown; table: SectionTable }>> = {
    async documents_by_status(days) {
      const rows = await sql<{ status: string; total: number; created_in_period: number }[]>`
        select status::text as status, count(*)::int as total,
               count(*) filter (where created_at >= now() - make_interval(days => ${days}::int))::int as created_in_period
        from documents group by status order by status`;
      return {
        figures: rows,
        table: {
          title: 'Documents by status',
          columns: ['Status', 'Documents', `Created in the last ${days} days`],
          rows: rows.map((r) => [r.status, r.total, r.created_in_period]),
        },
      };
    },
    async overdue_reviews() {
      // Overdue is a state, not an event: every open task past its due date, however old.
      const rows = await sql<
        {
          document_number: string;
          title: string;
          kind: string;
          assignee: string;
          due_at: string;
          days_overdue: number;
        }[]
      >`
        select d.document_number, d.title, t.kind::text as kind, u.username as assignee, ${ISO(sql`t.due_at`)} as due_at,
               floor(extract(epoch from now() - t.due_at) / 86400)::int as days_overdue
        from review_tasks t join documents d on d.id = t.document_id join users u on u.id = t.assignee_id
        where t.status = 'pending' and t.due_at < now()
        order by t.due_at`;
      return {
        figures: {
          count: rows.length,
          tasks: rows.slice(0, 100),
        },
        table: {
          title: `Overdue reviews and approvals (${rows.length})`,
          columns: ['Document', 'Title', 'Task', 'Assignee', 'Due', 'Days overdue'],
          rows: rows.map((r) => [r.document_number, r.title, r.kind, r.assignee, when(r.due_at), r.days_overdue]),
        },
      };
    },
    async task_success_rates(days) {
      const rows = await sql<{ task_name: string; runs: number; succeeded: number; failed: number; running: number }[]>`
        select task_name, count(*)::int as runs,
               count(*) filter (where status = 'succeeded')::int as succeeded,
               count(*) filter (where status = 'failed')::int as failed,
               count(*) filter (where status = 'running')::int as running
        from task_executions where started_at >= now() - make_interval(days => ${days}::int)
        group by task_name order by task_name`;
      const withRate = rows.map((r) => ({
        ...r,
        // Runs still going count neither way.
        success_rate:
          r.succeeded + r.failed > 0 ? Math.round((r.succeeded / (r.succeeded + r.failed)) * 1000) / 10 : null,
      }));
      return {
        figures: withRate,
        table: {
          title: `System task success rates, last ${days} days`,
          columns: ['Task', 'Runs', 'Succeeded', 'Failed', 'Running', 'Success %'],
          rows: withRate.map((r) => [r.task_name, r.runs, r.succeeded, r.failed, r.running, r.success_rate]),
        },
      };
    },
    async backups(days) {
      const rows = await sql<
        {
          backup_type: string;
          runs: number;
          succeeded: number;
          failed: number;
          last_success: string | null;
          bytes: string | null;
        }[]
      >`
        select backup_type::text as backup_type, count(*)::int as runs,
               count(*) filter (where status = 'succeeded')::int as succeeded,
               count(*) filter (where status = 'failed')::int as failed,
               ${ISO(sql`max(finished_at) filter (where status = 'succeeded')`)} as last_success,
               sum(size_bytes) filter (where status = 'succeeded')::text as bytes
        from backup_runs where started_at >= now() - make_interval(days => ${days}::int)
        group by backup_type order by backup_type`;
      const figures = rows.map((r) => ({
        backup_type: r.backup_type,
        runs: r.runs,
        succeeded: r.succeeded,
        failed: r.failed,
        last_success: r.last_success,
        size_bytes: r.bytes === null ? 0 : Number(r.bytes),
      }));
      return {
        figures,
        table: {
          title: `Backups, last ${days} days`,
          columns: ['Type', 'Runs', 'Succeeded', 'Failed', 'Last success', 'Bytes'],
          rows: rows.map((r, i) => [
            r.backup_type,
            r.runs,
            r.succeeded,
            r.failed,
            when(r.last_success),
            figures[i]!.size_bytes,
          ]),
        },
      };
    },
  };

  function html(title: string, generated: Date, tables: SectionTable[]): string {
    const body = tables
      .map((t) => {
        const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
        const rows = t.rows.length
          ? t.rows.map(
              (r) => `<tr>${r.map((v) => `<td>${escapeHtml(v === null ? '' : String(v))}</td>`).join('')}</tr>`,
            )
          : [`<tr><td colspan="${t.columns.length}">None</td></tr>`];
        return `<h2>${escapeHtml(t.title)}</h2>\n<table>\n<tr>${head}</tr>\n${rows.join('\n')}\n</table>`;
      })
      .join('\n');
    return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>Generated ${escapeHtml(when(generated))} (${escapeHtml(settings.timezone)})</p>
${body}
</body></html>
`;
  }

  const csv = (tables: SectionTable[]) =>
    tables
      .flatMap((t) => [[t.title], t.columns, ...t.rows, []])
      .map(csvRecord)
      .join('');

  return async function runReportGeneration(
    request: JobRequest<ReportGenerationParameters>,
  ): Promise<JobTemplateResult> {
    const params = validatedParams('report_generation', request.params);
    const sections = params.sections ?? [...REPORT_SECTIONS];
    const formats = params.formats ?? [...REPORT_FORMATS];
    const days = params.period_days ?? 7;
    const generated = new Date();
    const logs: string[] = [];

    const figures: Record<string, unknown> = {};
    const tables: SectionTable[] = [];
    for (const section of sections) {
      const computed = await SECTIONS[section](days);
      figures[section] = computed.figures;
      tables.push(computed.table);
    }
    logs.push(`computed ${sections.join(', ')} over ${days} days`);
    const title = `EDMS report, last ${days} days`;
    const reportHtml = html(title, generated, tables);

    const files: Record<string, string> = {};
    if (!request.dryRun) {
      // The execution key in the name keeps two runs in the same second apart.
      const base = path.join(
        settings.exportsDir,
        'reports',
        `report_${utcStamp(generated)}_${shortKey(request.executionKey)}`,
      );
      for (const format of formats) {
        const file = `${base}.${format}`;
        await writeFileAtomically(file, format === 'html' ? reportHtml : csv(tables));
        files[format] = file;
        logs.push(`wrote ${path.basename(file)}`);
      }
    }

    let emailed: string[] = [];
    if (params.email_to && !request.dryRun) {
      const subject = `[EDMS] ${title}`;
      const text = `${title}\n\nThe report is in the HTML part of this email${files.html ? ` and at ${files.html}` : ''}.\n`;
      const outcomes = await sendJobEmails(
        deps,
        request.executionKey,
        params.email_to.map((recipient) => ({
          recipient,
          kind: JOB_REPORT_KIND,
          variables: { subject, text, html: reportHtml, job_id: request.jobId },
        })),
        async ({ variables }) => ({
          subject: String(variables.subject),
          text: String(variables.text),
          html: String(variables.html),
        }),
      );
      emailed = outcomes.map((o) => o.recipient);
      logs.push(`emailed to ${emailed.join(', ')}`);
    } else if (params.email_to) {
      logs.push(`dry run: would email to ${params.email_to.join(', ')}`);
    }

    return {
      summary: request.dryRun
        ? `Built the report (${sections.length} sections) without storing or emailing it`
        : `Report with ${sections.length} sections written${emailed.length ? ` and emailed to ${emailed.length}` : ''}`,
      result: {
        period_days: days,
        generated_at: generated.toISOString(),
        sections: figures,
        files,
        emailed_to: emailed,
      },
      logs,
    };
  };
}
