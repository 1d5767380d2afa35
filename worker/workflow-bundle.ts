import { createHash } from 'node:crypto';
import { readdir, readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode, type Logger as SdkLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { PROJECT_ROOT, WORKFLOWS_PATH } from '../lib/paths';

/** What workflow code is built from: workflows/, the names it imports from common/, and the SDK. */
const BUNDLE_SOURCES = ['workflows', 'common'];
const CACHE_DIR = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'edms-temporal');

async function sourceFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name))
    .sort();
}

/**
 * How the workflow code is bundled, for the worker, the tests and the benchmarks alike. The workflow
 * modules are preloaded: evaluated once per workflow thread and shared, deep-frozen, by every
 * workflow in it, instead of evaluated again for each workflow (the SDK's reusable V8 context gives
 * every workflow its own copy of each module it loads itself). They hold no state at module scope,
 * only constants, functions and activity proxies that look their workflow up when called.
 * Measured with 600 sleeping documents in one Worker: 0.26 MB of RSS per cached document, 0.42 without.
 * Module scope must stay free of state (no module-level let, Map, Set or cache): a shared module's
 * Maps are not frozen, and what one workflow put in them every other would see.
 */
const BUNDLE_OPTIONS = { workflowsPath: WORKFLOWS_PATH, preloadModules: [WORKFLOWS_PATH] } as const;

/** Bundles the workflow code (seconds: webpack); loadWorkflowBundle caches the result. */
export function bundleWorkflows(logger: SdkLogger): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ ...BUNDLE_OPTIONS, preloadModules: [...BUNDLE_OPTIONS.preloadModules], logger });
}

/**
 * A digest of everything the bundle is built from: any change to a source, the SDK or the way it is
 * bundled makes a new one.
 */
async function bundleDigest(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${JSON.stringify(BUNDLE_OPTIONS)}\0`);
  const sdk = JSON.parse(
    await readFile(path.join(PROJECT_ROOT, 'node_modules', '@temporalio', 'workflow', 'package.json'), 'utf8'),
  ) as { version: string };
  hash.update(`@temporalio/workflow@${sdk.version}\0`);
  for (const folder of BUNDLE_SOURCES) {
    for (const file of await sourceFiles(path.join(PROJECT_ROOT, folder))) {
      hash
        .update(`${path.relative(PROJECT_ROOT, file)}\0`)
        .update(await readFile(file))
        .update('\0');
    }
  }
  return hash.digest('hex').slice(0, 32);
}

/** Where the bundle of the workflow code as it is now is cached. */
export async function workflowBundleCacheFile(): Promise<string> {
  return path.join(CACHE_DIR, `workflow-bundle-${await bundleDigest()}.json`);
}

/**
 * The workflow bundle, built once per version of the workflow code and kept in
 * node_modules/.cache: bundling takes seconds, and a worker restarted after a crash should poll as
 * soon as it can (documents that fell due meanwhile wait for it). The cache is keyed by a digest of
 * every source the bundle is built from, so a stale bundle is never used; a cache that cannot be
 * written only costs the next start the same seconds.
 */
export async function loadWorkflowBundle(logger: SdkLogger): Promise<WorkflowBundleWithSourceMap> {
  const file = await workflowBundleCacheFile();
  try {
    return JSON.parse(await readFile(file, 'utf8')) as WorkflowBundleWithSourceMap;
  } catch {
    // not built yet for this code
  }
  const bundle = await bundleWorkflows(logger);
  try {
    await mkdir(CACHE_DIR, { recursive: true });
    // Written aside and renamed: two workers starting together never read half a file.
    const partial = `${file}.${process.pid}.tmp`;
    await writeFile(partial, JSON.stringify({ code: bundle.code, sourceMap: bundle.sourceMap }));
    await rename(partial, file);
  } catch (error) {
    logger.warn('the workflow bundle could not be cached', { error: String(error) });
  }
  return bundle;
}
