import { readFileSync } from 'node:fs';
import path from 'node:path';
import packageJson from '../package.json';
import { PROJECT_ROOT } from './paths';

export const APP_VERSION: string = packageJson.version;

/**
 * The commit the running code came from, for backup manifests: EDMS_GIT_COMMIT when a deployment
 * sets it (images carry no .git), else read from the checkout; undefined when neither is known.
 */
export function gitCommit(env: NodeJS.ProcessEnv = process.env, root = PROJECT_ROOT): string | undefined {
  if (env.EDMS_GIT_COMMIT) return env.EDMS_GIT_COMMIT;
  try {
    const head = readFileSync(path.join(root, '.git', 'HEAD'), 'utf8').trim();
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (!ref) return /^[0-9a-f]{40}$/.test(head) ? head : undefined;
    const loose = path.join(root, '.git', ref);
    try {
      return readFileSync(loose, 'utf8').trim();
    } catch {
      const packed = readFileSync(path.join(root, '.git', 'packed-refs'), 'utf8');
      return packed
        .split('\n')
        .find((line) => line.endsWith(` ${ref}`))
        ?.split(' ')[0];
    }
  } catch {
    return undefined;
  }
}
