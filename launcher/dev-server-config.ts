import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse } from 'yaml';
import { ConfigError } from '../lib/config-error';
import { DEV_SERVER_CONFIG_PATH } from '../lib/paths';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });

const DevServerFile = Type.Object({
  ip: Type.String({ minLength: 1 }),
  port: Port,
  ui_port: Port,
  namespace: Type.String({ minLength: 1 }),
  db_filename: Type.String({ minLength: 1 }),
  log_level: Type.Union(['debug', 'info', 'warn', 'error', 'never'].map((level) => Type.Literal(level))),
  sqlite_pragmas: Type.Record(Type.String({ pattern: '^[a-z_]+$' }), Type.String()),
  search_attributes: Type.Record(
    Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]*$' }),
    Type.Union(['Text', 'Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'].map((t) => Type.Literal(t))),
  ),
  dynamic_config: Type.Record(Type.String(), Type.String()),
});

export type DevServerFile = Static<typeof DevServerFile>;

export interface DevServerConfig {
  ip: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** Absolute path of the SQLite file. */
  dbFilename: string;
  logLevel: DevServerFile['log_level'];
  sqlitePragmas: Record<string, string>;
  searchAttributes: Record<string, string>;
  dynamicConfig: Record<string, string>;
}

export interface DevServerOverrides {
  dataDir: string;
  port?: number;
  uiPort?: number;
}

/** The file's settings; a missing, unreadable or invalid file is a ConfigError naming it. */
export function readDevServerFile(file = DEV_SERVER_CONFIG_PATH): DevServerFile {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    // The YAML parser's message spans several lines (it quotes the offending one): its first says what.
    throw new ConfigError(`${file} cannot be read: ${(error as Error).message.split('\n')[0]!.replace(/:$/, '')}`);
  }
  if (!Value.Check(DevServerFile, raw)) {
    const problems = [...Value.Errors(DevServerFile, raw)].map((e) => `${e.path || '/'} ${e.message}`);
    throw new ConfigError(`${file} is invalid: ${problems.join('; ')}`);
  }
  return raw;
}

export function loadDevServerConfig(overrides: DevServerOverrides, file = DEV_SERVER_CONFIG_PATH): DevServerConfig {
  const parsed = readDevServerFile(file);
  return {
    ip: parsed.ip,
    port: overrides.port ?? parsed.port,
    uiPort: overrides.uiPort ?? parsed.ui_port,
    namespace: parsed.namespace,
    dbFilename: path.resolve(overrides.dataDir, parsed.db_filename),
    logLevel: parsed.log_level,
    sqlitePragmas: parsed.sqlite_pragmas,
    searchAttributes: parsed.search_attributes,
    dynamicConfig: parsed.dynamic_config,
  };
}

/**
 * Flags shared by the launcher and the test setup: search attributes and tuning (everything but
 * address, namespace, UI and storage, which each sets for itself).
 */
export function devServerSharedArgs(config: DevServerConfig): string[] {
  return [
    ...Object.entries(config.searchAttributes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    '--log-level',
    config.logLevel,
    ...Object.entries(config.sqlitePragmas).flatMap(([pragma, value]) => ['--sqlite-pragma', `${pragma}=${value}`]),
    ...Object.entries(config.dynamicConfig).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]),
  ];
}

/** The full `temporal` argument list for the launcher's long-running dev server. */
export function devServerArgs(config: DevServerConfig): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    config.ip,
    '--port',
    String(config.port),
    '--ui-port',
    String(config.uiPort),
    '--namespace',
    config.namespace,
    '--db-filename',
    config.dbFilename,
    '--ui-disable-news-fetch',
    ...devServerSharedArgs(config),
  ];
}
