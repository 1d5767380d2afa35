import path from 'node:path';

/** The repository root, wherever the process was started from. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'db', 'migrations');
export const WORKFLOWS_PATH = path.join(PROJECT_ROOT, 'workflows', 'index.ts');
export const DEV_SERVER_CONFIG_PATH = path.join(PROJECT_ROOT, 'temporal-dev.yaml');
/** Where the launcher and the test setup install the pinned Temporal binaries when none is found. */
export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');
