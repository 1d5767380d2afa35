import { eq, sql } from 'drizzle-orm';
import { schema } from '../db';
import { buildTestApi, uniqueName, type TestApi } from './helpers/api';

let api: TestApi;
let admin: { authorization: string; username: string };

beforeAll(async () => {
  api = await buildTestApi();
  admin = await api.as('admin');
});
afterAll(() => api.close());

const newUser = (overrides: Record<string, unknown> = {}) => {
  const username = uniqueName('user');
  return {
    username,
    password: 'correct horse battery',
    role: 'reviewer',
    email: `${username}@example.test`,
    ...overrides,
  };
};

const auditFor = (entityId: string) =>
  api.database.db
    .select()
    .from(schema.auditTrail)
    .where(eq(schema.auditTrail.entityId, entityId))
    .orderBy(schema.auditTrail.id);

describe('admins manage users', () => {
  test('creating a user answers 201 with the user, never the password, and stores an Argon2id hash', async () => {
    const body = newUser({ display_name: 'Rita Reviewer' });
    const response = await api.app.inject({ method: 'POST', url: '/api/v1/users', headers: admin, payload: body });
    expect(response.statusCode).toBe(201);
    const created = response.json();
    expect(created).toMatchObject({
      username: body.username,
      role: 'reviewer',
      email: body.email,
      display_name: 'Rita Reviewer',
      manager: null,
      active: true,
    });
    expect(JSON.stringify(created)).not.toContain('password');
    const [row] = await api.database.db.select().from(schema.users).where(eq(schema.users.username, body.username));
    expect(row?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row?.passwordHash).not.toContain(body.password);
    const audit = await auditFor(created.id);
    expect(audit.map((entry) => entry.action)).toEqual(['USER_CREATED']);
    expect(audit[0]).toMatchObject({
      actor: admin.username,
      details: expect.objectContaining({ username: body.username }),
    });
    expect(JSON.stringify(audit)).not.toContain(body.password);
  });

  test('the new user can log in with the password the admin set', async () => {
    const body = newUser({ role: 'approver' });
    await api.app.inject({ method: 'POST', url: '/api/v1/users', headers: admin, payload: body });
    const { authorization } = await api.login(body.username, body.password);
    const me = await api.app.inject({ url: '/api/v1/users/me', headers: { authorization } });
    expect(me.json()).toMatchObject({ username: body.username, role: 'approver' });
  });

  test('a duplicate username is a 409 and changes nothing', async () => {
    const body = newUser();
    expect(
      (await api.app.inject({ method: 'POST', url: '/api/v1/users', headers: admin, payload: body })).statusCode,
    ).toBe(201);
    const again = await api.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin,
      payload: { ...body, role: 'admin' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({
      error: { code: 'username_taken', message: `Username '${body.username}' already exists` },
    });
    const [row] = await api.database.db.select().from(schema.users).where(eq(schema.users.username, body.username));
    expect(row?.role).toBe('reviewer');
  });

  test('bad input is a 400 listing every problem by field, and creates nothing', async () => {
    const username = uniqueName('bad');
    const response = await api.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin,
      payload: { username, password: 'short', role: 'superuser', email: 'not-an-email', nickname: 'x' },
    });
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'email',
      'nickname',
      'password',
      'role',
    ]);
    const rows = await api.database.db.select().from(schema.users).where(eq(schema.users.username, username));
    expect(rows).toHaveLength(0);
  });

  test('a manager must be an existing active user', async () => {
    const response = await api.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin,
      payload: newUser({ manager: uniqueName('nobody') }),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_manager');
  });

  test('PATCH changes role, manager and active, audits each change with before and after', async () => {
    const manager = await api.createUser('approver');
    const { username } = await api.createUser('author');
    const response = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${username}`,
      headers: admin,
      payload: { role: 'reviewer', manager: manager.username },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ username, role: 'reviewer', manager: manager.username, active: true });

    const deactivated = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${username}`,
      headers: admin,
      payload: { active: false, manager: null },
    });
    expect(deactivated.json()).toMatchObject({ active: false, manager: null });

    const audit = await auditFor(response.json().id);
    expect(audit.map((entry) => entry.action)).toEqual(['USER_CREATED', 'USER_UPDATED', 'USER_DEACTIVATED']);
    expect(audit[1]?.details).toEqual({
      username,
      changes: { role: { from: 'author', to: 'reviewer' }, manager: { from: null, to: manager.username } },
    });
  });

  test('PATCH of an unknown user is a 404; an empty PATCH is a 400', async () => {
    const missing = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${uniqueName('ghost')}`,
      headers: admin,
      payload: { role: 'viewer' },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
    const empty = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${admin.username}`,
      headers: admin,
      payload: {},
    });
    expect(empty.statusCode).toBe(400);
  });

  test('the last active admin can be neither demoted nor deactivated', async () => {
    // Make every other admin inactive inside this test's view: demote all admins but one.
    const lone = await api.as('admin');
    await api.database.db.execute(
      sql`update users set role = 'viewer' where role = 'admin' and username <> ${lone.username}`,
    );
    const demote = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${lone.username}`,
      headers: lone,
      payload: { role: 'author' },
    });
    expect(demote.statusCode).toBe(409);
    expect(demote.json().error.code).toBe('last_admin');
    const deactivate = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${lone.username}`,
      headers: lone,
      payload: { active: false },
    });
    expect(deactivate.statusCode).toBe(409);
    const [row] = await api.database.db.select().from(schema.users).where(eq(schema.users.username, lone.username));
    expect(row).toMatchObject({ role: 'admin', active: true });
    // Give the suite its admin back.
    await api.database.db.execute(sql`update users set role = 'admin' where username = ${admin.username}`);
  });

  test('GET /users lists users; GET /users/me works for every role', async () => {
    const list = await api.app.inject({ url: '/api/v1/users', headers: admin });
    expect(list.statusCode).toBe(200);
    expect(list.json().users.map((u: { username: string }) => u.username)).toContain(admin.username);
    for (const role of ['admin', 'author', 'reviewer', 'approver', 'viewer'] as const) {
      const user = await api.as(role);
      const me = await api.app.inject({ url: '/api/v1/users/me', headers: { authorization: user.authorization } });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ username: user.username, role });
    }
  });
});

describe('admins sign a user out everywhere', () => {
  const revoke = (username: string, headers: Record<string, string>) =>
    api.app.inject({ method: 'POST', url: `/api/v1/users/${username}/revoke-sessions`, headers });
  const meStatus = async (authorization: string) =>
    (await api.app.inject({ url: '/api/v1/users/me', headers: { authorization } })).statusCode;

  test('revoke-sessions answers 204, ends every token the user holds, is audited, and a new login works', async () => {
    const { username, password } = await api.createUser('approver');
    const first = await api.login(username, password);
    const second = await api.login(username, password);
    const response = await revoke(username, admin);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(await meStatus(first.authorization)).toBe(401);
    expect(await meStatus(second.authorization)).toBe(401);
    const fresh = await api.login(username, password);
    expect(await meStatus(fresh.authorization)).toBe(200);
    const [row] = await api.database.db.select().from(schema.users).where(eq(schema.users.username, username));
    expect(row?.sessionGeneration).toBe(1);
    const audit = await auditFor(row?.id ?? '');
    expect(audit.map((entry) => entry.action)).toEqual([
      'USER_CREATED',
      'USER_LOGIN',
      'USER_LOGIN',
      'USER_SESSIONS_REVOKED',
      'USER_LOGIN',
    ]);
    expect(audit[3]).toMatchObject({ actor: admin.username, entityType: 'user', details: { username } });
  });

  test('only admins may revoke sessions: 403 for every other role, and the tokens keep working', async () => {
    const { username, password } = await api.createUser('author');
    const target = await api.login(username, password);
    for (const role of ['author', 'reviewer', 'approver', 'viewer'] as const) {
      const caller = await api.as(role);
      const response = await revoke(username, { authorization: caller.authorization });
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('forbidden');
    }
    expect(await meStatus(target.authorization)).toBe(200);
    const [row] = await api.database.db.select().from(schema.users).where(eq(schema.users.username, username));
    expect(row?.sessionGeneration).toBe(0);
    expect((await auditFor(row?.id ?? '')).map((entry) => entry.action)).not.toContain('USER_SESSIONS_REVOKED');
  });

  test('revoking the sessions of an unknown user is a 404 and audits nothing', async () => {
    const ghost = uniqueName('ghost');
    const response = await revoke(ghost, admin);
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: 'not_found', message: `User '${ghost}' not found` } });
    const audited = await api.database.db
      .select()
      .from(schema.auditTrail)
      .where(eq(schema.auditTrail.action, 'USER_SESSIONS_REVOKED'));
    expect(audited.map((entry) => entry.details)).not.toContainEqual({ username: ghost });
  });

  test('an admin revoking their own sessions ends the very token they used', async () => {
    const self = await api.as('admin');
    expect((await revoke(self.username, { authorization: self.authorization })).statusCode).toBe(204);
    expect(await meStatus(self.authorization)).toBe(401);
  });
});

describe('the audit trail', () => {
  test('is append-only: updates, deletes and truncation are refused by the database', async () => {
    for (const statement of [
      sql`update audit_trail set actor = 'someone-else'`,
      sql`delete from audit_trail`,
      sql`truncate audit_trail`,
    ]) {
      const failure = await api.database.db.execute(statement).then(
        () => undefined,
        (error: { cause?: { message?: string; code?: string } }) => error.cause,
      );
      expect(failure).toMatchObject({ code: '42501', message: expect.stringMatching(/audit_trail is append-only/) });
    }
    const [{ count } = { count: 0 }] = await api.database.sql<
      { count: number }[]
    >`select count(*)::int as count from audit_trail`;
    expect(count).toBeGreaterThan(0);
  });
});

describe('errors share one body', () => {
  test('an unknown route is a 404 in the common error shape', async () => {
    const response = await api.app.inject({ url: '/api/v1/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: { code: 'not_found', message: 'Route GET /api/v1/nothing-here not found' },
    });
  });

  test('malformed JSON is a 400 in the common error shape', async () => {
    const response = await api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'bad_request', message: expect.any(String) });
  });

  test('/docs serves the UI and /docs/json documents every route with its schemas', async () => {
    expect((await api.app.inject({ url: '/docs/' })).statusCode).toBe(200);
    const docs = (await api.app.inject({ url: '/docs/json' })).json();
    expect(docs.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining([
        '/health',
        '/api/v1/auth/login',
        '/api/v1/auth/logout',
        '/api/v1/users',
        '/api/v1/users/me',
        '/api/v1/users/{username}',
        '/api/v1/users/{username}/revoke-sessions',
        '/api/v1/documents',
        '/api/v1/documents/{id}',
        '/api/v1/documents/{id}/history',
        '/api/v1/documents/{id}/submit',
        '/api/v1/documents/{id}/review',
        '/api/v1/documents/{id}/approve',
        '/api/v1/documents/{id}/reject',
        '/api/v1/documents/{id}/effective-date',
        '/api/v1/documents/{id}/obsolete',
        '/api/v1/documents/{id}/cancel-obsolescence',
        '/api/v1/documents/{id}/reassign',
        '/api/v1/documents/{id}/versions',
      ]),
    );
    for (const [path, operations] of Object.entries<Record<string, { responses: object }>>(docs.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect({ route: `${method} ${path}`, documented: Object.keys(operation.responses).length > 0 }).toEqual({
          route: `${method} ${path}`,
          documented: true,
        });
      }
    }
    expect(docs.paths['/api/v1/users'].post.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['username', 'password', 'role', 'email']),
    );
    expect(docs.paths['/api/v1/users'].post.responses).toHaveProperty('409');
    expect(Object.keys(docs.paths['/api/v1/users/{username}/revoke-sessions'].post.responses).sort()).toEqual([
      '204',
      '400',
      '401',
      '403',
      '404',
      '414',
      '429',
      '500',
      '503',
    ]);
    expect(Object.keys(docs.paths['/api/v1/auth/logout'].post.responses).sort()).toEqual([
      '204',
      '400',
      '401',
      '403',
      '429',
      '500',
      '503',
    ]);
  });
});
