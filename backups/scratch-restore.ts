import postgres from 'postgres';
import { runTool, type ToolRunControl } from './archive';
import { PG_RESTORE_OPTIONS } from './restore-transaction';

export interface ScratchRestoreCheck {
  restore_verified: boolean;
  scratch_database: string;
  tables_compared: number;
  mismatched_tables: { table: string; expected: number; restored: number }[];
}

/**
 * The real test of a dump: restore it into a scratch database beside the application's, compare
 * every table's row count with the manifest (taken in the dump's own snapshot, so they must be
 * equal), and drop the scratch database whatever happened.
 */
export async function restoreIntoScratchDatabase(options: {
  dumpFile: string;
  databaseUrl: string;
  scratchName: string;
  expectedRowCounts: Record<string, number>;
  pgRestore: string;
  control?: ToolRunControl;
}): Promise<ScratchRestoreCheck> {
  const { scratchName } = options;
  if (!/^[a-z0-9_]{1,63}$/.test(scratchName)) throw new Error(`unsafe scratch database name ${scratchName}`);
  const admin = postgres(options.databaseUrl, { max: 1, onnotice: () => undefined });
  const scratchUrl = new URL(options.databaseUrl);
  scratchUrl.pathname = `/${scratchName}`;
  try {
    await admin.unsafe(`drop database if exists "${scratchName}" with (force)`);
    await admin.unsafe(`create database "${scratchName}"`).catch((error: Error) => {
      throw new Error(
        `verify mode "restore" needs a database role allowed to CREATE DATABASE (${error.message}); use verify mode "checksums" otherwise`,
      );
    });
    await runTool(
      options.pgRestore,
      [
        ...PG_RESTORE_OPTIONS,
        '--exit-on-error',
        '--single-transaction',
        `--dbname=${scratchUrl.toString()}`,
        options.dumpFile,
      ],
      options.control,
    );
    const scratch = postgres(scratchUrl.toString(), { max: 1, onnotice: () => undefined });
    const mismatched: ScratchRestoreCheck['mismatched_tables'] = [];
    try {
      for (const [table, expected] of Object.entries(options.expectedRowCounts)) {
        const [row] = await scratch<{ n: number }[]>`select count(*)::int as n from ${scratch(table)}`;
        if (row?.n !== expected) mismatched.push({ table, expected, restored: row?.n ?? 0 });
      }
    } finally {
      await scratch.end();
    }
    if (mismatched.length > 0) {
      throw new Error(
        `restored row counts differ from the manifest: ${mismatched.map((m) => `${m.table} ${m.restored}/${m.expected}`).join(', ')}`,
      );
    }
    return {
      restore_verified: true,
      scratch_database: scratchName,
      tables_compared: Object.keys(options.expectedRowCounts).length,
      mismatched_tables: mismatched,
    };
  } finally {
    await admin.unsafe(`drop database if exists "${scratchName}" with (force)`).catch(() => undefined);
    await admin.end();
  }
}
