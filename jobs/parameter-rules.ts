import { CLEANUP_TABLES, type CleanupColumnType } from './cleanup-tables';
import { EXPORT_DATASETS } from './parameter-schemas';
import type { JobParametersByTemplate } from './templates';
import { type JobTemplateId } from '../common';
import { WEBHOOK_FORBIDDEN_HEADERS, WEBHOOK_MAX_BODY_BYTES } from '../common/webhooks';
import { isUuid } from '../lib/dates';

/**
 * The rules of job parameters that JSON Schema cannot express (one field constrains another, a
 * value depends on the table chosen); ./parameters.ts runs them after the schema.
 */

/** Errors name fields from the job body's `parameters`. */
export const ROOT = 'parameters';

/** One problem with a job's parameters, named by its path, e.g. `parameters.recipients.1`. */
export interface JobParameterError {
  field: string;
  message: string;
}

export type JobParameterValidation<T> = { ok: true; value: T } | { ok: false; errors: JobParameterError[] };

/** A rule JSON Schema cannot say (one field constrains another); runs on schema-valid parameters only. */
export type SemanticCheck<T> = (params: T) => JobParameterError[];

function columnValueProblem(value: unknown, column: CleanupColumnType): string | null {
  switch (column.type) {
    case 'text':
      return typeof value === 'string' ? null : 'must be a string';
    case 'uuid':
      return typeof value === 'string' && isUuid(value) ? null : 'must be a UUID';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'enum':
      return typeof value === 'string' && column.values.includes(value)
        ? null
        : `must be one of: ${column.values.join(', ')}`;
  }
}

const checkDatabaseCleanup: SemanticCheck<JobParametersByTemplate['database_cleanup']> = (p) => {
  const rule = CLEANUP_TABLES[p.table];
  const errors: JobParameterError[] = [];
  if (p.date_column !== undefined && !rule.dateColumns.includes(p.date_column)) {
    errors.push({
      field: `${ROOT}.date_column`,
      message: `must be one of ${p.table}'s date columns: ${rule.dateColumns.join(', ')}`,
    });
  }
  (p.conditions ?? []).forEach((condition, i) => {
    const at = `${ROOT}.conditions.${i}`;
    const column = rule.columns[condition.column];
    if (!column) {
      errors.push({
        field: `${at}.column`,
        message: `is not a filterable column of ${p.table} (allowed: ${Object.keys(rule.columns).join(', ')})`,
      });
      return;
    }
    const { operator, value } = condition;
    if (operator === 'is_null' || operator === 'is_not_null') {
      if (!column.nullable) errors.push({ field: `${at}.operator`, message: `${condition.column} is never null` });
      if (value !== undefined) errors.push({ field: `${at}.value`, message: `must be absent with ${operator}` });
    } else if (value === undefined) {
      errors.push({ field: `${at}.value`, message: `is required with ${operator}` });
    } else if (operator === 'in') {
      if (!Array.isArray(value)) {
        errors.push({ field: `${at}.value`, message: 'must be a list with in' });
      } else {
        value.forEach((item, j) => {
          const problem = columnValueProblem(item, column);
          if (problem) errors.push({ field: `${at}.value.${j}`, message: problem });
        });
      }
    } else if (Array.isArray(value)) {
      errors.push({ field: `${at}.value`, message: `must be a single value with ${operator} (use in for a list)` });
    } else {
      const problem = columnValueProblem(value, column);
      if (problem) errors.push({ field: `${at}.value`, message: problem });
    }
  });
  return errors;
};

const checkEmailNotification: SemanticCheck<JobParametersByTemplate['email_notification']> = (p) => {
  const errors: JobParameterError[] = [];
  if (p.body === undefined && p.template === undefined) {
    errors.push({ field: `${ROOT}.body`, message: 'is required unless a template is given' });
  }
  if (p.body !== undefined && p.template !== undefined) {
    errors.push({ field: `${ROOT}.template`, message: 'must not be given with a body: give one of them' });
  }
  if (p.body !== undefined && p.subject === undefined) {
    errors.push({ field: `${ROOT}.subject`, message: 'is required with a body' });
  }
  return errors;
};

const checkDataExport: SemanticCheck<JobParametersByTemplate['data_export']> = (p) => {
  const errors: JobParameterError[] = [];
  const { status, from, to } = p.filters ?? {};
  const statuses = EXPORT_DATASETS[p.dataset].statuses;
  if (status !== undefined && statuses === null) {
    errors.push({ field: `${ROOT}.filters.status`, message: `is not a filter of ${p.dataset}` });
  } else if (status !== undefined && statuses && !statuses.includes(status)) {
    errors.push({ field: `${ROOT}.filters.status`, message: `must be one of: ${statuses.join(', ')}` });
  }
  if (from !== undefined && to !== undefined && Date.parse(from) > Date.parse(to)) {
    errors.push({ field: `${ROOT}.filters.to`, message: 'must not be before from' });
  }
  return errors;
};

const FORBIDDEN_HEADERS: readonly string[] = WEBHOOK_FORBIDDEN_HEADERS;

const checkWebhookTrigger: SemanticCheck<JobParametersByTemplate['webhook_trigger']> = (p) => {
  const errors: JobParameterError[] = [];
  let url: URL | null = null;
  try {
    url = new URL(p.url);
  } catch {
    errors.push({ field: `${ROOT}.url`, message: 'is not a valid URL' });
  }
  if (url && (url.username || url.password)) {
    errors.push({ field: `${ROOT}.url`, message: 'must not contain credentials (send them in a header)' });
  }
  const seen = new Map<string, string>();
  for (const name of Object.keys(p.headers ?? {})) {
    const lower = name.toLowerCase();
    if (FORBIDDEN_HEADERS.includes(lower)) {
      errors.push({ field: `${ROOT}.headers.${name}`, message: 'is set by the HTTP client and may not be given' });
    }
    const earlier = seen.get(lower);
    if (earlier !== undefined) errors.push({ field: `${ROOT}.headers.${name}`, message: `repeats header ${earlier}` });
    seen.set(lower, name);
  }
  if (p.body !== undefined) {
    if ((p.method ?? 'POST') === 'GET') {
      errors.push({ field: `${ROOT}.body`, message: 'is not allowed with GET' });
    } else if (Buffer.byteLength(JSON.stringify(p.body) ?? '') > WEBHOOK_MAX_BODY_BYTES) {
      errors.push({ field: `${ROOT}.body`, message: `must be at most ${WEBHOOK_MAX_BODY_BYTES} bytes as JSON` });
    }
  }
  return errors;
};

const SEMANTIC_CHECKS: { [K in JobTemplateId]: SemanticCheck<JobParametersByTemplate[K]> } = {
  database_cleanup: checkDatabaseCleanup,
  email_notification: checkEmailNotification,
  data_export: checkDataExport,
  report_generation: () => [],
  // Whether the configuration exists is the API's question (it reads the database).
  backup: () => [],
  webhook_trigger: checkWebhookTrigger,
};

/** The cross-field rules of a template, for parameters that already satisfy its JSON Schema. */
export function checkTemplateParameters<K extends JobTemplateId>(
  templateId: K,
  params: JobParametersByTemplate[K],
): JobParameterError[] {
  return (SEMANTIC_CHECKS[templateId] as SemanticCheck<JobParametersByTemplate[K]>)(params);
}
