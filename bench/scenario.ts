import type { Client } from '@temporalio/client';
import { childPids, ownCpuSeconds } from './proc';
import type { DatabaseHandle } from '../db';
import { connectClient, loadTemporalSettings, plainTemporalSettings, type TemporalSettings } from '../lib/temporal';
import type { ApiClient } from './api-client';
import type { ScenarioOutcome } from './report';
import type { RunningSystem } from './system';

/** The command line's choices that scenarios read. */
export interface BenchOptions {
  /** `--n N`: the size of the scenarios that take one (burst, sleeping-documents); undefined for their default. */
  n?: number;
  /** `--quick`: tiny sizes and short runs, to prove the harness works (CI), not to measure. */
  quick: boolean;
}

/** What every scenario gets: the running system and connections to it, shared by the run. */
export interface BenchContext {
  system: RunningSystem;
  options: BenchOptions;
  /** The system's database, for seeding and for reading the timestamps that figures come from. */
  database: DatabaseHandle;
  api: ApiClient;
  /** A client of the system's Temporal (the SDK's environment settings when TEMPORAL_ADDRESS is set). */
  temporal: Client;
  /** Progress for the person watching (stderr); results go to stdout and the JSON files. */
  progress(message: string): void;
}

export interface Scenario {
  name: string;
  /** What it measures and its goal, one line (the `--help` text). */
  description: string;
  run(context: BenchContext): Promise<ScenarioOutcome>;
}

/** How to reach the system's Temporal: the environment's TLS/API-key settings for a real cluster. */
export function temporalSettingsOf(system: RunningSystem): TemporalSettings {
  return process.env.TEMPORAL_ADDRESS
    ? loadTemporalSettings()
    : plainTemporalSettings(system.temporalAddress, system.namespace);
}

export function connectTemporal(system: RunningSystem): Promise<Client> {
  return connectClient(temporalSettingsOf(system));
}

export { rssMb } from './proc';

/**
 * CPU seconds a process and its children (alive, or ended and reaped) have used so far: a
 * PostgreSQL server's backends are its children. Null when the process is not running here (a
 * remote cluster or database).
 */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  const own = ownCpuSeconds(pid);
  if (own === null) return null;
  return childPids(pid).reduce((total, child) => total + (ownCpuSeconds(child) ?? 0), own);
}

/** CPU seconds so far of the system's services and of this process (which runs the bare baselines' workers). */
export function cpuSnapshot(
  system: RunningSystem,
): Record<'worker' | 'temporal' | 'postgres' | 'api' | 'launcher' | 'bench', number | null> {
  const usage = process.cpuUsage();
  const launcher = system.launcher.pid === undefined ? null : ownCpuSeconds(system.launcher.pid);
  return {
    worker: cpuSeconds(system.pidOf('worker')),
    temporal: cpuSeconds(system.pidOf('temporal')),
    postgres: cpuSeconds(system.pidOf('postgres')),
    api: cpuSeconds(system.pidOf('api')),
    // Its own CPU only (its children are counted above): it relays their output and runs the mailbox.
    launcher,
    bench: (usage.user + usage.system) / 1e6,
  };
}

/** CPU milliseconds per item each process spent between two snapshots (null where one was missing). */
export function cpuMsPer(
  before: ReturnType<typeof cpuSnapshot>,
  after: ReturnType<typeof cpuSnapshot>,
  items: number,
): Record<string, number | null> {
  return Object.fromEntries(
    Object.entries(after).map(([name, end]) => {
      const start = before[name as keyof typeof before];
      return [name, end === null || start === null ? null : Math.round(((end - start) * 1000 * 10) / items) / 10];
    }),
  );
}
