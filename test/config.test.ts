import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALL_TASK_QUEUES, CUSTOM_SEARCH_ATTRIBUTES } from '../common';
import { ConfigError, loadConfig, requireDatabaseUrl } from '../lib/config';
import { devServerArgs, loadDevServerConfig, readDevServerFile } from '../launcher/dev-server-config';
import { DEFAULT_NAMESPACE, loadTemporalSettings } from '../lib/temporal';

const configError = (env: NodeJS.ProcessEnv) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration from environment variables', () => {
  test('defaults need no variable at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      timezone: 'UTC',
      jwtTtlSeconds: 3600,
      logLevel: 'info',
      workerTaskQueues: [...ALL_TASK_QUEUES],
    });
  });

  test.each([
    [{ PORT: 'abc' }, 'PORT must be a decimal integer (got "abc")'],
    [{ PORT: '70000' }, 'PORT must be <= 65535 (got "70000")'],
    [{ DATABASE_URL: 'mysql://db/edms' }, 'DATABASE_URL must match pattern'],
    [{ EDMS_TIMEZONE: 'Mars/Olympus_Mons' }, 'EDMS_TIMEZONE must be an IANA time zone'],
    [{ EDMS_JWT_SECRET: 'too-short' }, 'EDMS_JWT_SECRET must NOT have fewer than 32 characters'],
    [{ EDMS_ADMIN_PASSWORD: 'short' }, 'EDMS_ADMIN_PASSWORD must NOT have fewer than 12 characters'],
    [
      { LOG_LEVEL: 'loud' },
      'LOG_LEVEL must be equal to one of the allowed values: fatal, error, warn, info, debug, trace, silent',
    ],
    [{ WORKER_TASK_QUEUES: 'documents,printing' }, 'WORKER_TASK_QUEUES must be a comma-separated list'],
    [{ EDMS_JWT_TTL_SECONDS: '5' }, 'EDMS_JWT_TTL_SECONDS must be >= 60'],
  ])('%j is refused with a message naming the variable', (env, expected) => {
    const message = configError(env);
    expect(message).toContain('Invalid configuration');
    expect(message).toContain(expected);
  });

  test('EDMS_CPU_PROF_DIR turns profiling on, as an absolute directory; unset or empty leaves it off', () => {
    expect(loadConfig({}).cpuProfileDir).toBeUndefined();
    expect(loadConfig({ EDMS_CPU_PROF_DIR: '' }).cpuProfileDir).toBeUndefined();
    expect(loadConfig({ EDMS_CPU_PROF_DIR: 'profiles' }).cpuProfileDir).toBe(path.resolve('profiles'));
  });

  test('several bad variables are all reported at once', () => {
    const message = configError({ PORT: 'x', LOG_FORMAT: 'xml' });
    expect(message).toContain('PORT');
    expect(message).toContain('LOG_FORMAT');
  });

  test('an empty variable counts as unset, numeric ones included', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', EDMS_LATENESS_SLA_SECONDS: '' })).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      latenessSlaSeconds: 60,
    });
  });

  // The validator alone would read " 5" as 5, "0x10" as 16 and "1e1" as 10.
  test.each([
    ['EDMS_LATENESS_SLA_SECONDS', ' 5', 'a decimal number'],
    ['EDMS_LATENESS_SLA_SECONDS', '5 ', 'a decimal number'],
    ['EDMS_LATENESS_SLA_SECONDS', '0x10', 'a decimal number'],
    ['EDMS_LATENESS_SLA_SECONDS', '1e1', 'a decimal number'],
    ['EDMS_LATENESS_SLA_SECONDS', '.5', 'a decimal number'],
    ['EDMS_LATENESS_SLA_SECONDS', '+5', 'a decimal number'],
    ['EDMS_REVIEW_DUE_DAYS', 'Infinity', 'a decimal number'],
    ['PORT', ' 3000', 'a decimal integer'],
    ['PORT', '0x10', 'a decimal integer'],
    ['EDMS_JWT_TTL_SECONDS', '1e3', 'a decimal integer'],
    ['WORKER_METRICS_PORT', '0x0', 'a decimal integer'],
    ['WORKER_MAX_CACHED_WORKFLOWS', '1_000', 'a decimal integer'],
    ['EDMS_EMBEDDED_PG_PORT', '5432.0', 'a decimal integer'],
  ])('%s=%j is refused: numbers are plain decimals', (variable, value, form) => {
    expect(configError({ [variable]: value })).toBe(
      `Invalid configuration: ${variable} must be ${form}${form === 'a decimal number' ? ' such as 2.5' : ''} (got ${JSON.stringify(value)})`,
    );
  });

  test('every numeric variable is held to plain decimals, not only the ones listed above', () => {
    const message = configError({
      EDMS_BACKUP_COMPRESSION: '0x9',
      EDMS_ESCALATION_DAYS: '7e0',
      TEMPORAL_DEV_UI_PORT: ' 8233',
      LOG_FORMAT: 'xml',
    });
    expect(message).toContain('EDMS_BACKUP_COMPRESSION must be a decimal integer (got "0x9")');
    expect(message).toContain('EDMS_ESCALATION_DAYS must be a decimal number such as 2.5 (got "7e0")');
    expect(message).toContain('TEMPORAL_DEV_UI_PORT must be a decimal integer (got " 8233")');
    expect(message).toContain('LOG_FORMAT must be equal to one of the allowed values');
  });

  test('plain decimals are read as written, and bounds still apply to them', () => {
    expect(
      loadConfig({
        EDMS_LATENESS_SLA_SECONDS: '5',
        PORT: '8080',
        EDMS_REVIEW_DUE_DAYS: '0.5',
        WORKER_METRICS_PORT: '0',
      }),
    ).toMatchObject({
      latenessSlaSeconds: 5,
      port: 8080,
      lifecycle: { reviewDueDays: 0.5 },
      workerMetricsPort: 0,
    });
    expect(loadConfig({ EDMS_LATENESS_SLA_SECONDS: '2.25' }).latenessSlaSeconds).toBe(2.25);
    expect(configError({ EDMS_LATENESS_SLA_SECONDS: '-5' })).toContain('EDMS_LATENESS_SLA_SECONDS must be > 0');
    expect(configError({ PORT: '-1' })).toContain('PORT must be >= 1');
  });

  test('worker and API refuse to start without DATABASE_URL, saying how to set it', () => {
    expect(() => requireDatabaseUrl(loadConfig({}))).toThrow(/DATABASE_URL is required/);
  });

  test('Temporal settings follow the SDK conventions, with the project namespace as default', () => {
    expect(loadTemporalSettings({})).toMatchObject({ address: 'localhost:7233', namespace: DEFAULT_NAMESPACE });
    const cloud = loadTemporalSettings({
      TEMPORAL_ADDRESS: 'edms.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'edms.a1b2c',
      TEMPORAL_API_KEY: 'key-123',
    });
    expect(cloud).toMatchObject({ address: 'edms.a1b2c.tmprl.cloud:7233', namespace: 'edms.a1b2c' });
    expect(cloud.connectionOptions).toMatchObject({ apiKey: 'key-123', tls: expect.anything() });
  });
});

describe('temporal-dev.yaml', () => {
  test('registers the namespace the services default to and every custom search attribute', () => {
    const file = readDevServerFile();
    expect(file.namespace).toBe(DEFAULT_NAMESPACE);
    expect(file.search_attributes).toEqual(CUSTOM_SEARCH_ATTRIBUTES);
  });

  test('a missing, malformed or invalid file is a configuration error naming it, in one line', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'edms-dev-yaml-'));
    try {
      const malformed = path.join(dir, 'malformed.yaml');
      writeFileSync(malformed, 'ip: [1,\n  port: 7\n');
      const invalid = path.join(dir, 'invalid.yaml');
      writeFileSync(invalid, 'ip: 127.0.0.1\n');
      for (const [file, expected] of [
        [path.join(dir, 'missing.yaml'), 'cannot be read: ENOENT'],
        [malformed, 'cannot be read: '],
        [invalid, 'is invalid: /port Expected required property'],
      ] as const) {
        let error: unknown;
        try {
          readDevServerFile(file);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toContain(`${file} ${expected}`);
        expect((error as Error).message).not.toContain('\n');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('tunes the dev server for punctual timers and SQLite throughput, persisted under the data dir', () => {
    const config = loadDevServerConfig({ dataDir: '/srv/edms-data', port: 17233, uiPort: 18233 });
    const args = devServerArgs(config);
    expect(args.join(' ')).toContain('--port 17233 --ui-port 18233 --namespace edms');
    expect(args).toContain('/srv/edms-data/temporal/temporal.sqlite');
    expect(args).toContain('journal_mode=wal');
    expect(args).toContain('history.timerProcessorMaxTimeShift="10ms"');
    expect(args).toContain('DocumentStatus=Keyword');
  });
});
