import { Type, type Static } from '@sinclair/typebox';
import { BACKUP_VERIFY_MODES } from '../common/backups';
import { DOCUMENT_STATUSES } from '../common/document-status';
import { Recipients, StringEnum } from '../lib/json-schema';
import { EMAIL_TEMPLATE_KINDS } from '../common/notifications';
import { TASK_EXECUTION_STATUSES } from '../common/task-executions';
import { WEBHOOK_DEFAULT_TIMEOUT_SECONDS, WEBHOOK_MAX_TIMEOUT_SECONDS, WEBHOOK_METHODS } from '../common/webhooks';

/**
 * The JSON Schemas of job parameters, one section per template, with the values a template's
 * activity shares with its schema (datasets, sections, formats). database_cleanup's, with the tables
 * it may prune, is in ./cleanup-tables.ts. For the API, the activities and jobs/ only (like
 * every TypeBox schema), so that they stay out of the workflow bundle.
 */

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
      Type.Integer({
        minimum: 1,
        maximum: WEBHOOK_MAX_TIMEOUT_SECONDS,
        default: WEBHOOK_DEFAULT_TIMEOUT_SECONDS,
        description: 'Give up after this many seconds',
      }),
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
