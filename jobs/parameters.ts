import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { isInstant, isUuid } from '../lib/dates';
import { CLEANUP_TABLES, type CleanupColumnType } from '../common/database-cleanup';
import {
  EXPORT_DATASETS,
  isJobTemplateId,
  JOB_TEMPLATE_IDS,
  JOB_TEMPLATES,
  type JobParameters,
  type JobParametersByTemplate,
  type JobTemplateId,
} from '../common/job-templates';
import { WEBHOOK_FORBIDDEN_HEADERS, WEBHOOK_MAX_BODY_BYTES } from '../common/webhooks';

/** One problem with a job's parameters, named by its path, e.g. `parameters.recipients.1`. */
export interface JobParameterError {
  field: string;
  message: string;
}

export type JobParameterValidation<T> = { ok: true; value: T } | { ok: false; errors: JobParameterError[] };

/** A rule JSON Schema cannot say (one field constrains another); runs on schema-valid parameters only. */
export type SemanticCheck<T> = (params: T) => JobParameterError[];

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  coerceTypes: false,
  removeAdditional: false,
  // `verbose` gives each error its schema, for messages that name the allowed values or types.
  verbose: true,
  strict: true,
});
addFormats(ajv);
// The same instants and UUIDs the API takes everywhere else (a year-0 `from` would fail the run).
ajv.addFormat('date-time', { type: 'string', validate: isInstant });
ajv.addFormat('uuid', { type: 'string', validate: isUuid });

// Compiled at load, so a broken template schema fails the process at boot rather than a job later.
const VALIDATORS = Object.fromEntries(
  JOB_TEMPLATE_IDS.map((id) => [id, ajv.compile(JOB_TEMPLATES[id].parameters_schema)]),
) as Record<JobTemplateId, ValidateFunction>;

const ROOT = 'parameters';

const fieldOf = (instancePath: string, ...more: (string | number)[]) =>
  [
    ROOT,
    ...instancePath
      .split('/')
      .slice(1)
      .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~')),
    ...more,
  ].join('.');

const typeName = (schema: unknown): string => {
  const s = schema as { type?: string; items?: unknown };
  return s.type === 'array' ? `list of ${typeName(s.items)}` : String(s.type ?? 'value');
};

function describe(error: ErrorObject): JobParameterError {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { field: fieldOf(error.instancePath, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties': {
      const field = fieldOf(error.instancePath, String(params.additionalProperty));
      const patterns = Object.keys((error.parentSchema as { patternProperties?: object })?.patternProperties ?? {});
      return patterns.length > 0
        ? { field, message: `is not an allowed name (must match ${patterns.join(' or ')})` }
        : { field, message: 'is not allowed' };
    }
    case 'enum':
      return {
        field: fieldOf(error.instancePath),
        message: `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`,
      };
    case 'anyOf':
      return {
        field: fieldOf(error.instancePath),
        message: `must be a ${(error.schema as unknown[]).map(typeName).join(', or a ')}`,
      };
    default:
      return { field: fieldOf(error.instancePath), message: error.message ?? 'is invalid' };
  }
}

function schemaErrors(errors: ErrorObject[]): JobParameterError[] {
  // A value that fits no branch of an anyOf gets one error per branch too: the anyOf's own says it all.
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  const kept = errors.filter((e) => !anyOfPaths.some((path) => e.schemaPath.startsWith(path)));
  const seen = new Set<string>();
  return kept.map(describe).filter((e) => {
    const key = `${e.field}\n${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// --- the rules JSON Schema cannot express --------------------------------------------------------

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

/** Defaults JSON Schema cannot state because they depend on another field. */
function applyDependentDefaults(templateId: JobTemplateId, value: JobParameters): void {
  if (templateId === 'database_cleanup') {
    const p = value as JobParametersByTemplate['database_cleanup'];
    p.date_column ??= CLEANUP_TABLES[p.table].dateColumns[0];
  }
}

/**
 * Validates a job's parameters against its template: the JSON Schema (with ajv), then the template's
 * cross-field rules. On success `value` is a copy with every default applied (the caller's object is
 * left alone); on failure every problem found, by field.
 */
export function validateJobParameters<K extends JobTemplateId>(
  templateId: K,
  params: unknown,
): JobParameterValidation<JobParametersByTemplate[K]>;
export function validateJobParameters(templateId: string, params: unknown): JobParameterValidation<JobParameters>;
export function validateJobParameters(templateId: string, params: unknown): JobParameterValidation<JobParameters> {
  if (!isJobTemplateId(templateId)) {
    return {
      ok: false,
      errors: [{ field: 'template', message: `is not a job template (one of: ${JOB_TEMPLATE_IDS.join(', ')})` }],
    };
  }
  let value: unknown;
  try {
    value = structuredClone(params);
  } catch {
    return { ok: false, errors: [{ field: ROOT, message: 'must be plain JSON' }] };
  }
  const validate = VALIDATORS[templateId];
  if (!validate(value)) return { ok: false, errors: schemaErrors(validate.errors ?? []) };
  const parameters = value as JobParameters;
  const errors = checkTemplateParameters<JobTemplateId>(templateId, parameters);
  if (errors.length > 0) return { ok: false, errors };
  applyDependentDefaults(templateId, parameters);
  return { ok: true, value: parameters };
}
