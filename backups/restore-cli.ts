import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, requireDatabaseUrl } from '../lib/config';
import { restoreArchive } from './restore';
import { runMain } from '../lib/process';

/**
 * `npm run restore -- <archive> [--dry-run]`: restores a backup archive into DATABASE_URL and
 * EDMS_STORAGE_DIR, keeping the audit trail and the backup catalogue (archives under EDMS_BACKUP_DIR
 * stay listed). `--dry-run` runs the same restore and rolls it back: it fails where the real one
 * would and prints what it would keep. Stop the API and workers first; the restore replaces what
 * they are using.
 */
runMain(async () => {
  const usage = 'usage: npm run restore -- <backup archive .tar.gz> [--dry-run]\n';
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { 'dry-run': { type: 'boolean', default: false } } });
  } catch {
    // An unknown option (--help included) gets the usage, not a stack trace.
    parsed = undefined;
  }
  const archive = parsed?.positionals[0];
  if (!parsed || !archive || parsed.positionals.length > 1) {
    process.stderr.write(usage);
    process.exit(2);
  }
  const values = parsed.values;
  const config = loadConfig();
  const report = await restoreArchive({
    archive,
    databaseUrl: requireDatabaseUrl(config),
    storageDir: config.storageDir,
    pgBinDir: config.pgBinDir,
    backupDir: config.backupDir,
    actor: `cli:${os.userInfo().username}`,
    dryRun: values['dry-run'],
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (report.mismatched_tables.length > 0) process.exit(1);
});
