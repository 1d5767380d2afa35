import path from 'node:path';
import type { BackupType } from '../common';

/**
 * Where a configuration's archives go: its destination, a directory under EDMS_BACKUP_DIR, or
 * `backups/<type>`. Destinations never leave EDMS_BACKUP_DIR, so an API caller cannot make a
 * worker write archives over system files; mount other storage under it instead.
 */
export function backupDestination(
  settings: { backupDir: string; storageDir?: string },
  type: BackupType,
  destination: string | null,
): string {
  if (destination === null) return path.join(settings.backupDir, 'backups', type);
  const problem = destinationProblem(destination, {
    backupDir: settings.backupDir,
    systemDirs: settings.storageDir ? [settings.storageDir] : [],
  });
  if (problem) throw new Error(`backup destination ${JSON.stringify(destination)} ${problem}`);
  return path.join(settings.backupDir, destination);
}

/**
 * Directories that hold the system's live data. Archives written inside one would be archived again
 * by the next backup (the stored documents) or deleted by a restore that swaps it, or would sit
 * among a database's files; a destination may not lie in one.
 */
export function systemDirs(config: { dataDir: string; storageDir: string; exportsDir: string }): string[] {
  return [
    config.storageDir,
    config.exportsDir,
    path.join(config.dataDir, 'postgres'),
    path.join(config.dataDir, 'temporal'),
    path.join(config.dataDir, 'mail'),
  ].map((dir) => path.resolve(dir));
}

/**
 * Why a destination is refused, or undefined when it is a plain relative directory outside every
 * system directory (given `where`, the backup directory it is relative to and the system directories).
 */
export function destinationProblem(
  destination: string,
  where?: { backupDir: string; systemDirs: string[] },
): string | undefined {
  if (destination.trim() === '') return 'is empty';
  if (path.isAbsolute(destination) || /^[A-Za-z]:/.test(destination)) return 'must be relative to EDMS_BACKUP_DIR';
  const segments = destination.split(/[\\/]+/).filter(Boolean);
  if (segments.some((segment) => segment === '..' || segment === '.')) return 'may not contain . or .. segments';
  if (segments.some((segment) => segment.startsWith('.'))) return 'may not name hidden directories';
  // File systems refuse a name over 255 bytes (NAME_MAX); the backup would fail only when it runs.
  if (segments.some((segment) => Buffer.byteLength(segment) > 255)) return 'has a folder name over 255 bytes';
  if (where) {
    const resolved = path.resolve(where.backupDir, destination);
    const inside = where.systemDirs.find((dir) => resolved === dir || resolved.startsWith(`${dir}${path.sep}`));
    if (inside) return `lies in ${inside}, which holds live data (stored documents, a database, exports or mail)`;
  }
  return undefined;
}

/** A backup run's scratch files, beside the archives so the final rename stays on one filesystem. */
export const backupWorkDir = (settings: { backupDir: string }, backupRunId: string) =>
  path.join(settings.backupDir, 'backups', '.work', backupRunId);

export const backupWorkRoot = (settings: { backupDir: string }) => path.join(settings.backupDir, 'backups', '.work');
