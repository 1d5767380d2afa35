import { connectDatabase } from '../db';
import { loadConfig, requireDatabaseUrl } from '../lib/config';
import { syncJobSchedules } from './job-schedules';
import { runMain } from '../lib/process';
import { syncSchedules } from './system-schedules';
import { connectClient, loadTemporalSettings } from '../lib/temporal';

/**
 * `npm run schedules:sync`: creates or updates the system schedules and restores the schedules of
 * admin-defined jobs, as a worker does at start.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const client = await connectClient(loadTemporalSettings());
  const database = connectDatabase(requireDatabaseUrl(config), { applicationName: 'edms-schedules-sync' });
  try {
    const report = await syncSchedules(client, config.timezone);
    process.stdout.write(
      `system schedules in ${config.timezone}: created ${report.created.length} (${report.created.join(', ') || '-'}), ` +
        `updated ${report.updated.length}\n`,
    );
    const jobs = await syncJobSchedules(client, database.db);
    process.stdout.write(
      `job schedules: created ${jobs.created.length}, deleted ${jobs.deleted.length}, ` +
        `unschedulable ${jobs.unschedulable.length}${jobs.unschedulable.length ? ` ${JSON.stringify(jobs.unschedulable)}` : ''}\n`,
    );
  } finally {
    await Promise.allSettled([client.connection.close(), database.close()]);
  }
}

runMain(main);
