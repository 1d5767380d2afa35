/**
 * Changes to users made in this process, for what keeps copies of users in memory (the acting-user
 * cache of authentication). Other processes' changes are not seen here.
 */

/** Called with a user's id once a change to their role, activity or sessions is committed. */
export type UserChangeListener = (userId: string) => void;

const userChangeListeners = new Set<UserChangeListener>();

/**
 * Subscribes to changes of users made by this process (what an in-process copy of a user must
 * drop); returns the unsubscribe function. Other processes' changes are not seen here.
 */
export function onUserChanged(listener: UserChangeListener): () => void {
  userChangeListeners.add(listener);
  return () => userChangeListeners.delete(listener);
}

/** Tells the subscribers that the user changed; call it after the change is committed. */
export function userChanged(userId: string): void {
  for (const listener of userChangeListeners) listener(userId);
}
