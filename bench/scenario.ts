import { readFileSync } from 'node:fs';
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
