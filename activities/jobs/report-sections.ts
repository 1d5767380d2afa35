import type postgres from 'postgres';
import type { ReportSection } from '../../jobs/parameter-schemas';
import { isoUtcText } from './formats';
import { reportTime, type SectionTable } from './report-render';

/** A section's figures (the job's result) and its table (the HTML and CSV). */
export interface ComputedSection {
  figures: unknown;
  table: SectionTable;
}

/** The query of each report section over the last `days` days, with its figures and table. */
export function createReportSections(
  sql: postgres.Sql,
  timezone: string,
): Record<ReportSection, (days: number) => Promise<ComputedSection>> {
  const ISO = (expression: postgres.Fragment) => isoUtcText(sql, expression);
  const when = reportTime(timezone);
  return {
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
}
