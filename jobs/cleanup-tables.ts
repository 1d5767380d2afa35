import { Type, type Static } from '@sinclair/typebox';
import { NOTIFICATION_STATUSES } from '../common/notifications';
import { JOB_EXECUTION_STATUSES } from '../common/scheduler-jobs';
import { StringEnum } from '../lib/json-schema';
import { HEALTH_STATUSES, TASK_EXECUTION_STATUSES, TASK_TRIGGERS } from '../common/task-executions';

/**
 * The `database_cleanup` template: the tables it may prune, what it may filter on, and its
 * parameters' schema. Not for workflow code (see common/job-template-descriptors.ts).
 */

export type CleanupColumnType =
  | { type: 'text'; nullable?: boolean }
  | { type: 'uuid'; nullable?: boolean }
  | { type: 'boolean'; nullable?: boolean }
  | { type: 'enum'; values: readonly string[]; nullable?: boolean };

export const CLEANUP_OPERATORS = ['eq', 'neq', 'in', 'is_null', 'is_not_null'] as const;
export type CleanupOperator = (typeof CLEANUP_OPERATORS)[number];

export type CleanupValue = string | boolean | string[];

export interface CleanupCondition {
  column: string;
  operator: CleanupOperator;
  value?: CleanupValue;
}

export interface CleanupTableRule {
  /** Timestamp columns `older_than_days` may be measured on; the first is the default. */
  dateColumns: readonly [string, ...string[]];
  /** Columns a condition may name, with the type its value must have. */
  columns: Readonly<Record<string, CleanupColumnType>>;
  /**
   * Always ANDed into the delete, whatever the job says: rows still in use (a running execution, an
   * email not yet delivered) are never pruned.
   */
  onlyWhere?: CleanupCondition;
}

/**
 * The tables a cleanup job may delete from. Operational history only: the audit trail is the
 * regulated record (append-only, its trigger refuses DELETE), and documents, users, review tasks and
 * transitions are part of it. backup_runs is left out too: retention deliberately keeps a run's row
 * after deleting its archive.
 */
export const CLEANUP_TABLE_NAMES = [
  'task_executions',
  'scheduler_job_executions',
  'notification_outbox',
  'system_health_checks',
] as const;

export type CleanupTableName = (typeof CLEANUP_TABLE_NAMES)[number];

export const CLEANUP_TABLES: Record<CleanupTableName, CleanupTableRule> = {
  // Deleting an execution also deletes its health-check verdict (ON DELETE CASCADE).
  task_executions: {
    dateColumns: ['started_at', 'finished_at'],
    columns: {
      task_name: { type: 'text' },
      schedule_id: { type: 'text', nullable: true },
      trigger: { type: 'enum', values: TASK_TRIGGERS },
      triggered_by: { type: 'text' },
      dry_run: { type: 'boolean' },
      status: { type: 'enum', values: TASK_EXECUTION_STATUSES },
    },
    onlyWhere: { column: 'status', operator: 'in', value: ['succeeded', 'failed'] },
  },
  // Running executions are work in progress; every other status is history.
  scheduler_job_executions: {
    dateColumns: ['started_at', 'completed_at'],
    columns: {
      job_id: { type: 'uuid' },
      job_name: { type: 'text' },
      template_type: { type: 'text' },
      trigger: { type: 'enum', values: TASK_TRIGGERS },
      triggered_by: { type: 'text' },
      dry_run: { type: 'boolean' },
      status: { type: 'enum', values: JOB_EXECUTION_STATUSES },
    },
    onlyWhere: { column: 'status', operator: 'in', value: ['completed', 'failed', 'timeout', 'exhausted'] },
  },
  // Pending and sending rows are emails the outbox still owes someone.
  notification_outbox: {
    dateColumns: ['created_at', 'sent_at'],
    columns: {
      kind: { type: 'text' },
      recipient: { type: 'text' },
      document_id: { type: 'uuid', nullable: true },
      status: { type: 'enum', values: NOTIFICATION_STATUSES },
    },
    onlyWhere: { column: 'status', operator: 'in', value: ['sent', 'failed'] },
  },
  system_health_checks: {
    dateColumns: ['checked_at'],
    columns: { status: { type: 'enum', values: HEALTH_STATUSES } },
  },
};

const CLEANUP_DATE_COLUMNS = [...new Set(Object.values(CLEANUP_TABLES).flatMap((rule) => rule.dateColumns))];

export const DatabaseCleanupParameters = Type.Object(
  {
    table: StringEnum(CLEANUP_TABLE_NAMES, {
      description: 'The table to prune; only operational history tables are allowed (never the audit trail)',
    }),
    older_than_days: Type.Integer({
      minimum: 1,
      maximum: 3650,
      description: 'Delete rows whose date column is older than this many days',
    }),
    date_column: Type.Optional(
      StringEnum(CLEANUP_DATE_COLUMNS, {
        description: "The timestamp column the age is measured on; one of the table's (default: its first)",
      }),
    ),
    conditions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            column: Type.String({
              pattern: '^[a-z_]{1,63}$',
              description: "One of the table's filterable columns",
            }),
            operator: StringEnum(CLEANUP_OPERATORS, { description: 'How the column is compared with the value' }),
            value: Type.Optional(
              Type.Union(
                [
                  Type.String({ maxLength: 500 }),
                  Type.Boolean(),
                  Type.Array(Type.String({ maxLength: 500 }), { minItems: 1, maxItems: 100 }),
                ],
                {
                  description:
                    "Of the column's type; a list for `in`; absent for `is_null` and `is_not_null` (nullable columns only)",
                },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 10, default: [], description: 'Further conditions, all of which a deleted row must meet' },
      ),
    ),
    batch_size: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 10_000,
        default: 1000,
        description: 'Rows deleted per transaction, so a large cleanup never holds long locks',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DatabaseCleanupParameters = Static<typeof DatabaseCleanupParameters>;
