// Runs one backup's steps in this process, as a worker would, so a test can kill it mid-way.
// Usage: node --import tsx backup-in-process.ts <database url> <backup dir> <storage dir> <config id> <run id>
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createBackupTasks, type DatabaseDump } from '../../activities/system-tasks/backups';
import type { BackupFile } from '../../backups/archive';
import { defaultSystemTaskSettings } from '../../activities/system-tasks';
import { connectDatabase } from '../../db';

async function main() {
  const [databaseUrl, backupDir, storageDir, configId, backupRunId] = process.argv.slice(2) as string[];
  const database = connectDatabase(databaseUrl!);
  const tasks = createBackupTasks({
    database,
    dispatchNotifications: async () => undefined,
    settings: defaultSystemTaskSettings(storageDir!, databaseUrl!, backupDir!),
  });
  const activity = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const plan: { backupRunId: string } = await activity.run(tasks.beginBackupRun, {
    backupRunId: backupRunId!,
    configId: configId!,
    triggeredBy: 'test',
  });
  const dump = (await activity.run(tasks.dumpDatabase, plan)) as DatabaseDump;
  const storage = (await activity.run(tasks.archiveStorage, plan)) as BackupFile;
  process.stdout.write('packaging\n');
  await activity.run(tasks.packageBackup, { ...plan, dump, storage });
  await database.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
