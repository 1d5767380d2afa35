import net from 'node:net';
import type { AppConfig } from '../lib/config';
import { ConfigError } from '../lib/config-error';
import type { DevServerConfig } from './dev-server-config';

/** Where `npm start`'s worker serves GET /metrics unless WORKER_METRICS_PORT says otherwise. */
export const DEFAULT_WORKER_METRICS_PORT = 9464;

/** A port the launcher listens on or hands to a child, with the variable that moves it. */
export interface PlannedPort {
  what: string;
  host: string;
  port: number;
  /** The variable to change when the port is taken (its default applies when it is unset). */
  variable: string;
  /** The variable that names `host`, when one does. */
  hostVariable?: string;
}

/** The dev server's own ports (it picks free ones for everything else it opens). */
export function devServerPorts(devServer: Pick<DevServerConfig, 'ip' | 'port' | 'uiPort'>): PlannedPort[] {
  return [
    { what: 'Temporal frontend', host: devServer.ip, port: devServer.port, variable: 'TEMPORAL_DEV_PORT' },
    { what: 'Temporal Web UI', host: devServer.ip, port: devServer.uiPort, variable: 'TEMPORAL_DEV_UI_PORT' },
  ];
}

/**
 * Every port `npm start` will listen on: the API, the worker's metrics (unless WORKER_METRICS_PORT
 * is 0), and those of the servers it starts because the environment names none (`devServer` is
 * undefined when TEMPORAL_ADDRESS is set).
 */
export function plannedPorts(config: AppConfig, devServer: DevServerConfig | undefined): PlannedPort[] {
  const ports: PlannedPort[] = [
    { what: 'API', host: config.host, port: config.port, variable: 'PORT', hostVariable: 'HOST' },
  ];
  if (config.workerMetricsPort !== 0) {
    ports.push({
      what: 'worker metrics',
      host: config.host,
      port: config.workerMetricsPort ?? DEFAULT_WORKER_METRICS_PORT,
      variable: 'WORKER_METRICS_PORT',
      hostVariable: 'HOST',
    });
  }
  if (devServer) ports.push(...devServerPorts(devServer));
  if (!config.databaseUrl) {
    ports.push({
      what: 'embedded PostgreSQL',
      host: '127.0.0.1',
      port: config.embeddedPgPort,
      variable: 'EDMS_EMBEDDED_PG_PORT',
    });
  }
  if (!config.smtpUrl) {
    ports.push({
      what: 'local mail sink',
      host: '127.0.0.1',
      port: config.smtpSinkPort,
      variable: 'EDMS_SMTP_SINK_PORT',
    });
  }
  return ports;
}

function listen(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

const hint = (planned: PlannedPort) =>
  `set ${planned.variable} to a free port${planned.variable === 'WORKER_METRICS_PORT' ? ' (0 picks one)' : ''}`;

/**
 * Listens on every port at once, then lets them go: a port another program holds, and two
 * variables naming the same port, are both found before anything is started. Throws one
 * ConfigError (`<who> cannot start: ...`) naming, for each problem, the variable to change.
 */
export async function assertPortsFree(ports: readonly PlannedPort[], who: string): Promise<void> {
  const held: { planned: PlannedPort; server: net.Server }[] = [];
  const problems: string[] = [];
  try {
    for (const planned of ports) {
      const where = `${planned.host}:${planned.port} (${planned.what})`;
      try {
        held.push({ planned, server: await listen(planned.host, planned.port) });
      } catch (error) {
        const { code, message } = error as NodeJS.ErrnoException;
        const clash = held.find(({ planned: other }) => other.port === planned.port);
        if (code === 'EADDRINUSE' && clash) {
          problems.push(
            `${clash.planned.variable} and ${planned.variable} both name port ${planned.port}; ${hint(planned)}`,
          );
        } else if (code === 'EADDRINUSE') {
          problems.push(`${where} is already in use (another \`npm start\`?); ${hint(planned)}`);
        } else {
          const variables = planned.hostVariable ? `${planned.hostVariable} and ${planned.variable}` : planned.variable;
          problems.push(`cannot listen on ${where}: ${message}; check ${variables}`);
        }
      }
    }
  } finally {
    await Promise.all(held.map(({ server }) => new Promise((resolve) => server.close(resolve))));
  }
  if (problems.length > 0) throw new ConfigError(`${who} cannot start: ${problems.join('; ')}`);
}
