import { loadConfig } from '../lib/config';
import { runMain } from '../lib/process';
import { syncSchedules } from '../lib/schedules';
import { connectClient, loadTemporalSettings } from '../lib/temporal';

/** `npm run schedules:sync`: creates or updates the system schedules, as a worker does at start. */
async function main(): Promise<void> {
  const config = loadConfig();
  const client = await connectClient(loadTemporalSettings());
  try {
    const report = await syncSchedules(client, config.timezone);
    process.stdout.write(
      `system schedules in ${config.timezone}: created ${report.created.length} (${report.created.join(', ') || '-'}), ` +
        `updated ${report.updated.length}\n`,
    );
  } finally {
    await client.connection.close();
  }
}

runMain(main);
