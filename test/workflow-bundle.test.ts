import { stat } from 'node:fs/promises';
import { DefaultLogger } from '@temporalio/worker';
import { loadWorkflowBundle, workflowBundleCacheFile } from '../worker/workflow-bundle';

jest.setTimeout(120_000);

test('the worker bundles its workflow code once per version of it and loads it from the cache after', async () => {
  const logger = new DefaultLogger('WARN');
  const first = await loadWorkflowBundle(logger);
  const file = await workflowBundleCacheFile();
  expect(file).toMatch(/workflow-bundle-[0-9a-f]{32}\.json$/);
  const written = await stat(file);

  const again = await loadWorkflowBundle(logger);
  expect(again).toEqual({ code: first.code, sourceMap: first.sourceMap });
  expect(again.code).toContain('documentLifecycle');
  // Read, not rebuilt: the file was not written again.
  expect((await stat(file)).mtimeMs).toBe(written.mtimeMs);
});
