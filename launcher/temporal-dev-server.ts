import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { devServerArgs, devServerSharedArgs, type DevServerConfig } from './dev-server-config';
import type { Logger } from '../lib/logger';
import { ManagedProcess } from './managed-process';
import { assertPortsFree, devServerPorts } from './ports';
import { missingBinaryMessage, type ResolvedBinary } from './temporal-binaries';

export interface RunningDevServer {
  address: string;
  namespace: string;
  uiUrl: string;
  process: ManagedProcess | undefined;
  stop(): Promise<void>;
}

/** Resolves once the frontend answers and the namespace exists. */
async function waitUntilServing(
  address: string,
  namespace: string,
  server: ManagedProcess | undefined,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (server && !server.running) throw new Error(`the Temporal dev server exited:\n${server.tail()}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(
    `the Temporal dev server did not serve namespace ${namespace} within ${timeoutMs} ms: ${String(lastError)}`,
  );
}

/**
 * Starts the Temporal dev server with the settings of temporal-dev.yaml, persisted to its SQLite
 * file, with the Web UI. With no binary on this machine, falls back to the SDK's own download.
 */
export async function startDevServer(
  config: DevServerConfig,
  binary: ResolvedBinary,
  logger: Logger,
): Promise<RunningDevServer> {
  // Again at each restart: another program may have taken a port while the server was down.
  await assertPortsFree(devServerPorts(config), 'the Temporal dev server');
  await mkdir(path.dirname(config.dbFilename), { recursive: true });
  const address = `${config.ip}:${config.port}`;
  const uiUrl = `http://${config.ip}:${config.uiPort}`;

  if (binary.type === 'existing-path') {
    let stopping = false;
    const server = new ManagedProcess('temporal', binary.path, devServerArgs(config), {
      // While it shuts down, its internal workers complain about lost connections: not news.
      onLine: (line, stream) =>
        logger[stopping ? 'debug' : stream === 'stderr' ? 'warn' : 'info']({ component: 'temporal' }, line),
    });
    try {
      await waitUntilServing(address, config.namespace, server, 60_000);
    } catch (error) {
      await server.stop('SIGKILL');
      throw error;
    }
    return {
      address,
      namespace: config.namespace,
      uiUrl,
      process: server,
      stop: async () => {
        stopping = true;
        await server.stop('SIGTERM', 15_000);
      },
    };
  }

  let env: TestWorkflowEnvironment;
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download' },
        ip: config.ip,
        port: config.port,
        ui: true,
        uiPort: config.uiPort,
        namespace: config.namespace,
        dbFilename: config.dbFilename,
        extraArgs: ['--ui-disable-news-fetch', ...devServerSharedArgs(config)],
      },
    });
  } catch (error) {
    throw new Error(`${missingBinaryMessage('cli')} (SDK download: ${(error as Error).message})`);
  }
  return { address, namespace: config.namespace, uiUrl, process: undefined, stop: () => env.teardown() };
}
