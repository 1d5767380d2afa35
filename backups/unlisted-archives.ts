import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import { sha256Of } from './archive';
import { manifestRunId, manifestSummary, readManifest } from './manifest';
import type { ArchiveOnDisk } from './restore-contract';

/** The name publishArchive gives a finished archive; partial and foreign files are not archives. */
const ARCHIVE_NAME = /^backup_\d{8}T\d{6}Z\.tar\.gz$/;

/** Archives published under EDMS_BACKUP_DIR (hidden directories hold unfinished work and are skipped). */
async function findArchives(directory: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) found.push(...(await findArchives(full)));
    else if (entry.isFile() && ARCHIVE_NAME.test(entry.name)) found.push(full);
  }
  return found;
}

/**
 * The archives on disk that the catalogue does not list now, described for the restore to add: a
 * restore must never leave a verified archive unlisted and so unrestorable through the API.
 */
export async function unlistedArchives(databaseUrl: string, backupDir: string): Promise<ArchiveOnDisk[]> {
  const archives = await findArchives(backupDir);
  if (archives.length === 0) return [];
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  let listed: Set<string>;
  try {
    const [{ present } = { present: false }] = await sql<{ present: boolean }[]>`
      select to_regclass('public.backup_runs') is not null as present`;
    const rows = present ? await sql<{ path: string }[]>`select path from backup_runs where path is not null` : [];
    listed = new Set(rows.map((row) => row.path));
  } finally {
    await sql.end();
  }
  const described: ArchiveOnDisk[] = [];
  for (const archive of archives) {
    if (listed.has(archive)) continue;
    const manifest = await readManifest(archive).catch(() => undefined);
    if (!manifest) continue;
    const file = await stat(archive);
    described.push({
      path: archive,
      sha256: await sha256Of(archive),
      size_bytes: file.size,
      modified_at: file.mtime.toISOString(),
      backup_run_id: manifestRunId(manifest),
      backup_type: manifest.backup_type,
      config: manifest.config ?? null,
      timestamp: manifest.timestamp,
      manifest: manifestSummary(manifest),
    });
  }
  return described;
}
