import type postgres from 'postgres';

/** The table the bare baseline writes: one row per workflow, stamped by the database. */
export const MARKS_TABLE = 'bench_baseline_marks';

export async function createMarksTable(sql: postgres.Sql): Promise<void> {
  await sql`create table if not exists ${sql(MARKS_TABLE)} (id text primary key, at timestamptz not null default now())`;
  await sql`truncate ${sql(MARKS_TABLE)}`;
}

export async function dropMarksTable(sql: postgres.Sql): Promise<void> {
  await sql`drop table if exists ${sql(MARKS_TABLE)}`;
}

/** The baseline's one activity: one INSERT, as small as a database write gets. */
export function createBareActivities(sql: postgres.Sql) {
  return {
    async recordMark(id: string): Promise<void> {
      await sql`insert into ${sql(MARKS_TABLE)} (id) values (${id}) on conflict (id) do nothing`;
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
