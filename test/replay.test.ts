import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR } from './helpers/histories';
import { workflowBundle } from './helpers/temporal';

/**
 * Documents live for years: a workflow change that would replay their saved histories differently
 * breaks every running document. These histories were recorded from real runs
 * (EDMS_RECORD_HISTORIES=1 npx jest test/document-lifecycle.test.ts test/notification-delivery.test.ts
 * test/backup-workflow.test.ts test/scheduler-job-workflow.test.ts); system-task-backup-single-activity is a backup task from before the
 * backup workflow (patch backup-child-workflow); lifecycle-before-* and review-timers-before-* are
 * runs recorded before the patches their names give (document-local-activities,
 * review-timers-in-background, review-timers-local-activities, document-one-transaction-per-change,
 * review-timers-in-document; review-timers-* are children of rounds opened before the last);
 * any change must still
 * replay them, or be guarded by patched().
 */
test('saved lifecycle, review-timer, email-delivery, backup and system-task histories replay without nondeterminism', async () => {
  const files = (await readdir(HISTORIES_DIR)).filter((file) => file.endsWith('.json')).sort();
  expect(files.length).toBeGreaterThanOrEqual(10);
  const histories = await Promise.all(
    files.map(async (file) => ({
      workflowId: path.basename(file, '.json'),
      history: historyFromJSON(JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8'))),
    })),
  );
  const results: { workflowId: string; error?: string }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) {
    results.push({ workflowId: result.workflowId, error: result.error ? String(result.error) : undefined });
  }
  expect(results).toEqual(files.map((file) => ({ workflowId: path.basename(file, '.json'), error: undefined })));
});
