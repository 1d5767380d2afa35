import type { UserRow } from '../../db';

export interface ActingUserCacheOptions {
  /** Reads the user from the database; undefined for an unknown id. */
  load: (id: string) => Promise<UserRow | undefined>;
  /** At most this many users are kept; past it the longest-kept ones go first. */
  maxEntries: number;
  /** A kept user is read again once it is this old (milliseconds): the staleness bound. */
  maxAgeMs: number;
  /** Milliseconds on a monotonic clock (tests pass their own). */
  now?: () => number;
}

/**
 * The users behind recent requests, so an authenticated request does not cost a database query.
 *
 * What may be stale, and for how long: a kept row is at most `maxAgeMs` old. Changes made by this
 * process (`forget`, called when a user is updated, signed out or revoked) apply to the next
 * request at once; changes made elsewhere (another API replica, a restore) apply within
 * `maxAgeMs`. Staleness can only let a token through for that long, never refuse a good one: a kept
 * row the caller would refuse is read again before the caller decides.
 */
export class ActingUserCache {
  private readonly entries = new Map<string, { user: UserRow; loadedAt: number }>();
  private readonly loading = new Map<string, Promise<UserRow | undefined>>();
  /** Counts `forget` calls, so a load that raced one does not keep what it read before it. */
  private changes = 0;
  private readonly now: () => number;

  constructor(private readonly options: ActingUserCacheOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * The user: the kept row if it is recent and `admits` it, otherwise the row as the database has it
   * now (so a refusal is always decided on current data).
   */
  async get(id: string, admits: (user: UserRow) => boolean): Promise<UserRow | undefined> {
    const kept = this.entries.get(id);
    if (kept && this.now() - kept.loadedAt < this.options.maxAgeMs && admits(kept.user)) return kept.user;
    return this.read(id);
  }

  /** One database read shared by concurrent callers, kept for later. */
  private read(id: string): Promise<UserRow | undefined> {
    const inFlight = this.loading.get(id);
    if (inFlight) return inFlight;
    const changesBefore = this.changes;
    const loadedAt = this.now();
    const load = this.options
      .load(id)
      .then((user) => {
        if (this.changes === changesBefore) this.keep(id, user, loadedAt);
        return user;
      })
      .finally(() => {
        if (this.loading.get(id) === load) this.loading.delete(id);
      });
    this.loading.set(id, load);
    return load;
  }

  /** Drops what is kept of the user: their next request reads them from the database. */
  forget(id: string): void {
    this.changes++;
    this.entries.delete(id);
    this.loading.delete(id);
  }

  /** How many users are kept (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private keep(id: string, user: UserRow | undefined, loadedAt: number): void {
    this.entries.delete(id);
    // Unknown users are not kept: their tokens are refused, and refusals read the database anyway.
    if (!user) return;
    this.entries.set(id, { user, loadedAt });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
