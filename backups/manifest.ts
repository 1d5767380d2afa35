import path from 'node:path';
import * as tar from 'tar';
import type { ArchiveManifest } from './archive';

/** What a restore and the backup catalogue take from an archive's manifest.json. */

/** A manifest as written, with the fields newer backups add (`backup_run_id`, versions, commit). */
export type ManifestOnDisk = ArchiveManifest & Record<string, unknown>;

/** manifest.json of an archive, read without unpacking the rest. */
export async function readManifest(archive: string): Promise<ManifestOnDisk> {
  let text = '';
  await tar.list({
    file: archive,
    filter: (entry) => entry.replace(/^\.\//, '') === 'manifest.json',
    onReadEntry: (entry) => entry.on('data', (chunk: Buffer) => (text += chunk.toString())),
  });
  if (!text) throw new Error(`${path.basename(archive)} has no manifest.json`);
  return JSON.parse(text) as ManifestOnDisk;
}

/** The backup run that made the archive, when its manifest names one. */
export const manifestRunId = (manifest: ManifestOnDisk): string | null =>
  typeof manifest.backup_run_id === 'string' ? manifest.backup_run_id : null;

/** What a backup run row keeps of its archive's manifest. */
export const manifestSummary = (manifest: ArchiveManifest): Record<string, unknown> => ({
  files: manifest.files,
  row_counts: manifest.row_counts,
  config: manifest.config,
});
