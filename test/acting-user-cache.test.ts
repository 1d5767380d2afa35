import { eq, sql } from 'drizzle-orm';
import { ActingUserCache } from '../api/plugins/acting-user-cache';
import { findUserById } from '../api/services/users';
import { connectDatabase, schema, type DatabaseHandle, type UserRow } from '../db';
import { seedUser } from './helpers/documents';
import { testDatabaseUrl } from './helpers/resources';

let database: DatabaseHandle;

beforeAll(() => {
  database = connectDatabase(testDatabaseUrl());
});
afterAll(() => database.close());

const MAX_AGE_MS = 2_000;

/** A cache on the test database with a clock the test moves, counting its database reads. */
function cacheWithClock(options: { maxEntries?: number } = {}) {
  const clock = { now: 1_000_000 };
  const reads: string[] = [];
  const cache = new ActingUserCache({
    load: (id) => {
      reads.push(id);
      return findUserById(database.db, id);
    },
    maxEntries: options.maxEntries ?? 100,
    maxAgeMs: MAX_AGE_MS,
    now: () => clock.now,
  });
  return { cache, clock, reads };
}

const admitsActive = (user: UserRow) => user.active;

/** What another API process (or a restore) does: the row changes, this process is not told. */
const deactivateElsewhere = (id: string) =>
  database.db.update(schema.users).set({ active: false }).where(eq(schema.users.id, id));

test('a user read for one request serves the next ones without a query until it is maxAgeMs old', async () => {
  const { cache, clock, reads } = cacheWithClock();
  const user = await seedUser(database, 'viewer');
  expect((await cache.get(user.id, admitsActive))?.username).toBe(user.username);
  clock.now += MAX_AGE_MS - 1;
  expect((await cache.get(user.id, admitsActive))?.username).toBe(user.username);
  expect(reads).toEqual([user.id]);
  clock.now += 1;
  await cache.get(user.id, admitsActive);
  expect(reads).toEqual([user.id, user.id]);
});

test('a deactivation made by another process is seen within the window, and at once after forget', async () => {
  const { cache, clock } = cacheWithClock();
  const elsewhere = await seedUser(database, 'author');
  const here = await seedUser(database, 'author');
  await cache.get(elsewhere.id, admitsActive);
  await cache.get(here.id, admitsActive);
  await deactivateElsewhere(elsewhere.id);
  await deactivateElsewhere(here.id);

  // The documented staleness: the kept row still admits, but never past maxAgeMs.
  clock.now += MAX_AGE_MS - 1;
  expect((await cache.get(elsewhere.id, admitsActive))?.active).toBe(true);
  clock.now += 1;
  expect((await cache.get(elsewhere.id, admitsActive))?.active).toBe(false);

  // This process's own changes call forget: no window at all.
  cache.forget(here.id);
  expect((await cache.get(here.id, admitsActive))?.active).toBe(false);
});

test('a kept row the caller would refuse is read again, so stale data never refuses a good token', async () => {
  const { cache, reads } = cacheWithClock();
  const user = await seedUser(database, 'viewer');
  const kept = await cache.get(user.id, admitsActive);
  // Another process bumped the generation and the user logged in there: the new token is newer.
  await database.db
    .update(schema.users)
    .set({ sessionGeneration: sql`${schema.users.sessionGeneration} + 1` })
    .where(eq(schema.users.id, user.id));
  const newer = kept!.sessionGeneration + 1;
  const current = await cache.get(user.id, (row) => row.sessionGeneration === newer);
  expect(current?.sessionGeneration).toBe(newer);
  expect(reads).toEqual([user.id, user.id]);
});

test('concurrent requests of one user share one read; unknown users are not kept', async () => {
  const { cache, reads } = cacheWithClock();
  const user = await seedUser(database, 'viewer');
  const rows = await Promise.all(Array.from({ length: 5 }, () => cache.get(user.id, admitsActive)));
  expect(new Set(rows.map((row) => row?.id))).toEqual(new Set([user.id]));
  expect(reads).toEqual([user.id]);

  const nobody = '00000000-0000-4000-8000-000000000000';
  expect(await cache.get(nobody, admitsActive)).toBeUndefined();
  expect(cache.size).toBe(1);
});

test('a read that raced a change is not kept', async () => {
  const { cache, reads } = cacheWithClock();
  const user = await seedUser(database, 'viewer');
  const racing = cache.get(user.id, admitsActive);
  await deactivateElsewhere(user.id);
  cache.forget(user.id);
  await racing;
  expect((await cache.get(user.id, admitsActive))?.active).toBe(false);
  expect(reads).toEqual([user.id, user.id]);
});

test('at most maxEntries users are kept, the longest-kept going first', async () => {
  const { cache, reads } = cacheWithClock({ maxEntries: 2 });
  const [a, b, c] = [
    await seedUser(database, 'viewer'),
    await seedUser(database, 'viewer'),
    await seedUser(database, 'viewer'),
  ];
  for (const user of [a, b, c]) await cache.get(user.id, admitsActive);
  expect(cache.size).toBe(2);
  await cache.get(c.id, admitsActive);
  await cache.get(b.id, admitsActive);
  await cache.get(a.id, admitsActive);
  expect(reads).toEqual([a.id, b.id, c.id, a.id]);
});
