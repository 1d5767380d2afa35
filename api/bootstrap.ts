import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { count } from 'drizzle-orm';
import { recordAudit, schema, type Database } from '../db';
import type { AppConfig } from '../lib/config';
import type { Logger } from '../lib/logger';
import { hashPassword } from '../lib/passwords';

export const INITIAL_ADMIN_USERNAME = 'admin';

export const adminPasswordFile = (dataDir: string) => path.join(dataDir, 'admin-password');
const jwtSecretFile = (dataDir: string) => path.join(dataDir, 'jwt-secret');

async function readOrCreateSecretFile(file: string, create: () => string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true });
  try {
    // `wx` fails if another process created it in the meantime; then that one's value wins.
    await writeFile(file, `${create()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return (await readFile(file, 'utf8')).trim();
}

/**
 * The JWT signing secret: `EDMS_JWT_SECRET`, or one generated once and kept under the data dir so
 * tokens survive a restart. Several API replicas must share EDMS_JWT_SECRET.
 */
export function resolveJwtSecret(config: Pick<AppConfig, 'jwtSecret' | 'dataDir'>): Promise<string> {
  if (config.jwtSecret) return Promise.resolve(config.jwtSecret);
  return readOrCreateSecretFile(jwtSecretFile(config.dataDir), () => randomBytes(48).toString('base64url'));
}

/**
 * On the very first start there is nobody to log in as: create `admin` with EDMS_ADMIN_PASSWORD,
 * or with a generated password that is printed once and stored (mode 600) under the data dir.
 */
export async function ensureInitialAdmin(
  db: Database,
  config: Pick<AppConfig, 'adminPassword' | 'dataDir'>,
  logger: Logger,
): Promise<void> {
  const [existing] = await db.select({ n: count() }).from(schema.users);
  if ((existing?.n ?? 0) > 0) return;

  const generated = config.adminPassword === undefined;
  const password = config.adminPassword ?? randomBytes(18).toString('base64url');
  const inserted = await db
    .insert(schema.users)
    .values({
      username: INITIAL_ADMIN_USERNAME,
      email: 'admin@localhost',
      displayName: 'Initial administrator',
      role: 'admin',
      passwordHash: await hashPassword(password),
    })
    .onConflictDoNothing({ target: schema.users.username })
    .returning({ id: schema.users.id });
  const created = inserted[0];
  if (!created) return; // another process bootstrapped first

  await recordAudit(db, {
    action: 'USER_CREATED',
    actor: 'system',
    entityType: 'user',
    entityId: created.id,
    details: { username: INITIAL_ADMIN_USERNAME, role: 'admin', reason: 'initial admin on first start' },
  });
  if (generated) {
    const file = adminPasswordFile(config.dataDir);
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    logger.warn(
      { username: INITIAL_ADMIN_USERNAME, initial_password: password, stored_in: file },
      'created the initial admin user with a generated password (shown once; change it after logging in)',
    );
  } else {
    logger.info({ username: INITIAL_ADMIN_USERNAME }, 'created the initial admin user with EDMS_ADMIN_PASSWORD');
  }
}
