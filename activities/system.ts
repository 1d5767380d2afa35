import type { DatabaseHandle } from '../db';

export function createSystemActivities({ database }: { database: DatabaseHandle }) {
  return {
    /** Reads, never writes: safe to retry any number of times. */
    async checkDatabase(): Promise<{ serverVersion: string; databaseName: string }> {
      const [row] = await database.sql<{ server_version: string; database_name: string }[]>`
        select current_setting('server_version') as server_version, current_database() as database_name`;
      if (!row) throw new Error('the database answered no row to a constant select');
      return { serverVersion: row.server_version, databaseName: row.database_name };
    },
  };
}
