import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type postgres from 'postgres';
import {
  CLEANUP_TABLE_NAMES,
  CLEANUP_TABLES,
  type CleanupCondition,
  type CleanupTableRule,
  type DatabaseCleanupParameters,
} from '../../jobs/cleanup-tables';
import { validatedParams, type JobRequest, type JobTemplateDeps, type JobTemplateResult } from './types';
import { FailureType } from '../../common';

/**
 * A name from the allow-list constants, found by equality: the identifier that reaches SQL is always
 * the constant's own string, never the job's, even after validation.
 */
function allowed(names: readonly string[], requested: string, what: string): string {
  const name = names.find((candidate) => candidate === requested);
  if (name === undefined) {
    throw ApplicationFailure.nonRetryable(`${requested} is not an allowed ${what}`, FailureType.InvalidJobParameters);
  }
  return name;
}

/** One condition as SQL: identifiers from the allow-list, values bound, cast to the column's type. */
function conditionSql(sql: postgres.Sql, rule: CleanupTableRule, condition: CleanupCondition): postgres.Fragment {
  const name = allowed(Object.keys(rule.columns), condition.column, 'column');
  const type = rule.columns[name]!.type;
  const column = sql(name);
  const { operator, value } = condition;
  switch (operator) {
    case 'is_null':
      return sql`${column} is null`;
    case 'is_not_null':
      return sql`${column} is not null`;
    case 'in': {
      const list = Array.isArray(value) ? value : [String(value)];
      return type === 'uuid' ? sql`${column} = any(${list}::uuid[])` : sql`${column}::text = any(${list}::text[])`;
    }
    case 'eq':
    case 'neq': {
      // `<>` leaves rows whose column is null alone: for a delete, the narrower reading is the safe one.
      const op = operator === 'eq' ? sql`=` : sql`<>`;
      if (type === 'boolean') return sql`${column} ${op} ${value === true}::boolean`;
      if (type === 'uuid') return sql`${column} ${op} ${String(value)}::uuid`;
      return sql`${column}::text ${op} ${String(value)}::text`;
    }
  }
}

const and = (sql: postgres.Sql, fragments: postgres.Fragment[]) =>
  fragments.reduce((all, fragment) => sql`${all} and ${fragment}`);

export function createDatabaseCleanup({ database }: JobTemplateDeps) {
  const { sql } = database;

  return async function runDatabaseCleanup(request: JobRequest<DatabaseCleanupParameters>): Promise<JobTemplateResult> {
    const params = validatedParams('database_cleanup', request.params);
    const tableName = allowed(CLEANUP_TABLE_NAMES, params.table, 'table') as (typeof CLEANUP_TABLE_NAMES)[number];
    const rule = CLEANUP_TABLES[tableName];
    const dateColumn = allowed(rule.dateColumns, params.date_column ?? rule.dateColumns[0], 'date column');
    const batchSize = params.batch_size ?? 1000;
    const logs: string[] = [];

    const [{ exists } = { exists: false }] = await sql<{ exists: boolean }[]>`
      select to_regclass(${`public.${tableName}`}) is not null as exists`;
    if (!exists) {
      // scheduler_job_executions is on the allow-list before its migration lands.
      throw ApplicationFailure.nonRetryable(
        `table ${tableName} does not exist in this database yet; nothing to clean up`,
        FailureType.CleanupTableMissing,
      );
    }

    const table = sql(tableName);
    const where = and(sql, [
      sql`${sql(dateColumn)} < now() - make_interval(days => ${params.older_than_days}::int)`,
      // Rows still in use (a running execution, an undelivered email) are kept whatever the job says.
      ...(rule.onlyWhere ? [conditionSql(sql, rule, rule.onlyWhere)] : []),
      ...(params.conditions ?? []).map((condition) => conditionSql(sql, rule, condition)),
    ]);
    const scope = `${tableName} rows with ${dateColumn} older than ${params.older_than_days} days`;

    if (request.dryRun) {
      const [row] = await sql<{ count: number }[]>`select count(*)::int as count from ${table} where ${where}`;
      const count = row?.count ?? 0;
      logs.push(`dry run: ${count} ${scope} would be deleted`);
      return {
        summary: `Would delete ${count} ${scope}`,
        result: {
          table: tableName,
          older_than_days: params.older_than_days,
          date_column: dateColumn,
          would_delete_count: count,
          batches: Math.ceil(count / batchSize),
        },
        logs,
      };
    }

    let deleted = 0;
    let batches = 0;
    // One short transaction per batch: a large cleanup never holds its locks for long, and a retry
    // after a crash simply carries on with what is left.
    for (;;) {
      const result = await sql`
        delete from ${table} where ctid in (select ctid from ${table} where ${where} limit ${batchSize})`;
      if (result.count === 0) break;
      batches += 1;
      deleted += result.count;
      heartbeat({ deleted });
      logs.push(`batch ${batches}: deleted ${result.count} rows`);
      if (result.count < batchSize) break;
    }
    logs.push(`deleted ${deleted} ${scope} in ${batches} batch(es)`);
    return {
      summary: `Deleted ${deleted} ${scope}`,
      result: {
        table: tableName,
        older_than_days: params.older_than_days,
        date_column: dateColumn,
        deleted_count: deleted,
        batches,
      },
      logs,
    };
  };
}
