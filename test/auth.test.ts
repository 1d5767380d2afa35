import { createSigner } from 'fast-jwt';
import { and, eq } from 'drizzle-orm';
import { schema } from '../db';
import { buildTestApi, TEST_JWT_SECRET, uniqueName, type TestApi } from './helpers/api';

let api: TestApi;

beforeAll(async () => {
  api = await buildTestApi();
});
afterAll(() => api.close());

const login = (username: string, password: string) =>
  api.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });

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
      expect(blocked.headers['retry-after']).toBeDefined();
      expect(blocked.json().error.code).toBe('rate_limited');
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
