import os from 'node:os';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

/** The namespace the dev server registers (temporal-dev.yaml) and the default when TEMPORAL_NAMESPACE is unset. */
export const DEFAULT_NAMESPACE = 'edms';

export interface TemporalSettings {
  address: string;
  namespace: string;
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

/**
 * Temporal connection settings from the SDK's environment-config conventions (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE and its TOML file), so the
 * same build talks to the dev server, a self-hosted cluster or Temporal Cloud.
 */
export function loadTemporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const overrideEnvVars = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars });
  return {
    address: connectionOptions.address ?? 'localhost:7233',
    namespace: namespace ?? DEFAULT_NAMESPACE,
    connectionOptions: { ...connectionOptions, address: connectionOptions.address ?? 'localhost:7233' },
  };
}

/** A client whose connection is made on first use, so the API can start (and report) while Temporal is down. */
export function createLazyClient(settings: TemporalSettings): Client {
  const { address, tls, apiKey, metadata } = settings.connectionOptions;
  const connection = Connection.lazy({ address, tls, apiKey, metadata });
  return new Client({ connection, namespace: settings.namespace });
}

/**
 * A connection for health probes: no retry interceptor, so a probe answers "down" within its
 * deadline instead of retrying in the background after the caller has moved on.
 */
export function createProbeConnection(settings: TemporalSettings): Connection {
  const { address, tls, apiKey, metadata } = settings.connectionOptions;
  return Connection.lazy({ address, tls, apiKey, metadata, interceptors: [] });
}

/** Settings for a server on `address` without TLS (the dev and test servers). */
export function plainTemporalSettings(address: string, namespace = DEFAULT_NAMESPACE): TemporalSettings {
  return { address, namespace, connectionOptions: { address } };
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const { address, tls, apiKey, metadata } = settings.connectionOptions;
  const connection = await Connection.connect({ address, tls, apiKey, metadata });
  return new Client({ connection, namespace: settings.namespace });
}

export function connectWorkerConnection(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(settings.connectionOptions);
}

/** `<pid>@<host>`: Temporal's own default identity, used for the worker, its heartbeat row and its slot claims. */
export const processIdentity = (): string => `${process.pid}@${os.hostname()}`;

/**
 * Whether the workflow with this id has a run that is still RUNNING. A workflow Temporal no longer
 * knows (never started, or past its namespace's retention) is not running; other errors propagate.
 */
export async function isWorkflowRunning(client: Client, workflowId: string): Promise<boolean> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}
