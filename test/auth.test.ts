import { createDecoder, createSigner } from 'fast-jwt';
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { schema } from '../db';
import { buildTestApi, TEST_JWT_SECRET, uniqueName, type TestApi } from './helpers/api';

let api: TestApi;

beforeAll(async () => {
  api = await buildTestApi();
});
afterAll(() => api.close());

const login = (username: string, password: string) =>
  api.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });

/** The status and error message `GET /users/me` answers to a bearer header. */
const whoAmI = async (authorization: string) => {
  const response = await api.app.inject({ url: '/api/v1/users/me', headers: { authorization } });
  return { status: response.statusCode, message: response.statusCode === 200 ? null : response.json().error.message };
};
const LIVE = { status: 200, message: null };
const ENDED = {
  status: 401,
  message: 'This session has ended (sign-out, password change or deactivation); log in again',
};

const userRow = async (username: string) => {
  const [row] = await api.database.db.select().from(schema.users).where(eq(schema.users.username, username));
  if (!row) throw new Error(`no user ${username}`);
  return row;
};

const auditActions = async (entityId: string) =>
  (
    await api.database.db
      .select()
      .from(schema.auditTrail)
      .where(eq(schema.auditTrail.entityId, entityId))
      .orderBy(schema.auditTrail.id)
  ).map((entry) => ({ action: entry.action, actor: entry.actor, details: entry.details }));

describe('login', () => {
  test('valid credentials return a bearer token with its lifetime', async () => {
    const { username, password } = await api.createUser('author');
    const response = await login(username, password);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 600 });
    const me = await api.app.inject({
      url: '/api/v1/users/me',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(me.json()).toMatchObject({ username, role: 'author' });
  });

  test('a wrong password and an unknown user get the same 401, so nobody learns which accounts exist', async () => {
    const { username } = await api.createUser('viewer');
    const wrongPassword = await login(username, 'not-the-password');
    const unknownUser = await login(uniqueName('ghost'), 'not-the-password');
    expect(wrongPassword.statusCode).toBe(401);
    expect(unknownUser.statusCode).toBe(401);
    expect(wrongPassword.json()).toEqual(unknownUser.json());
    expect(wrongPassword.json()).toEqual({ error: { code: 'unauthorized', message: 'Invalid username or password' } });
  });

  test('failed logins are audited with the reason, which only the audit trail knows', async () => {
    const { username } = await api.createUser('viewer');
    await login(username, 'nope-nope-nope');
    const rows = await api.database.db
      .select()
      .from(schema.auditTrail)
      .where(and(eq(schema.auditTrail.action, 'LOGIN_FAILED'), eq(schema.auditTrail.actor, username)));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.details).toEqual({ reason: 'wrong_password' });
  });

  test('a deactivated user cannot log in, with the same answer as a wrong password', async () => {
    const admin = await api.as('admin');
    const { username, password } = await api.createUser('author');
    const patched = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${username}`,
      headers: admin,
      payload: { active: false },
    });
    expect(patched.statusCode).toBe(200);
    const response = await login(username, password);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toBe('Invalid username or password');
  });

  test('password guessing is slowed: past the limit per address and username, 429 with Retry-After', async () => {
    const limited = await buildTestApi({ loginAttemptsPerMinute: 3 });
    try {
      const { username, password } = await limited.createUser('viewer');
      const attempt = (name: string, pw: string) =>
        limited.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: name, password: pw } });
      for (let i = 0; i < 3; i++) expect((await attempt(username, 'guess-guess-guess')).statusCode).toBe(401);
      const blocked = await attempt(username, password);
      expect(blocked.statusCode).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(55);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(blocked.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/retry in/) } });
      // Another account from the same address is not locked out by someone guessing this one.
      const other = await limited.createUser('viewer');
      expect((await attempt(other.username, other.password)).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  test('a malformed login body is a 400 naming the field', async () => {
    const response = await api.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'x' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: 'validation_failed',
      details: [{ in: 'body', field: 'password', message: expect.any(String) }],
    });
  });
});

describe('bearer tokens on /api/v1', () => {
  test('no token: 401', async () => {
    const response = await api.app.inject({ url: '/api/v1/users/me' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('unauthorized');
  });

  test('a token signed with another secret: 401', async () => {
    const forged = createSigner({ key: 'another-secret-another-secret-another-secret' })({
      sub: 'x',
      username: 'admin',
      role: 'admin',
    });
    const response = await api.app.inject({ url: '/api/v1/users', headers: { authorization: `Bearer ${forged}` } });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toBe('The access token is invalid');
  });

  test('an expired token: 401 saying so', async () => {
    const { username } = await api.createUser('admin');
    const [user] = await api.database.db.select().from(schema.users).where(eq(schema.users.username, username));
    const expired = createSigner({ key: TEST_JWT_SECRET, expiresIn: 1000, clockTimestamp: Date.now() - 60_000 })({
      sub: user?.id,
      username,
      role: 'admin',
    });
    const response = await api.app.inject({ url: '/api/v1/users', headers: { authorization: `Bearer ${expired}` } });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.message).toBe('The access token has expired; log in again');
  });

  test('a role that may not act: 403', async () => {
    for (const role of ['author', 'reviewer', 'approver', 'viewer'] as const) {
      const user = await api.as(role);
      const response = await api.app.inject({ url: '/api/v1/users', headers: { authorization: user.authorization } });
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('forbidden');
    }
  });

  test('deactivating a user revokes the tokens it already holds', async () => {
    const admin = await api.as('admin');
    const author = await api.as('author');
    expect((await api.app.inject({ url: '/api/v1/users/me', headers: author })).statusCode).toBe(200);
    await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${author.username}`,
      headers: admin,
      payload: { active: false },
    });
    const response = await api.app.inject({
      url: '/api/v1/users/me',
      headers: { authorization: author.authorization },
    });
    expect(response.statusCode).toBe(401);
  });

  test('a demotion takes effect on the next request, not when the token expires', async () => {
    const admin = await api.as('admin');
    const other = await api.as('admin');
    expect(
      (await api.app.inject({ url: '/api/v1/users', headers: { authorization: other.authorization } })).statusCode,
    ).toBe(200);
    await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${other.username}`,
      headers: admin,
      payload: { role: 'viewer' },
    });
    const response = await api.app.inject({ url: '/api/v1/users', headers: { authorization: other.authorization } });
    expect(response.statusCode).toBe(403);
  });

  test('every /api/v1 route but login answers 401 without a token, and is documented as secured', async () => {
    const docs = (await api.app.inject({ url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    }>();
    const routes = Object.entries(docs.paths)
      .filter(([path]) => path.startsWith('/api/v1') && path !== '/api/v1/auth/login')
      .flatMap(([path, operations]) =>
        Object.entries(operations).map(([method, operation]) => ({ path, method, operation })),
      );
    expect(routes.length).toBeGreaterThanOrEqual(5);
    for (const { path, method, operation } of routes) {
      const url = path.replace(/\{[^}]+\}/g, 'someone');
      const response = await api.app.inject({
        method: method.toUpperCase() as 'GET',
        url,
        payload: method === 'get' ? undefined : {},
      });
      expect({
        route: `${method} ${path}`,
        status: response.statusCode,
        secured: Boolean(operation.security?.length),
      }).toEqual({
        route: `${method} ${path}`,
        status: 401,
        secured: true,
      });
    }
  });
});

describe('the login limit is shared by every API replica', () => {
  test('two API instances on one database count the same attempts: the fourth is refused by either', async () => {
    const [first, second] = await Promise.all([
      buildTestApi({ loginAttemptsPerMinute: 3 }),
      buildTestApi({ loginAttemptsPerMinute: 3 }),
    ]);
    try {
      const { username, password } = await first.createUser('viewer');
      const attempt = (replica: TestApi, pw: string) =>
        replica.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: pw } });
      expect((await attempt(first, 'guess-one-guess')).statusCode).toBe(401);
      expect((await attempt(second, 'guess-two-guess')).statusCode).toBe(401);
      expect((await attempt(first, 'guess-three-guess')).statusCode).toBe(401);
      // Each replica alone has seen at most two attempts; together they have seen three.
      for (const replica of [second, first]) {
        const blocked = await attempt(replica, password);
        expect(blocked.statusCode).toBe(429);
        expect(blocked.json()).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
      }
      const [counter] = await api.database.db
        .select()
        .from(schema.rateLimitCounters)
        .where(eq(schema.rateLimitCounters.key, `POST /api/v1/auth/login|127.0.0.1|${username}`));
      expect(counter?.hits).toBe(5);
      // The limit keys by address and username: another user behind the same address logs in.
      const other = await second.createUser('viewer');
      const otherLogin = await first.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: other.username, password: other.password },
      });
      expect(otherLogin.statusCode).toBe(200);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  test('simultaneous attempts on two replicas are each counted once: exactly the limit gets through', async () => {
    const [first, second] = await Promise.all([
      buildTestApi({ loginAttemptsPerMinute: 10 }),
      buildTestApi({ loginAttemptsPerMinute: 10 }),
    ]);
    try {
      const { username } = await first.createUser('viewer');
      const attempts = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          (i % 2 ? first : second).app.inject({
            method: 'POST',
            url: '/api/v1/auth/login',
            payload: { username, password: `guess-number-${i}` },
          }),
        ),
      );
      const statuses = attempts.map((response) => response.statusCode).sort();
      expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(14).fill(429)]);
      const [counter] = await api.database.db
        .select({ hits: schema.rateLimitCounters.hits })
        .from(schema.rateLimitCounters)
        .where(eq(schema.rateLimitCounters.key, `POST /api/v1/auth/login|127.0.0.1|${username}`));
      expect(counter?.hits).toBe(24);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  test('when the window ends the count starts again, and counters of ended windows are pruned', async () => {
    const limited = await buildTestApi({ loginAttemptsPerMinute: 1 });
    try {
      const { username, password } = await limited.createUser('viewer');
      const key = `POST /api/v1/auth/login|127.0.0.1|${username}`;
      const stale = `POST /api/v1/auth/login|192.0.2.1|${uniqueName('gone')}`;
      await api.database.db
        .insert(schema.rateLimitCounters)
        .values({ key: stale, hits: 7, windowEndsAt: new Date(Date.now() - 3_600_000) });
      const attempt = () =>
        limited.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
      expect((await attempt()).statusCode).toBe(200);
      expect((await attempt()).statusCode).toBe(429);
      // Move the window into the past, as a minute of waiting would.
      await api.database.db.execute(
        sql`update rate_limit_counters set window_ends_at = now() - interval '1 second' where key = ${key}`,
      );
      expect((await attempt()).statusCode).toBe(200);
      const counters = await api.database.db
        .select({ key: schema.rateLimitCounters.key, hits: schema.rateLimitCounters.hits })
        .from(schema.rateLimitCounters)
        .where(sql`${schema.rateLimitCounters.key} in (${key}, ${stale})`);
      // This instance's first limited request pruned the stale counter.
      expect(counters).toEqual([{ key, hits: 1 }]);
    } finally {
      await limited.close();
    }
  });
});

describe('a token dies with the credentials it was issued for', () => {
  test('a password change ends the tokens issued before it; the new password logs in', async () => {
    const admin = await api.as('admin');
    const { username, password } = await api.createUser('author');
    const t1 = await api.login(username, password);
    expect(await whoAmI(t1.authorization)).toEqual(LIVE);
    const changed = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${username}`,
      headers: admin,
      payload: { password: 'a brand new password' },
    });
    expect(changed.statusCode).toBe(200);
    expect(await whoAmI(t1.authorization)).toEqual(ENDED);
    expect((await login(username, password)).statusCode).toBe(401);
    const t2 = await api.login(username, 'a brand new password');
    expect(await whoAmI(t2.authorization)).toEqual(LIVE);
    expect(await whoAmI(t1.authorization)).toEqual(ENDED);
    const row = await userRow(username);
    expect((await auditActions(row.id)).find((entry) => entry.action === 'USER_UPDATED')).toEqual({
      action: 'USER_UPDATED',
      actor: admin.username,
      details: {
        username,
        changes: { password: { from: '[redacted]', to: '[redacted]' } },
        sessions_ended: true,
      },
    });
  });

  test('a deactivation ends the tokens, and a reactivation does not revive them', async () => {
    const admin = await api.as('admin');
    const { username, password } = await api.createUser('reviewer');
    const t1 = await api.login(username, password);
    const t2 = await api.login(username, password);
    const patch = (active: boolean) =>
      api.app.inject({ method: 'PATCH', url: `/api/v1/users/${username}`, headers: admin, payload: { active } });
    expect((await patch(false)).statusCode).toBe(200);
    expect((await whoAmI(t2.authorization)).status).toBe(401);
    expect((await patch(true)).statusCode).toBe(200);
    expect(await whoAmI(t2.authorization)).toEqual(ENDED);
    expect(await whoAmI(t1.authorization)).toEqual(ENDED);
    // Reactivated, the user simply logs in again.
    const t3 = await api.login(username, password);
    expect(await whoAmI(t3.authorization)).toEqual(LIVE);
  });

  test("logout answers 204 and ends the caller's tokens, every one of them, audited once", async () => {
    const { username, password } = await api.createUser('viewer');
    const laptop = await api.login(username, password);
    const phone = await api.login(username, password);
    const logout = (authorization: string) =>
      api.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization } });
    const response = await logout(laptop.authorization);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(await whoAmI(laptop.authorization)).toEqual(ENDED);
    expect(await whoAmI(phone.authorization)).toEqual(ENDED);
    // The ended token cannot log out again: nothing is ended or audited twice.
    expect((await logout(laptop.authorization)).statusCode).toBe(401);
    const again = await api.login(username, password);
    expect(await whoAmI(again.authorization)).toEqual(LIVE);
    const row = await userRow(username);
    expect((await auditActions(row.id)).filter((entry) => entry.action === 'USER_LOGOUT')).toEqual([
      { action: 'USER_LOGOUT', actor: username, details: {} },
    ]);
    expect(row.sessionGeneration).toBe(1);
  });

  test('logout accepts an empty JSON object as its body; a malformed one is a 400 that ends nothing', async () => {
    const { username, password } = await api.createUser('viewer');
    const { authorization } = await api.login(username, password);
    const malformed = await api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization, 'content-type': 'application/json' },
      payload: '{"all": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('bad_request');
    expect(await whoAmI(authorization)).toEqual(LIVE);
    const response = await api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization },
      payload: {},
    });
    expect(response.statusCode).toBe(204);
    expect(await whoAmI(authorization)).toEqual(ENDED);
  });

  test('logout without a token is a 401 and ends nothing', async () => {
    const response = await api.app.inject({ method: 'POST', url: '/api/v1/auth/logout' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('unauthorized');
  });

  test('tokens issued in the same second are told apart: the one from before a revocation dies, the one after lives', async () => {
    const admin = await api.as('admin');
    const { username } = await api.createUser('author');
    const before = await userRow(username);
    // Both tokens claim the very same issue instant; only the order against the revocation differs.
    const issuedAt = Date.now();
    const sign = (gen: number) =>
      `Bearer ${createSigner({ key: TEST_JWT_SECRET, expiresIn: 600_000, clockTimestamp: issuedAt })({
        sub: before.id,
        username,
        role: 'author',
        gen,
      })}`;
    const issuedBefore = sign(before.sessionGeneration);
    const revoked = await api.app.inject({
      method: 'POST',
      url: `/api/v1/users/${username}/revoke-sessions`,
      headers: admin,
    });
    expect(revoked.statusCode).toBe(204);
    const issuedAfter = sign((await userRow(username)).sessionGeneration);
    expect(await whoAmI(issuedBefore)).toEqual(ENDED);
    expect(await whoAmI(issuedAfter)).toEqual(LIVE);
  });
});

describe('correctly signed tokens of the wrong shape', () => {
  test('a subject that is not a user id, missing or mistyped claims: 401, never a 500', async () => {
    const { username } = await api.createUser('admin');
    const row = await userRow(username);
    const good = { sub: row.id, username, role: 'admin', gen: row.sessionGeneration };
    const without = (claim: keyof typeof good) =>
      Object.fromEntries(Object.entries(good).filter(([name]) => name !== claim));
    const shapes: Record<string, Record<string, unknown>> = {
      'sub is not a uuid': { ...good, sub: 'not-a-uuid' },
      'sub is a number': { ...good, sub: 42 },
      'sub missing': without('sub'),
      'gen missing': without('gen'),
      'gen is a string': { ...good, gen: String(row.sessionGeneration) },
      'gen is negative': { ...good, gen: -1 },
      'gen is a fraction': { ...good, gen: 0.5 },
      'username missing': without('username'),
      'role is not a role': { ...good, role: 'superuser' },
      'sub names nobody': { ...good, sub: randomUUID() },
    };
    const sign = createSigner({ key: TEST_JWT_SECRET, expiresIn: 600_000 });
    // The well-formed token works, so each refusal below is about the claim that differs.
    expect(await whoAmI(`Bearer ${sign(good)}`)).toEqual(LIVE);
    for (const [shape, claims] of Object.entries(shapes)) {
      const result = await whoAmI(`Bearer ${sign(claims)}`);
      expect({ shape, status: result.status }).toEqual({ shape, status: 401 });
    }
    const notAUuid = await whoAmI(`Bearer ${sign({ ...good, sub: 'not-a-uuid' })}`);
    expect(notAUuid.message).toBe('The access token is invalid');
  });

  test('a token without an expiry is refused even when correctly signed', async () => {
    const { username } = await api.createUser('viewer');
    const row = await userRow(username);
    const forever = createSigner({ key: TEST_JWT_SECRET })({ sub: row.id, username, role: 'viewer', gen: 0 });
    expect(createDecoder()(forever)).not.toHaveProperty('exp');
    expect(await whoAmI(`Bearer ${forever}`)).toEqual({ status: 401, message: 'The access token is invalid' });
  });
});

describe('the acting user is kept between requests, never against a change', () => {
  const DEACTIVATED = { status: 401, message: 'The account behind this token is no longer active' };

  test('a user deactivated through this API process is refused on the very next request', async () => {
    const admin = await api.as('admin');
    const user = await api.as('author');
    expect(await whoAmI(user.authorization)).toEqual(LIVE);
    const patched = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.username}`,
      headers: admin,
      payload: { active: false },
    });
    expect(patched.statusCode).toBe(200);
    expect(await whoAmI(user.authorization)).toEqual(DEACTIVATED);
  });

  test('a password change or a demotion through this API process applies on the very next request', async () => {
    const admin = await api.as('admin');
    const other = await api.as('admin');
    const list = () => api.app.inject({ url: '/api/v1/users', headers: { authorization: other.authorization } });
    expect((await list()).statusCode).toBe(200);
    const demoted = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${other.username}`,
      headers: admin,
      payload: { role: 'viewer' },
    });
    expect(demoted.statusCode).toBe(200);
    expect((await list()).statusCode).toBe(403);
    const changed = await api.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${other.username}`,
      headers: admin,
      payload: { password: 'a-new-password-for-tests' },
    });
    expect(changed.statusCode).toBe(200);
    expect(await whoAmI(other.authorization)).toEqual(ENDED);
  });

  test('a role granted and a session begun in another process are honoured at once, though an older row is kept', async () => {
    const { username } = await api.createUser('viewer');
    const row = await userRow(username);
    const sign = createSigner({ key: TEST_JWT_SECRET, expiresIn: 600_000 });
    const first = `Bearer ${sign({ sub: row.id, username, role: 'viewer', gen: row.sessionGeneration })}`;
    const listUsers = (authorization: string) => api.app.inject({ url: '/api/v1/users', headers: { authorization } });
    expect((await listUsers(first)).statusCode).toBe(403);
    // Another replica promotes the user, ends their sessions, and issues them a new token.
    await api.database.db
      .update(schema.users)
      .set({ role: 'admin', sessionGeneration: sql`${schema.users.sessionGeneration} + 1` })
      .where(eq(schema.users.id, row.id));
    const issuedElsewhere = `Bearer ${sign({ sub: row.id, username, role: 'admin', gen: row.sessionGeneration + 1 })}`;
    expect((await listUsers(issuedElsewhere)).statusCode).toBe(200);
    // That read refreshed the kept row, so the token it ended is refused from then on.
    expect(await whoAmI(first)).toEqual(ENDED);
  });
});
