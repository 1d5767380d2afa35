import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { BACKUP_VERIFY_MODES } from './backups';
import { DOCUMENT_STATUSES } from './document-status';
import { JOB_EXECUTION_STATUSES } from './scheduler-jobs';
import { EMAIL_TEMPLATE_KINDS, NOTIFICATION_STATUSES } from './notifications';

/**
 * The job templates an administrator builds scheduled jobs from: each names what a job does and the
 * JSON Schema its parameters must satisfy. Code-defined (not rows) so a template cannot be invented
 * through the API. Dependency-light: workflow code imports it, so only TypeBox and plain values here;
 * validation with ajv lives in jobs/parameters.ts.
 */
export const JOB_TEMPLATE_IDS = [
  'database_cleanup',
  'email_notification',
  'data_export',
  'report_generation',
  'backup',
  'webhook_trigger',
] as const;

export type JobTemplateId = (typeof JOB_TEMPLATE_IDS)[number];

export const isJobTemplateId = (id: string): id is JobTemplateId =>
  (JOB_TEMPLATE_IDS as readonly string[]).includes(id);

export type JobTemplateCategory = 'maintenance' | 'notifications' | 'data' | 'reporting' | 'backup' | 'integration';
export type JobTemplateLevel = 'low' | 'medium' | 'high';

/** One template as `GET /api/v1/scheduler-jobs/templates` returns it: the field names are the API's. */
export interface JobTemplate {
  id: JobTemplateId;
  name: string;
  description: string;
  category: JobTemplateCategory;
  icon: string;
  /** JSON Schema of the job's `parameters`; its descriptions feed OpenAPI and the admin UI's form. */
  parameters_schema: TSchema;
  estimated_duration: string;
  resource_usage: JobTemplateLevel;
  risk_level: JobTemplateLevel;
  /** A dry run does everything but the side effect and reports what it would have done. */
  supports_dry_run: boolean;
}

/** A string enum as a plain JSON Schema `enum` (one clear validation error, unlike a union of literals). */
const StringEnum = <T extends readonly string[]>(
  values: T,
  options: { description?: string; default?: T[number] } = {},
) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

const Email = Type.String({ format: 'email', maxLength: 254 });

const Recipients = (description: string) =>
  Type.Array(Email, { minItems: 1, maxItems: 50, uniqueItems: true, description });

// Copies of database enums (db/schema.ts cannot be imported here); test/job-templates.test.ts checks
// that they still match the schema.
export const TASK_EXECUTION_STATUSES = ['running', 'succeeded', 'failed'] as const;
export const TASK_TRIGGERS = ['schedule', 'manual', 'cli'] as const;
export const HEALTH_STATUSES = ['HEALTHY', 'UNHEALTHY', 'CRITICAL'] as const;

// --- database_cleanup --------------------------------------------------------------------------

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

// --- email_notification ------------------------------------------------------------------------

export const EmailNotificationParameters = Type.Object(
  {
    recipients: Recipients('Email addresses to send to (1 to 50)'),
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: '^[^\\r\\n]*$',
        description: "The subject line; required with `body`, overrides the template's own with `template`",
      }),
    ),
    body: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 50_000,
        description: 'Plain-text message; give either `body` or `template`',
      }),
    ),
    template: Type.Optional(
      StringEnum(EMAIL_TEMPLATE_KINDS, {
        description: 'An EDMS email template (rendered with MJML); give either `body` or `template`',
      }),
    ),
    variables: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }), Type.Unknown(), {
        maxProperties: 50,
        additionalProperties: false,
        default: {},
        description: "Values for the template's placeholders, by name",
      }),
    ),
  },
  { additionalProperties: false },
);
export type EmailNotificationParameters = Static<typeof EmailNotificationParameters>;

// --- data_export -------------------------------------------------------------------------------

export const EXPORT_DATASET_NAMES = ['documents', 'audit_trail', 'task_executions'] as const;
export type ExportDatasetName = (typeof EXPORT_DATASET_NAMES)[number];

/** How each dataset is filtered: `from`/`to` apply to its date column, `status` to its status values. */
export const EXPORT_DATASETS: Record<ExportDatasetName, { dateColumn: string; statuses: readonly string[] | null }> = {
  documents: { dateColumn: 'created_at', statuses: DOCUMENT_STATUSES },
  audit_trail: { dateColumn: 'occurred_at', statuses: null },
  task_executions: { dateColumn: 'started_at', statuses: TASK_EXECUTION_STATUSES },
};

export const DataExportParameters = Type.Object(
  {
    dataset: StringEnum(EXPORT_DATASET_NAMES, { description: 'What to export' }),
    format: Type.Optional(StringEnum(['csv', 'json'] as const, { default: 'csv', description: 'File format' })),
    filters: Type.Optional(
      Type.Object(
        {
          status: Type.Optional(
            Type.String({
              maxLength: 50,
              description: "Only rows with this status (documents and task_executions; one of the dataset's statuses)",
            }),
          ),
          from: Type.Optional(
            Type.String({ format: 'date-time', description: 'Only rows dated at or after this instant' }),
          ),
          to: Type.Optional(Type.String({ format: 'date-time', description: 'Only rows dated before this instant' })),
          limit: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000, description: 'At most this many rows' }),
          ),
        },
        {
          additionalProperties: false,
          default: {},
          description: 'Which rows to export (all of them by default, up to the limit)',
        },
      ),
    ),
    file_name_prefix: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{1,64}$',
        description: 'Start of the file name under the exports directory (letters, digits, _ and - only)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DataExportParameters = Static<typeof DataExportParameters>;

// --- report_generation -------------------------------------------------------------------------

export const REPORT_SECTIONS = ['documents_by_status', 'overdue_reviews', 'task_success_rates', 'backups'] as const;
export type ReportSection = (typeof REPORT_SECTIONS)[number];
export const REPORT_FORMATS = ['html', 'csv'] as const;

export const ReportGenerationParameters = Type.Object(
  {
    sections: Type.Optional(
      Type.Array(StringEnum(REPORT_SECTIONS), {
        minItems: 1,
        uniqueItems: true,
        default: [...REPORT_SECTIONS],
        description: 'Which sections the report has (default all)',
      }),
    ),
    period_days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 366, default: 7, description: 'The report covers this many past days' }),
    ),
    formats: Type.Optional(
      Type.Array(StringEnum(REPORT_FORMATS), {
        minItems: 1,
        uniqueItems: true,
        default: [...REPORT_FORMATS],
        description: 'Files to produce (default both)',
      }),
    ),
    email_to: Type.Optional(Recipients('Email the report to these addresses (1 to 50); otherwise only stored')),
  },
  { additionalProperties: false },
);
export type ReportGenerationParameters = Static<typeof ReportGenerationParameters>;

// --- backup ------------------------------------------------------------------------------------

export const BackupJobParameters = Type.Object(
  {
    config: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$',
      description: 'Name of the backup configuration to run, e.g. daily-full',
    }),
    verify: Type.Optional(
      StringEnum(BACKUP_VERIFY_MODES, {
        description: "Verification for this run instead of the configuration's (checksums or restore)",
      }),
    ),
  },
  { additionalProperties: false },
);
export type BackupJobParameters = Static<typeof BackupJobParameters>;

// --- webhook_trigger ---------------------------------------------------------------------------

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Headers the HTTP client sets itself (jobs/outbound-http.ts refuses the same list at run time): a job
 * setting them could smuggle a second request or misroute it.
 */
export const WEBHOOK_FORBIDDEN_HEADERS = [
  'host',
  'content-length',
  'connection',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
  'expect',
] as const;

/** The largest `body`, serialised: parameters are stored with the job and travel in Temporal payloads. */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024;

export const WebhookTriggerParameters = Type.Object(
  {
    method: Type.Optional(StringEnum(WEBHOOK_METHODS, { default: 'POST', description: 'HTTP method' })),
    url: Type.String({
      format: 'uri',
      pattern: '^https?://',
      maxLength: 2048,
      description: 'The http or https URL to call; the outbound policy is checked again at run time',
    }),
    headers: Type.Optional(
      Type.Record(
        Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$" }),
        Type.String({ maxLength: 1000, pattern: '^[^\\r\\n]*$' }),
        {
          maxProperties: 20,
          additionalProperties: false,
          default: {},
          description: 'Request headers by name (at most 20)',
        },
      ),
    ),
    body: Type.Optional(Type.Unknown({ description: 'JSON body to send (not with GET), at most 64 KiB serialised' })),
    timeout_seconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 300, default: 30, description: 'Give up after this many seconds' }),
    ),
    expected_status: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 599,
        description: 'The response status that counts as success (default any 2xx)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type WebhookTriggerParameters = Static<typeof WebhookTriggerParameters>;

// --- the registry ------------------------------------------------------------------------------

export interface JobParametersByTemplate {
  database_cleanup: DatabaseCleanupParameters;
  email_notification: EmailNotificationParameters;
  data_export: DataExportParameters;
  report_generation: ReportGenerationParameters;
  backup: BackupJobParameters;
  webhook_trigger: WebhookTriggerParameters;
}

export type JobParameters = JobParametersByTemplate[JobTemplateId];

export const JOB_TEMPLATES: Record<JobTemplateId, JobTemplate> = {
  database_cleanup: {
    id: 'database_cleanup',
    name: 'Database cleanup',
    description:
      'Deletes operational history (task and job executions, delivered or failed emails, health checks) older than an age, in batches. Never the audit trail. A dry run counts the rows it would delete.',
    category: 'maintenance',
    icon: 'database-zap',
    parameters_schema: DatabaseCleanupParameters,
    estimated_duration: '1-10 minutes',
    resource_usage: 'medium',
    risk_level: 'high',
    supports_dry_run: true,
  },
  email_notification: {
    id: 'email_notification',
    name: 'Email notification',
    description:
      'Sends a plain-text message or an EDMS email template to a list of recipients, through the outbox. A dry run renders the email without sending it.',
    category: 'notifications',
    icon: 'mail',
    parameters_schema: EmailNotificationParameters,
    estimated_duration: 'under 1 minute',
    resource_usage: 'low',
    risk_level: 'medium',
    supports_dry_run: true,
  },
  data_export: {
    id: 'data_export',
    name: 'Data export',
    description:
      'Writes documents, the audit trail or task executions, filtered, to a CSV or JSON file under the exports directory. A dry run counts the rows it would export.',
    category: 'data',
    icon: 'file-down',
    parameters_schema: DataExportParameters,
    estimated_duration: '1-15 minutes',
    resource_usage: 'high',
    risk_level: 'medium',
    supports_dry_run: true,
  },
  report_generation: {
    id: 'report_generation',
    name: 'Summary report',
    description:
      'Builds a report of documents by status, overdue reviews, task success rates and backups over a period, as HTML and CSV, optionally emailed. A dry run builds it without emailing it.',
    category: 'reporting',
    icon: 'file-chart-column',
    parameters_schema: ReportGenerationParameters,
    estimated_duration: '1-5 minutes',
    resource_usage: 'medium',
    risk_level: 'low',
    supports_dry_run: true,
  },
  backup: {
    id: 'backup',
    name: 'Backup',
    description:
      'Runs a backup configuration (pg_dump and document storage, with a manifest), optionally with another verification mode. No dry run: only a real backup proves anything.',
    category: 'backup',
    icon: 'database-backup',
    parameters_schema: BackupJobParameters,
    estimated_duration: '5-60 minutes',
    resource_usage: 'high',
    risk_level: 'medium',
    supports_dry_run: false,
  },
  webhook_trigger: {
    id: 'webhook_trigger',
    name: 'Webhook',
    description:
      'Calls an external HTTP endpoint and checks the response status. A dry run checks the URL against the outbound policy without sending the request.',
    category: 'integration',
    icon: 'webhook',
    parameters_schema: WebhookTriggerParameters,
    estimated_duration: 'under 1 minute',
    resource_usage: 'low',
    risk_level: 'medium',
    supports_dry_run: true,
  },
};
