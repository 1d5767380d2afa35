import { and, eq, sql, type SQL } from 'drizzle-orm';
import { recordAudit, schema, type Database, type UserRow } from '../../db';
import { decoyPasswordHash, verifyPassword } from '../../lib/passwords';
import { notFound } from '../errors';
import { userChanged } from './user-changes';
import type { Actor } from './users';

const { users } = schema;

/**
 * Moves the session generation of the user `which` matches one on, so every token issued to them so
 * far stops working; the user's id, or undefined when `which` matched nobody.
 */
async function endSessions(tx: Pick<Database, 'update'>, which: SQL): Promise<string | undefined> {
  const [ended] = await tx
    .update(users)
    .set({ sessionGeneration: sql`${users.sessionGeneration} + 1` })
    .where(which)
    .returning({ id: users.id });
  return ended?.id;
}

/**
 * An admin's "sign out everywhere": every token the user holds stops working at once, whoever
 * holds it; the user can log in again. Audited as `USER_SESSIONS_REVOKED`.
 * @throws ApiError 404 for an unknown username
 */
export async function revokeSessions(db: Database, username: string, actor: Actor): Promise<void> {
  const revoked = await db.transaction(async (tx) => {
    const id = await endSessions(tx, eq(users.username, username));
    if (!id) throw notFound(`User '${username}' not found`);
    await recordAudit(tx, {
      action: 'USER_SESSIONS_REVOKED',
      actor: actor.username,
      entityType: 'user',
      entityId: id,
      requestId: actor.requestId,
      details: { username },
    });
    return id;
  });
  userChanged(revoked);
}

/**
 * The user's own logout: ends the presented token and every other one issued to the user before it
 * (a bearer token cannot be recalled one by one). Conditional on the generation the token carried,
 * so a repeated logout with the same token, or one racing a revocation, ends nothing twice and is
 * audited (`USER_LOGOUT`) once.
 */
export async function logout(db: Database, user: UserRow, requestId?: string): Promise<void> {
  await db.transaction(async (tx) => {
    const ended = await endSessions(
      tx,
      and(eq(users.id, user.id), eq(users.sessionGeneration, user.sessionGeneration))!,
    );
    if (!ended) return;
    await recordAudit(tx, {
      action: 'USER_LOGOUT',
      actor: user.username,
      entityType: 'user',
      entityId: user.id,
      requestId,
    });
  });
  userChanged(user.id);
}

export type LoginResult = { ok: true; user: UserRow } | { ok: false };

/**
 * Checks a username and password. Unknown users, inactive users and wrong passwords all fail the
 * same way and take the same time, so a caller cannot learn which accounts exist.
 */
export async function authenticate(
  db: Database,
  username: string,
  password: string,
  requestId?: string,
): Promise<LoginResult> {
  const [user] = await db.select().from(users).where(eq(users.username, username));
  const matches = await verifyPassword(user?.passwordHash ?? (await decoyPasswordHash()), password);
  if (!user || !user.active || !matches) {
    await recordAudit(db, {
      action: 'LOGIN_FAILED',
      actor: username,
      entityType: 'user',
      entityId: user?.id ?? null,
      requestId,
      details: { reason: !user ? 'unknown_user' : !user.active ? 'inactive' : 'wrong_password' },
    });
    return { ok: false };
  }
  await db.update(users).set({ lastLoginAt: new Date() }).where(eq(users.id, user.id));
  await recordAudit(db, {
    action: 'USER_LOGIN',
    actor: user.username,
    entityType: 'user',
    entityId: user.id,
    requestId,
  });
  return { ok: true, user };
}
