import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { isInstant, isUuid } from '../lib/dates';
import { CLEANUP_TABLES } from './cleanup-tables';
import { JOB_TEMPLATES, type JobParameters, type JobParametersByTemplate } from './templates';
import { isJobTemplateId, JOB_TEMPLATE_IDS, type JobTemplateId } from '../common';
import { checkTemplateParameters, ROOT, type JobParameterError, type JobParameterValidation } from './parameter-rules';

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
