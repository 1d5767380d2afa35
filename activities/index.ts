import type { DatabaseHandle } from '../db';
import { createDocumentActivities } from './documents';
import { createSystemActivities } from './system';

export interface ActivityDeps {
  database: DatabaseHandle;
}

/** All activities, built once per worker process from real dependencies (tests pass test resources). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSystemActivities(deps),
    ...createDocumentActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
