import { and, asc, eq, ne, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { UserRole } from '../../common';
import { pgErrorCode, recordAudit, schema, UNIQUE_VIOLATION, type Database, type UserRow } from '../../db';
import { hashPassword } from '../../lib/passwords';
import { badRequest, conflict, notFound } from '../errors';
import { userChanged } from './user-changes';

const { users } = schema;

/** What the API shows of a user: never the password hash. */
export interface PublicUser {
  id: string;
  username: string;
  email: string;
  display_name: string | null;
  role: UserRole;
  manager: string | null;
  active: boolean;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

/** Who is acting, for the audit trail. */
export interface Actor {
  username: string;
  requestId?: string;
}

export interface NewUser {
  username: string;
  password: string;
  role: UserRole;
  email: string;
  display_name?: string;
  manager?: string;
}

export interface UserChanges {
  role?: UserRole;
  manager?: string | null;
  active?: boolean;
  email?: string;
  display_name?: string | null;
  password?: string;
}

const managers = alias(users, 'managers');

const publicColumns = {
  id: users.id,
  username: users.username,
  email: users.email,
  display_name: users.displayName,
  role: users.role,
  manager: managers.username,
  active: users.active,
  created_at: users.createdAt,
  updated_at: users.updatedAt,
  last_login_at: users.lastLoginAt,
};

type PublicRow = Omit<PublicUser, 'created_at' | 'updated_at' | 'last_login_at'> & {
  created_at: Date;
  updated_at: Date;
  last_login_at: Date | null;
};

function toPublic(row: PublicRow): PublicUser {
  return {
    ...row,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    last_login_at: row.last_login_at?.toISOString() ?? null,
  };
}

function selectPublicUsers(db: Database) {
  return db.select(publicColumns).from(users).leftJoin(managers, eq(users.managerId, managers.id));
}

export async function listUsers(db: Database): Promise<PublicUser[]> {
  const rows = await selectPublicUsers(db).orderBy(asc(users.username));
  return rows.map(toPublic);
}

export async function getUser(db: Database, username: string): Promise<PublicUser> {
  const [row] = await selectPublicUsers(db).where(eq(users.username, username));
  if (!row) throw notFound(`User '${username}' not found`);
  return toPublic(row);
}

const userByIdStatements = new WeakMap<Database, ReturnType<typeof prepareUserById>>();

function prepareUserById(db: Database) {
  return db
    .select()
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare('user_by_id');
}

/** The user with this id, or undefined; a statement built once per database handle (every request reads it). */
export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  let statement = userByIdStatements.get(db);
  if (!statement) {
    statement = prepareUserById(db);
    userByIdStatements.set(db, statement);
  }
  const [row] = await statement.execute({ id });
  return row;
}

async function resolveManagerId(db: Database, manager: string, subject: string): Promise<string> {
  if (manager === subject) throw badRequest('invalid_manager', 'A user cannot be their own manager');
  const [row] = await db.select({ id: users.id, active: users.active }).from(users).where(eq(users.username, manager));
  if (!row || !row.active) throw badRequest('invalid_manager', `Manager '${manager}' is not an active user`);
  return row.id;
}

export async function createUser(db: Database, input: NewUser, actor: Actor): Promise<PublicUser> {
  const managerId = input.manager ? await resolveManagerId(db, input.manager, input.username) : null;
  const passwordHash = await hashPassword(input.password);
  try {
    await db.transaction(async (tx) => {
      const [created] = await tx
        .insert(users)
        .values({
          username: input.username,
          email: input.email,
          displayName: input.display_name ?? null,
          role: input.role,
          managerId,
          passwordHash,
        })
        .returning({ id: users.id });
      await recordAudit(tx, {
        action: 'USER_CREATED',
        actor: actor.username,
        entityType: 'user',
        entityId: created?.id,
        requestId: actor.requestId,
        details: { username: input.username, role: input.role, email: input.email, manager: input.manager ?? null },
      });
    });
  } catch (error) {
    if (pgErrorCode(error) === UNIQUE_VIOLATION)
      throw conflict('username_taken', `Username '${input.username}' already exists`);
    throw error;
  }
  return getUser(db, input.username);
}

/**
 * Applies an admin's changes to a user. The last active admin can be neither demoted nor
 * deactivated: nobody could manage users any more.
 */
export async function updateUser(
  db: Database,
  username: string,
  changes: UserChanges,
  actor: Actor,
): Promise<PublicUser> {
  const before = await getUser(db, username);
  const managerId =
    changes.manager === undefined
      ? undefined
      : changes.manager === null
        ? null
        : await resolveManagerId(db, changes.manager, username);
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);

  // A new password or a deactivation ends every token issued before it (reactivation revives none).
  const endsSessions = passwordHash !== undefined || changes.active === false;

  await db.transaction(async (tx) => {
    // Serialise admin changes so that two concurrent demotions cannot both pass the last-admin check.
    await tx.execute(sql`select pg_advisory_xact_lock(7233002)`);
    const losesAdmin =
      before.role === 'admin' &&
      before.active &&
      ((changes.role !== undefined && changes.role !== 'admin') || changes.active === false);
    if (losesAdmin) {
      const [other] = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.role, 'admin'), eq(users.active, true), ne(users.username, username)))
        .limit(1);
      if (!other) throw conflict('last_admin', 'The last active admin cannot be demoted or deactivated');
    }
    await tx
      .update(users)
      .set({
        role: changes.role,
        managerId,
        active: changes.active,
        email: changes.email,
        displayName: changes.display_name,
        passwordHash,
        sessionGeneration: endsSessions ? sql`${users.sessionGeneration} + 1` : undefined,
        updatedAt: new Date(),
      })
      .where(eq(users.username, username));
    const fieldChanges: Record<string, { from: unknown; to: unknown }> = {};
    for (const field of ['role', 'manager', 'active', 'email', 'display_name'] as const) {
      if (changes[field] !== undefined && changes[field] !== before[field]) {
        fieldChanges[field] = { from: before[field], to: changes[field] };
      }
    }
    if (passwordHash) fieldChanges.password = { from: '[redacted]', to: '[redacted]' };
    await recordAudit(tx, {
      action: changes.active === false && before.active ? 'USER_DEACTIVATED' : 'USER_UPDATED',
      actor: actor.username,
      entityType: 'user',
      entityId: before.id,
      requestId: actor.requestId,
      details: endsSessions
        ? { username, changes: fieldChanges, sessions_ended: true }
        : { username, changes: fieldChanges },
    });
  });
  userChanged(before.id);
  return getUser(db, username);
}
