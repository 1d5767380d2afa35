import { getTableColumns, getTableName, is, Table } from 'drizzle-orm';
import { EMAIL_TEMPLATES } from '../outbox';
import {
  EMAIL_TEMPLATE_KINDS,
  JOB_OUTCOME_KIND,
  isJobTemplateId,
  JOB_TEMPLATE_IDS,
  type JobTemplateId,
} from '../common';
import { CLEANUP_TABLE_NAMES, CLEANUP_TABLES } from '../jobs/cleanup-tables';
import { JOB_TEMPLATES } from '../jobs/templates';
import * as schema from '../db/schema';
import { validateJobParameters } from '../jobs/parameters';

/** The fields that failed (each once), sorted, so a test states exactly which problems it expects. */
function rejectedFields(templateId: string, params: unknown): string[] {
  const result = validateJobParameters(templateId, params);
  if (result.ok) throw new Error(`expected ${templateId} to reject ${JSON.stringify(params)}`);
  for (const error of result.errors) expect(error.message).toEqual(expect.any(String));
  return [...new Set(result.errors.map((e) => e.field))].sort();
}

function accepted(templateId: string, params: unknown): unknown {
  const result = validateJobParameters(templateId, params);
  if (!result.ok) throw new Error(`expected ${templateId} to accept: ${JSON.stringify(result.errors)}`);
  return result.value;
}

const GOOD_EXAMPLES: Record<JobTemplateId, Record<string, unknown>> = {
  database_cleanup: {
    table: 'task_executions',
    older_than_days: 90,
    conditions: [
      { column: 'status', operator: 'in', value: ['succeeded'] },
      { column: 'dry_run', operator: 'eq', value: true },
      { column: 'schedule_id', operator: 'is_not_null' },
    ],
  },
  email_notification: { recipients: ['qa@example.com'], subject: 'Quarterly review', body: 'Please review.' },
  data_export: { dataset: 'documents', filters: { status: 'EFFECTIVE', from: '2025-01-01T00:00:00Z' } },
  report_generation: { period_days: 30, email_to: ['qa@example.com'] },
  backup: { config: 'daily-full' },
  webhook_trigger: { url: 'https://hooks.example.com/edms', body: { event: 'weekly' } },
};

describe('the job template registry', () => {
  test('has exactly the six templates, each with every field the templates endpoint returns', () => {
    expect(Object.keys(JOB_TEMPLATES).sort()).toEqual([...JOB_TEMPLATE_IDS].sort());
    expect(JOB_TEMPLATE_IDS).toEqual([
      'database_cleanup',
      'email_notification',
      'data_export',
      'report_generation',
      'backup',
      'webhook_trigger',
    ]);
    for (const id of JOB_TEMPLATE_IDS) {
      const template = JOB_TEMPLATES[id];
      expect(Object.keys(template).sort()).toEqual(
        [
          'id',
          'name',
          'description',
          'category',
          'icon',
          'parameters_schema',
          'estimated_duration',
          'resource_usage',
          'risk_level',
          'supports_dry_run',
        ].sort(),
      );
      expect(template.id).toBe(id);
      for (const field of ['name', 'description', 'category', 'icon', 'estimated_duration'] as const) {
        expect(template[field]).toMatch(/\S/);
      }
      expect(['low', 'medium', 'high']).toContain(template.resource_usage);
      expect(['low', 'medium', 'high']).toContain(template.risk_level);
      expect(typeof template.supports_dry_run).toBe('boolean');
    }
  });

  test('every parameter schema is a closed JSON object schema whose fields are described', () => {
    for (const id of JOB_TEMPLATE_IDS) {
      const json = JSON.parse(JSON.stringify(JOB_TEMPLATES[id].parameters_schema));
      expect(json).toMatchObject({ type: 'object', additionalProperties: false });
      for (const [name, property] of Object.entries<{ description?: string }>(json.properties)) {
        expect({ template: id, name, description: property.description }).toEqual({
          template: id,
          name,
          description: expect.stringMatching(/\S/),
        });
      }
    }
  });

  test('recognises template ids and nothing else', () => {
    expect(isJobTemplateId('backup')).toBe(true);
    expect(isJobTemplateId('Backup')).toBe(false);
    expect(isJobTemplateId('shell_command')).toBe(false);
  });

  test('an unknown template is reported on the template field', () => {
    expect(validateJobParameters('shell_command', { command: 'rm -rf /' })).toEqual({
      ok: false,
      errors: [{ field: 'template', message: expect.stringContaining('database_cleanup') }],
    });
  });

  test('the email template kinds are exactly the MJML templates the activities render', () => {
    // Plus the job-outcome emails, which the job workflow sends and a job may not choose.
    expect([...EMAIL_TEMPLATE_KINDS, ...Object.values(JOB_OUTCOME_KIND)].sort()).toEqual(
      Object.keys(EMAIL_TEMPLATES).sort(),
    );
  });

  test('the cleanup allow-list names real columns and never the regulated record', () => {
    const tables = new Map<string, string[]>(
      Object.values(schema)
        .filter((value) => is(value, Table))
        .map((table) => [getTableName(table), Object.values(getTableColumns(table)).map((c) => c.name)]),
    );
    expect(tables.get('audit_trail')).toBeDefined();
    for (const forbidden of ['audit_trail', 'documents', 'users', 'document_transitions', 'review_tasks']) {
      expect(CLEANUP_TABLE_NAMES).not.toContain(forbidden);
    }
    for (const name of CLEANUP_TABLE_NAMES) {
      const columns = tables.get(name);
      expect({ table: name, exists: columns !== undefined }).toEqual({ table: name, exists: true });
      if (!columns) continue;
      const rule = CLEANUP_TABLES[name];
      const named = [...rule.dateColumns, ...Object.keys(rule.columns), rule.onlyWhere?.column ?? rule.dateColumns[0]];
      expect({ table: name, missing: named.filter((column) => !columns.includes(column)) }).toEqual({
        table: name,
        missing: [],
      });
    }
  });

  test('validation leaves the caller’s object alone and hands back a fresh copy each time', () => {
    const params = { url: 'https://hooks.example.com/edms' };
    const first = validateJobParameters('webhook_trigger', params);
    const second = validateJobParameters('webhook_trigger', params);
    expect(params).toEqual({ url: 'https://hooks.example.com/edms' });
    expect(first.ok && second.ok).toBe(true);
    if (first.ok && second.ok) {
      expect(first.value).not.toBe(params);
      expect(first.value.headers).not.toBe(second.value.headers);
    }
  });

  test.each(JOB_TEMPLATE_IDS)('%s accepts its good example', (id) => {
    expect(validateJobParameters(id, GOOD_EXAMPLES[id]).ok).toBe(true);
  });
});

describe('database_cleanup parameters', () => {
  test('a cleanup gets the batch size, no extra conditions and the table’s first date column by default', () => {
    expect(accepted('database_cleanup', { table: 'notification_outbox', older_than_days: 30 })).toEqual({
      table: 'notification_outbox',
      older_than_days: 30,
      date_column: 'created_at',
      conditions: [],
      batch_size: 1000,
    });
    expect(accepted('database_cleanup', { table: 'system_health_checks', older_than_days: 7 })).toMatchObject({
      date_column: 'checked_at',
    });
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ['the audit trail is never deletable', { table: 'audit_trail', older_than_days: 30 }, ['parameters.table']],
    ['documents are not deletable', { table: 'documents', older_than_days: 30 }, ['parameters.table']],
    ['the age is required', { table: 'task_executions' }, ['parameters.older_than_days']],
    ['the age is a whole number', { table: 'task_executions', older_than_days: '30' }, ['parameters.older_than_days']],
    ['the age is at least a day', { table: 'task_executions', older_than_days: 0 }, ['parameters.older_than_days']],
    [
      'unknown parameters are refused',
      { table: 'task_executions', older_than_days: 30, where: '1=1' },
      ['parameters.where'],
    ],
    [
      'the batch size is bounded',
      { table: 'task_executions', older_than_days: 30, batch_size: 1_000_000 },
      ['parameters.batch_size'],
    ],
    [
      'the date column must be one of the table’s',
      { table: 'system_health_checks', older_than_days: 30, date_column: 'started_at' },
      ['parameters.date_column'],
    ],
    [
      'a condition names a filterable column of the chosen table',
      {
        table: 'system_health_checks',
        older_than_days: 30,
        conditions: [
          { column: 'status', operator: 'eq', value: 'HEALTHY' },
          { column: 'task_name', operator: 'eq', value: 'x' },
        ],
      },
      ['parameters.conditions.1.column'],
    ],
    [
      'a condition value has the column’s type',
      {
        table: 'task_executions',
        older_than_days: 30,
        conditions: [
          { column: 'dry_run', operator: 'eq', value: 'yes' },
          { column: 'status', operator: 'in', value: ['failed', 'exploded'] },
        ],
      },
      ['parameters.conditions.0.value', 'parameters.conditions.1.value.1'],
    ],
    [
      'null tests only on nullable columns and without a value',
      {
        table: 'task_executions',
        older_than_days: 30,
        conditions: [
          { column: 'status', operator: 'is_null' },
          { column: 'schedule_id', operator: 'is_not_null', value: 'x' },
        ],
      },
      ['parameters.conditions.0.operator', 'parameters.conditions.1.value'],
    ],
    [
      'eq needs a single value and in a list',
      {
        table: 'notification_outbox',
        older_than_days: 30,
        conditions: [
          { column: 'kind', operator: 'eq' },
          { column: 'kind', operator: 'neq', value: ['a'] },
          { column: 'kind', operator: 'in', value: 'a' },
        ],
      },
      ['parameters.conditions.0.value', 'parameters.conditions.1.value', 'parameters.conditions.2.value'],
    ],
    [
      'a condition is a column, an operator and a value, nothing else',
      {
        table: 'task_executions',
        older_than_days: 30,
        conditions: [{ column: 'status', operator: 'like', value: { sql: 'x' }, raw: true }],
      },
      ['parameters.conditions.0.operator', 'parameters.conditions.0.raw', 'parameters.conditions.0.value'],
    ],
  ])('%s', (_name, params, fields) => {
    expect(rejectedFields('database_cleanup', params)).toEqual(fields);
  });
});

describe('email_notification parameters', () => {
  test('a templated email needs no subject and gets empty variables by default', () => {
    expect(accepted('email_notification', { recipients: ['a@example.com'], template: 'daily_summary' })).toEqual({
      recipients: ['a@example.com'],
      template: 'daily_summary',
      variables: {},
    });
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ['recipients are required', { subject: 's', body: 'b' }, ['parameters.recipients']],
    [
      'each recipient is an email address',
      { recipients: ['a@example.com', 'not an address'], subject: 's', body: 'b' },
      ['parameters.recipients.1'],
    ],
    ['at least one recipient', { recipients: [], subject: 's', body: 'b' }, ['parameters.recipients']],
    [
      'at most fifty recipients',
      { recipients: Array.from({ length: 51 }, (_, i) => `r${i}@example.com`), subject: 's', body: 'b' },
      ['parameters.recipients'],
    ],
    ['a body or a template is required', { recipients: ['a@example.com'], subject: 's' }, ['parameters.body']],
    [
      'not both a body and a template',
      { recipients: ['a@example.com'], subject: 's', body: 'b', template: 'daily_summary' },
      ['parameters.template'],
    ],
    ['a body needs a subject', { recipients: ['a@example.com'], body: 'b' }, ['parameters.subject']],
    [
      'the template is one of the EDMS templates',
      { recipients: ['a@example.com'], template: 'marketing_blast' },
      ['parameters.template'],
    ],
    [
      'a subject is one line',
      { recipients: ['a@example.com'], subject: 'Hi\r\nBcc: everyone@example.com', body: 'b' },
      ['parameters.subject'],
    ],
    [
      'variables are an object of named values',
      { recipients: ['a@example.com'], template: 'daily_summary', variables: ['x'] },
      ['parameters.variables'],
    ],
    [
      'unknown parameters are refused',
      { recipients: ['a@example.com'], subject: 's', body: 'b', cc: ['b@example.com'] },
      ['parameters.cc'],
    ],
  ])('%s', (_name, params, fields) => {
    expect(rejectedFields('email_notification', params)).toEqual(fields);
  });
});

describe('data_export parameters', () => {
  test('an export defaults to CSV and ten thousand rows', () => {
    expect(accepted('data_export', { dataset: 'audit_trail' })).toEqual({
      dataset: 'audit_trail',
      format: 'csv',
      filters: { limit: 10_000 },
    });
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ['the dataset is required', { format: 'json' }, ['parameters.dataset']],
    ['only the three datasets', { dataset: 'users' }, ['parameters.dataset']],
    ['the format is csv or json', { dataset: 'documents', format: 'xlsx' }, ['parameters.format']],
    [
      'the limit is at most 100000',
      { dataset: 'documents', filters: { limit: 100_001 } },
      ['parameters.filters.limit'],
    ],
    [
      'dates are ISO date-times',
      { dataset: 'documents', filters: { from: 'last tuesday', to: 5 } },
      ['parameters.filters.from', 'parameters.filters.to'],
    ],
    [
      'from comes before to',
      { dataset: 'documents', filters: { from: '2025-06-01T00:00:00Z', to: '2025-05-01T00:00:00Z' } },
      ['parameters.filters.to'],
    ],
    [
      'the status is one of the dataset’s',
      { dataset: 'task_executions', filters: { status: 'EFFECTIVE' } },
      ['parameters.filters.status'],
    ],
    [
      'the audit trail has no status',
      { dataset: 'audit_trail', filters: { status: 'x' } },
      ['parameters.filters.status'],
    ],
    [
      'the file name prefix cannot escape the exports directory',
      { dataset: 'documents', file_name_prefix: '../../etc/passwd' },
      ['parameters.file_name_prefix'],
    ],
    [
      'unknown filters are refused',
      { dataset: 'documents', filters: { author: 'alice' } },
      ['parameters.filters.author'],
    ],
  ])('%s', (_name, params, fields) => {
    expect(rejectedFields('data_export', params)).toEqual(fields);
  });
});

describe('report_generation parameters', () => {
  test('a report covers every section of the last week, as HTML and CSV, by default', () => {
    expect(accepted('report_generation', {})).toEqual({
      sections: ['documents_by_status', 'overdue_reviews', 'task_success_rates', 'backups'],
      period_days: 7,
      formats: ['html', 'csv'],
    });
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ['the period is at most 366 days', { period_days: 367 }, ['parameters.period_days']],
    ['the period is a whole number of days', { period_days: 1.5 }, ['parameters.period_days']],
    ['sections are the known ones', { sections: ['documents_by_status', 'salaries'] }, ['parameters.sections.1']],
    ['at least one section', { sections: [] }, ['parameters.sections']],
    ['a section once', { sections: ['backups', 'backups'] }, ['parameters.sections']],
    ['formats are html and csv', { formats: ['pdf'] }, ['parameters.formats.0']],
    ['recipients are email addresses', { email_to: ['qa@example.com', 'qa'] }, ['parameters.email_to.1']],
    ['unknown parameters are refused', { period_days: 7, theme: 'dark' }, ['parameters.theme']],
  ])('%s', (_name, params, fields) => {
    expect(rejectedFields('report_generation', params)).toEqual(fields);
  });
});

describe('backup parameters', () => {
  test('a backup names its configuration and may override the verification', () => {
    expect(accepted('backup', { config: 'weekly-export', verify: 'restore' })).toEqual({
      config: 'weekly-export',
      verify: 'restore',
    });
  });

  test.each<[string, unknown, string[]]>([
    ['the configuration is required', {}, ['parameters.config']],
    ['the configuration is a name', { config: 42 }, ['parameters.config']],
    ['a configuration name has no path or spaces', { config: '../daily full' }, ['parameters.config']],
    ['verification is checksums or restore', { config: 'daily-full', verify: 'none' }, ['parameters.verify']],
    ['unknown parameters are refused', { config: 'daily-full', destination: '/tmp' }, ['parameters.destination']],
    ['parameters are an object', ['daily-full'], ['parameters']],
  ])('%s', (_name, params, fields) => {
    expect(rejectedFields('backup', params)).toEqual(fields);
  });
});

describe('webhook_trigger parameters', () => {
  test('a webhook POSTs with a 30 second timeout by default', () => {
    expect(accepted('webhook_trigger', { url: 'http://hooks.example.com/x' })).toEqual({
      url: 'http://hooks.example.com/x',
      method: 'POST',
      headers: {},
      timeout_seconds: 30,
    });
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ['the URL is required', { method: 'POST' }, ['parameters.url']],
    ['the URL is http or https', { url: 'file:///etc/passwd' }, ['parameters.url']],
    ['the URL is a URL', { url: 'not a url' }, ['parameters.url']],
    ['the URL carries no credentials', { url: 'https://user:secret@hooks.example.com/x' }, ['parameters.url']],
    ['the method is a known one', { url: 'https://h.example.com', method: 'TRACE' }, ['parameters.method']],
    [
      'the timeout is at most five minutes',
      { url: 'https://h.example.com', timeout_seconds: 301 },
      ['parameters.timeout_seconds'],
    ],
    [
      'the timeout is at least a second',
      { url: 'https://h.example.com', timeout_seconds: 0 },
      ['parameters.timeout_seconds'],
    ],
    [
      'the expected status is an HTTP status',
      { url: 'https://h.example.com', expected_status: 99 },
      ['parameters.expected_status'],
    ],
    [
      'header values are strings on one line',
      { url: 'https://h.example.com', headers: { 'X-Token': 5, 'X-Evil': 'a\r\nHost: b' } },
      ['parameters.headers.X-Evil', 'parameters.headers.X-Token'],
    ],
    [
      'header names are HTTP tokens',
      { url: 'https://h.example.com', headers: { 'Bad Header': 'x' } },
      ['parameters.headers.Bad Header'],
    ],
    [
      'headers the client sets itself are refused',
      { url: 'https://h.example.com', headers: { host: 'internal', 'Content-Length': '0' } },
      ['parameters.headers.Content-Length', 'parameters.headers.host'],
    ],
    [
      'at most twenty headers',
      {
        url: 'https://h.example.com',
        headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-${i}`, 'v'])),
      },
      ['parameters.headers'],
    ],
    ['a GET has no body', { url: 'https://h.example.com', method: 'GET', body: { a: 1 } }, ['parameters.body']],
    [
      'the body is at most 64 KiB',
      { url: 'https://h.example.com', body: { blob: 'x'.repeat(70_000) } },
      ['parameters.body'],
    ],
    ['unknown parameters are refused', { url: 'https://h.example.com', retries: 3 }, ['parameters.retries']],
  ])('%s', (_name, params, fields) => {
    expect(rejectedFields('webhook_trigger', params)).toEqual(fields);
  });
});
