import path from 'node:path';
import envSchema from 'env-schema';
import { Type, type Static } from '@sinclair/typebox';
import { ALL_TASK_QUEUES, DEFAULT_LATENESS_SLA_SECONDS, type TaskQueueName } from '../common';
import { ConfigError } from './config-error';
import { outboundPolicyFromEnv, type OutboundPolicy } from './outbound-policy';
import { PROJECT_ROOT } from './paths';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A string from a fixed list; a plain `enum` gives one clear error instead of one per alternative. */
function oneOf<const T extends readonly string[]>(values: T, defaultValue: T[number]) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], default: defaultValue });
}

/**
 * Every setting of the system, read from environment variables (and an optional `.env` file).
 * Temporal connection settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*,
 * TEMPORAL_PROFILE) are read by @temporalio/envconfig, see lib/temporal.ts.
 * @see .env.example for the documented defaults.
 */
const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  EDMS_DATA_DIR: Type.String({ minLength: 1, default: path.join(PROJECT_ROOT, '.data') }),
  EDMS_CPU_PROF_DIR: Type.Optional(Type.String({ minLength: 1 })),
  EDMS_TIMEZONE: Type.String({ minLength: 1, default: 'UTC' }),
  EDMS_ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 12 })),
  EDMS_JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  EDMS_JWT_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 7 * 24 * 3600, default: 3600 }),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  MAIL_FROM: Type.String({ minLength: 3, default: 'EDMS <edms@localhost>' }),
  EDMS_PUBLIC_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:3000' }),
  EDMS_SMTP_SINK_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 1025 }),
  EDMS_REVIEW_DUE_DAYS: Type.Number({ exclusiveMinimum: 0, maximum: 365, default: 5 }),
  EDMS_ESCALATION_DAYS: Type.Number({ exclusiveMinimum: 0, maximum: 365, default: 7 }),
  EDMS_REMINDER_INTERVAL_DAYS: Type.Number({ exclusiveMinimum: 0, maximum: 365, default: 1 }),
  EDMS_STORAGE_DIR: Type.Optional(Type.String({ minLength: 1 })),
  EDMS_BACKUP_DIR: Type.Optional(Type.String({ minLength: 1 })),
  EDMS_BACKUP_COMPRESSION: Type.Integer({ minimum: 0, maximum: 9, default: 9 }),
  EDMS_PG_BIN_DIR: Type.Optional(Type.String({ minLength: 1 })),
  EDMS_TASK_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 7 }),
  EDMS_NOTIFICATION_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3650, default: 90 }),
  EDMS_EXPORTS_DIR: Type.Optional(Type.String({ minLength: 1 })),
  EDMS_MAX_JOBS_PER_USER: Type.Integer({ minimum: 1, maximum: 100_000, default: 50 }),
  EDMS_JOB_CREATES_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 10_000, default: 10 }),
  EDMS_WEBHOOK_ALLOWED_HOSTS: Type.Optional(Type.String()),
  EDMS_WEBHOOK_ALLOW_PRIVATE: Type.Optional(Type.String()),
  EDMS_LOGIN_ATTEMPTS_PER_MINUTE: Type.Integer({ minimum: 1, maximum: 10_000, default: 10 }),
  EDMS_EMBEDDED_PG_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 54329 }),
  LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),
  LOG_FORMAT: oneOf(['json', 'pretty'] as const, 'json'),
  WORKER_TASK_QUEUES: Type.String({ default: ALL_TASK_QUEUES.join(',') }),
  WORKER_SHUTDOWN_GRACE_SECONDS: Type.Integer({ minimum: 0, maximum: 3600, default: 60 }),
  WORKER_METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  WORKER_MAX_CACHED_WORKFLOWS: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  EDMS_LATENESS_SLA_SECONDS: Type.Number({
    exclusiveMinimum: 0,
    maximum: 86_400,
    default: DEFAULT_LATENESS_SLA_SECONDS,
  }),
  TEMPORAL_CLI_PATH: Type.Optional(Type.String({ minLength: 1 })),
  TEMPORAL_TEST_SERVER_PATH: Type.Optional(Type.String({ minLength: 1 })),
  TEMPORAL_DEV_PORT: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  TEMPORAL_DEV_UI_PORT: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
});

type Env = Static<typeof EnvSchema>;

export type LogLevel = Env['LOG_LEVEL'];

export interface AppConfig {
  port: number;
  host: string;
  /** Unset means "use the embedded PostgreSQL" (launcher and tests only). */
  databaseUrl: string | undefined;
  dataDir: string;
  /**
   * Where `npm start` has the worker and the API write a V8 CPU profile each (`node --cpu-prof`,
   * one `.cpuprofile` per thread, written when the service stops); unset: no profiling.
   */
  cpuProfileDir: string | undefined;
  timezone: string;
  adminPassword: string | undefined;
  jwtSecret: string | undefined;
  jwtTtlSeconds: number;
  loginAttemptsPerMinute: number;
  /** Unset means "use the launcher's local SMTP sink" (dev only). */
  smtpUrl: string | undefined;
  mailFrom: string;
  publicUrl: string;
  smtpSinkPort: number;
  /** Review timing for new documents: due after, escalated after, reminded every (days). */
  lifecycle: { reviewDueDays: number; escalationDays: number; reminderIntervalDays: number };
  /** Document storage (checked by the health check; archived by backups). */
  storageDir: string;
  taskRetentionDays: number;
  notificationRetentionDays: number;
  /** Backups go to `<backupDir>/backups/<type>/`. */
  backupDir: string;
  backupCompressionLevel: number;
  pgBinDir: string | undefined;
  /** Data exports and reports of scheduled jobs (reports under `reports/`). */
  exportsDir: string;
  /** At most this many (not deleted) scheduled jobs per creator. */
  maxJobsPerUser: number;
  /** Job creations an admin may make per minute. */
  jobCreatesPerMinute: number;
  /** What webhook_trigger jobs may reach (EDMS_WEBHOOK_ALLOWED_HOSTS, EDMS_WEBHOOK_ALLOW_PRIVATE). */
  outboundPolicy: OutboundPolicy;
  embeddedPgPort: number;
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  workerTaskQueues: TaskQueueName[];
  workerShutdownGraceSeconds: number;
  /** Where the worker serves `GET /metrics` (Prometheus); unset serves none, 0 picks a free port. */
  workerMetricsPort: number | undefined;
  /**
   * Workflows a worker keeps in its sticky cache; unset keeps the SDK's default (derived from the
   * heap size). A sleeping document evicted from it replays its short history when its timer fires.
   */
  workerMaxCachedWorkflows: number | undefined;
  /** A timed business event (effective, obsolete, reminder, escalation) later than this is an SLA breach. */
  latenessSlaSeconds: number;
  temporalCliPath: string | undefined;
  temporalTestServerPath: string | undefined;
  temporalDevPort: number | undefined;
  temporalDevUiPort: number | undefined;
}

export { ConfigError };

interface AjvIssue {
  instancePath: string;
  message?: string;
  params?: { missingProperty?: string; allowedValues?: string[] };
}

function describeIssues(issues: AjvIssue[], env: NodeJS.ProcessEnv): string {
  return issues
    .map((issue) => {
      const variable = issue.instancePath.replace(/^\//, '') || issue.params?.missingProperty || '(environment)';
      const got = env[variable];
      const allowed = issue.params?.allowedValues ? `: ${issue.params.allowedValues.join(', ')}` : '';
      return `${variable} ${issue.message ?? 'is invalid'}${allowed}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
    })
    .filter((line, index, lines) => lines.indexOf(line) === index)
    .join('; ');
}

/** How a numeric variable must be written: decimal digits, a sign and (for a number) a fraction only. */
const DECIMAL_FORMS: Record<string, { pattern: RegExp; description: string }> = {
  integer: { pattern: /^-?\d+$/, description: 'a decimal integer' },
  number: { pattern: /^-?\d+(\.\d+)?$/, description: 'a decimal number such as 2.5' },
};

/**
 * The numeric variables of the schema that are not written as plain decimals. The validator would
 * coerce " 5", "0x10" and "1e1" into 5, 16 and 10: in a configuration those are typos, not values.
 */
function nonDecimalNumbers(data: Record<string, string | undefined>): Map<string, string> {
  const issues = new Map<string, string>();
  for (const [variable, schema] of Object.entries(EnvSchema.properties) as [string, { type?: string }][]) {
    const form = schema.type === undefined ? undefined : DECIMAL_FORMS[schema.type];
    const value = data[variable];
    if (form && value !== undefined && !form.pattern.test(value)) {
      issues.set(variable, `${variable} must be ${form.description} (got ${JSON.stringify(value)})`);
    }
  }
  return issues;
}

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function parseTaskQueues(value: string): TaskQueueName[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const unknown = names.filter((name) => !(ALL_TASK_QUEUES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new ConfigError(
      `Invalid configuration: WORKER_TASK_QUEUES must be a comma-separated list of ${ALL_TASK_QUEUES.join(', ')} (got ${JSON.stringify(value)})`,
    );
  }
  return [...new Set(names)] as TaskQueueName[];
}

/** Reads and validates the configuration once, at boot. Throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings mean "not set", as in most shells' `VAR= command`.
  const data = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const badNumbers = nonDecimalNumbers(data);
  // Left out so the validator reports only the other variables, every bad one still named at once.
  for (const variable of badNumbers.keys()) delete data[variable];
  let parsed: Env | undefined;
  let schemaIssues = '';
  try {
    parsed = envSchema<Env>({ schema: EnvSchema, data, env: false, dotenv: false });
  } catch (error) {
    const issues = (error as { errors?: AjvIssue[] }).errors;
    schemaIssues = issues ? describeIssues(issues, env) : String(error);
  }
  if (!parsed || badNumbers.size > 0) {
    const problems = [...badNumbers.values(), ...(schemaIssues ? [schemaIssues] : [])];
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  if (!isValidTimeZone(parsed.EDMS_TIMEZONE)) {
    throw new ConfigError(
      `Invalid configuration: EDMS_TIMEZONE must be an IANA time zone such as "Europe/Berlin" (got ${JSON.stringify(parsed.EDMS_TIMEZONE)})`,
    );
  }
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    databaseUrl: parsed.DATABASE_URL,
    dataDir: path.resolve(parsed.EDMS_DATA_DIR),
    cpuProfileDir: parsed.EDMS_CPU_PROF_DIR === undefined ? undefined : path.resolve(parsed.EDMS_CPU_PROF_DIR),
    timezone: parsed.EDMS_TIMEZONE,
    adminPassword: parsed.EDMS_ADMIN_PASSWORD,
    jwtSecret: parsed.EDMS_JWT_SECRET,
    jwtTtlSeconds: parsed.EDMS_JWT_TTL_SECONDS,
    loginAttemptsPerMinute: parsed.EDMS_LOGIN_ATTEMPTS_PER_MINUTE,
    smtpUrl: parsed.SMTP_URL,
    mailFrom: parsed.MAIL_FROM,
    publicUrl: parsed.EDMS_PUBLIC_URL.replace(/\/+$/, ''),
    smtpSinkPort: parsed.EDMS_SMTP_SINK_PORT,
    lifecycle: {
      reviewDueDays: parsed.EDMS_REVIEW_DUE_DAYS,
      escalationDays: parsed.EDMS_ESCALATION_DAYS,
      reminderIntervalDays: parsed.EDMS_REMINDER_INTERVAL_DAYS,
    },
    storageDir: path.resolve(parsed.EDMS_STORAGE_DIR ?? path.join(parsed.EDMS_DATA_DIR, 'storage')),
    taskRetentionDays: parsed.EDMS_TASK_RETENTION_DAYS,
    backupDir: path.resolve(parsed.EDMS_BACKUP_DIR ?? parsed.EDMS_DATA_DIR),
    backupCompressionLevel: parsed.EDMS_BACKUP_COMPRESSION,
    pgBinDir: parsed.EDMS_PG_BIN_DIR,
    notificationRetentionDays: parsed.EDMS_NOTIFICATION_RETENTION_DAYS,
    exportsDir: path.resolve(parsed.EDMS_EXPORTS_DIR ?? path.join(parsed.EDMS_DATA_DIR, 'exports')),
    maxJobsPerUser: parsed.EDMS_MAX_JOBS_PER_USER,
    jobCreatesPerMinute: parsed.EDMS_JOB_CREATES_PER_MINUTE,
    outboundPolicy: outboundPolicyFromEnv(env),
    embeddedPgPort: parsed.EDMS_EMBEDDED_PG_PORT,
    logLevel: parsed.LOG_LEVEL,
    logFormat: parsed.LOG_FORMAT,
    workerTaskQueues: parseTaskQueues(parsed.WORKER_TASK_QUEUES),
    workerShutdownGraceSeconds: parsed.WORKER_SHUTDOWN_GRACE_SECONDS,
    workerMetricsPort: parsed.WORKER_METRICS_PORT,
    workerMaxCachedWorkflows: parsed.WORKER_MAX_CACHED_WORKFLOWS,
    latenessSlaSeconds: parsed.EDMS_LATENESS_SLA_SECONDS,
    temporalCliPath: parsed.TEMPORAL_CLI_PATH,
    temporalTestServerPath: parsed.TEMPORAL_TEST_SERVER_PATH,
    temporalDevPort: parsed.TEMPORAL_DEV_PORT,
    temporalDevUiPort: parsed.TEMPORAL_DEV_UI_PORT,
  };
}

/** The SMTP server for processes that send email (the worker). */
export function requireSmtpUrl(config: AppConfig): string {
  if (!config.smtpUrl) {
    throw new ConfigError(
      'Invalid configuration: SMTP_URL is required (smtp://user:password@mail.example.com:587); `npm start` sets it to its local mail sink',
    );
  }
  return config.smtpUrl;
}

/** The database URL for processes that cannot run without one (worker, API). */
export function requireDatabaseUrl(config: AppConfig): string {
  if (!config.databaseUrl) {
    throw new ConfigError(
      'Invalid configuration: DATABASE_URL is required (postgres://user:password@host:5432/db); `npm start` sets it for you when it runs the embedded PostgreSQL',
    );
  }
  return config.databaseUrl;
}
