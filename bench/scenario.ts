import { readdirSync, readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
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

/** Resident memory of a process in MB (VmRSS in /proc/<pid>/status); null when it is not running here. */
export function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux build that matters here). */
const USER_HZ = 100;

/** utime + stime (+ cutime + cstime: children that ended) of one process in seconds; 0 when it is gone. */
function processCpuSeconds(pid: number): { seconds: number; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
    return { seconds: ticks / USER_HZ, ppid: Number(fields[1]) };
  } catch {
    return null;
  }
}

/**
 * CPU seconds a process and its children (alive, or ended and reaped) have used so far: a
 * PostgreSQL server's backends are its children. Null when the process is not running here (a
 * remote cluster or database).
 */
export function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  const own = processCpuSeconds(pid);
  if (!own) return null;
  let total = own.seconds;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = processCpuSeconds(Number(entry));
    if (child?.ppid === pid) total += child.seconds;
  }
  return total;
}

/** CPU seconds so far of the system's services and of this process (which runs the bare baselines' workers). */
export function cpuSnapshot(
  system: RunningSystem,
): Record<'worker' | 'temporal' | 'postgres' | 'api' | 'launcher' | 'bench', number | null> {
  const usage = process.cpuUsage();
  const launcher = system.launcher.pid === undefined ? null : processCpuSeconds(system.launcher.pid);
  return {
    worker: cpuSeconds(system.pidOf('worker')),
    temporal: cpuSeconds(system.pidOf('temporal')),
    postgres: cpuSeconds(system.pidOf('postgres')),
    api: cpuSeconds(system.pidOf('api')),
    // Its own CPU only (its children are counted above): it relays their output and runs the mailbox.
    launcher: launcher?.seconds ?? null,
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
