import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TEST_ENV } from './resources';

const run = promisify(execFile);

export const HISTORIES_DIR = path.join(__dirname, '..', 'fixtures', 'histories');

/**
 * With EDMS_RECORD_HISTORIES=1, saves the histories of the given workflows as replay fixtures in the
 * format of `temporal workflow show --output json` (test/replay.test.ts replays every file there).
 * Record again only after an intended change guarded by `patched()`.
 */
export async function recordHistories(env: TestWorkflowEnvironment, fixtures: Record<string, string>): Promise<void> {
  if (process.env.EDMS_RECORD_HISTORIES !== '1') return;
  const cli = process.env[TEST_ENV.cli];
  if (!cli) throw new Error('recording histories needs the Temporal CLI');
  await mkdir(HISTORIES_DIR, { recursive: true });
  for (const [name, workflowId] of Object.entries(fixtures)) {
    const { stdout } = await run(
      cli,
      [
        'workflow',
        'show',
        '--address',
        env.address,
        '--namespace',
        env.namespace ?? 'default',
        '--workflow-id',
        workflowId,
        '--output',
        'json',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    await writeFile(path.join(HISTORIES_DIR, `${name}.json`), stdout);
  }
}
