import { heartbeat } from '@temporalio/activity';
import path from 'node:path';
import type postgres from 'postgres';
import { EXPORT_DATASETS, type DataExportParameters, type ExportDatasetName } from '../../jobs/parameter-schemas';
import { describeFile, findFinishedFile, writeFileAtomically } from './files';
import { csvRecord, isoUtcText } from './formats';
import {
  shortKey,
  utcStamp,
  validatedParams,
  type JobRequest,
  type JobTemplateDeps,
  type JobTemplateResult,
} from './types';

/**
 * The columns each dataset exports, in file order. Fixed lists rather than `select *`: a column added
 * by a later migration (a password hash, an idempotency key) is not exported until someone decides so.
 */
export const EXPORT_COLUMNS: Record<ExportDatasetName, readonly string[]> = {
  documents: [
    'id',
    'document_number',
    'version',
    'title',
    'description',
    'status',
    'author_id',
    'supersedes_id',
    'effective_at',
    'obsolete_at',
    'obsolescence_reason',
    'workflow_id',
    'created_at',
    'updated_at',
  ],
  audit_trail: ['id', 'occurred_at', 'action', 'actor', 'entity_type', 'entity_id', 'details', 'request_id'],
  task_executions: [
    'id',
    'task_name',
    'schedule_id',
    'workflow_id',
    'run_id',
    'trigger',
    'triggered_by',
    'dry_run',
    'status',
    'started_at',
    'finished_at',
    'duration_seconds',
    'result',
    'error',
  ],
};

/** Timestamp columns, written as ISO 8601 in UTC whatever the session's time zone. */
const TIMESTAMP_COLUMNS = new Set([
  'created_at',
  'updated_at',
  'effective_at',
  'obsolete_at',
  'occurred_at',
  'started_at',
  'finished_at',
]);

const CURSOR_ROWS = 1000;

export function createDataExport({ database, settings }: JobTemplateDeps) {
  const { sql } = database;

  function query(dataset: ExportDatasetName, filters: NonNullable<DataExportParameters['filters']>) {
    const { dateColumn, statuses } = EXPORT_DATASETS[dataset];
    const conditions: postgres.Fragment[] = [sql`true`];
    if (filters.status !== undefined && statuses) conditions.push(sql`status::text = ${filters.status}`);
    if (filters.from !== undefined) conditions.push(sql`${sql(dateColumn)} >= ${filters.from}::timestamptz`);
    if (filters.to !== undefined) conditions.push(sql`${sql(dateColumn)} < ${filters.to}::timestamptz`);
    const where = conditions.reduce((all, condition) => sql`${all} and ${condition}`);
    return { where, table: sql(dataset), dateColumn: sql(dateColumn), limit: filters.limit ?? 10_000 };
  }

  return async function runDataExport(request: JobRequest<DataExportParameters>): Promise<JobTemplateResult> {
    const params = validatedParams('data_export', request.params);
    const format = params.format ?? 'csv';
    const { dataset } = params;
    const { where, table, dateColumn, limit } = query(dataset, params.filters ?? {});
    const logs: string[] = [];

    if (request.dryRun) {
      const [row] = await sql<{ count: number }[]>`
        select count(*)::int as count from (select 1 from ${table} where ${where} limit ${limit}) as matching`;
      const rows = row?.count ?? 0;
      logs.push(`dry run: ${rows} ${dataset} rows would be exported as ${format}`);
      return { summary: `Would export ${rows} ${dataset} rows as ${format}`, result: { dataset, format, rows }, logs };
    }

    const base = params.file_name_prefix ?? dataset;
    const short = shortKey(request.executionKey);
    const existing = await findFinishedFile(settings.exportsDir, base, short, format);
    const target = existing ?? path.join(settings.exportsDir, `${base}_${utcStamp()}_${short}.${format}`);

    if (existing) {
      logs.push(`${path.basename(existing)} was already written by an earlier attempt of this execution`);
    } else {
      const columns = EXPORT_COLUMNS[dataset];
      const selected = columns
        .map((column) =>
          TIMESTAMP_COLUMNS.has(column)
            ? sql`${isoUtcText(sql, sql`${sql(column)}`)} as ${sql(column)}`
            : sql`${sql(column)}`,
        )
        .reduce((all, column) => sql`${all}, ${column}`);
      const cursor = sql`
        select ${selected} from ${table} where ${where} order by ${dateColumn}, id limit ${limit}`.cursor(CURSOR_ROWS);
      async function* content() {
        yield format === 'csv' ? csvRecord([...columns]) : '[\n';
        let first = true;
        let written = 0;
        for await (const rows of cursor) {
          let chunk = '';
          for (const row of rows) {
            if (format === 'csv') chunk += csvRecord(columns.map((column) => row[column]));
            else chunk += `${first ? '' : ',\n'}${JSON.stringify(row)}`;
            first = false;
          }
          written += rows.length;
          heartbeat({ rows: written });
          yield chunk;
        }
        if (format === 'json') yield first ? ']\n' : '\n]\n';
      }
      await writeFileAtomically(target, content());
      logs.push(`wrote ${path.basename(target)}`);
    }

    // Counted from the file itself, so a re-run that finds the file reports exactly what it holds.
    const facts = await describeFile(target, format === 'csv');
    const rows = format === 'csv' ? facts.lines - 1 : Math.max(0, facts.lines - 2);
    logs.push(`${rows} rows, ${facts.size_bytes} bytes, sha256 ${facts.sha256.slice(0, 16)}…`);
    return {
      summary: `Exported ${rows} ${dataset} rows to ${path.basename(target)}`,
      result: { dataset, format, path: target, rows, size_bytes: facts.size_bytes, sha256: facts.sha256 },
      logs,
    };
  };
}
