import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';

/**
 * The p-th percentile (0-100) of `values` by the nearest-rank method: the smallest value with at
 * least p % of the values at or below it. NaN for no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** p50, p99 and max of a sample, in the sample's own unit, plus its size. */
export function summarize(values: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

/** `value` rounded to `digits` decimals (figures in reports, not in computations). */
export const round = (value: number, digits = 3): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** A goal of the issue, checked against one figure of a scenario. */
export interface Goal {
  /** The figure's key in the scenario's `figures` (its unit is in the key: `_s`, `_ms`, `_mb`, `_per_s`, `ratio`). */
  figure: string;
  op: '<=' | '>=';
  threshold: number;
  /** The figure measured; null when the run could not measure it (counted as a miss). */
  value: number | null;
  pass: boolean;
}

/** A goal checked: `value op threshold`; a missing or NaN value misses it. */
export function goal(figure: string, value: number | null | undefined, op: Goal['op'], threshold: number): Goal {
  const measured = value === undefined || value === null || Number.isNaN(value) ? null : value;
  const pass = measured !== null && (op === '<=' ? measured <= threshold : measured >= threshold);
  return { figure, op, threshold, value: measured, pass };
}

/** What a scenario hands back; main.ts adds the run's context and writes it out. */
export interface ScenarioOutcome {
  /** The sizes and settings it ran with (documents, concurrency, durations). */
  inputs: Record<string, unknown>;
  /** Everything measured, units in the key names. */
  figures: Record<string, unknown>;
  goals: Goal[];
  /** The figures worth one line on stdout, in order (`key=value`). */
  headline: Record<string, string | number>;
  /** What the scenario ran on where that is not the system's own servers (e.g. its own Temporal). */
  target?: Partial<Target>;
}

/** The Temporal service and database a run measured. */
export interface Target {
  temporal: string;
  database: string;
}

/** The servers bench/system.ts runs: its own, or the cluster and database the environment names. */
export function systemTarget(): Target {
  return {
    temporal: process.env.TEMPORAL_ADDRESS || 'embedded dev server',
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL',
  };
}

/** The machine a run measured, so results from different machines are not compared blindly. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? 'unknown',
    memory_mb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    load_average_at_start: os.loadavg().map((load) => round(load, 2)),
  };
}

/** The commit measured, when the project is a git checkout. */
export function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** One scenario's result as written to `<dir>/<scenario>.json`. */
export interface ScenarioReport extends Omit<ScenarioOutcome, 'headline' | 'target'> {
  scenario: string;
  started_at: string;
  duration_s: number;
  machine: ReturnType<typeof machineInfo>;
  /** systemTarget(), with what the scenario's outcome says it ran on instead. */
  target: Target;
  commit: string | null;
  pass: boolean;
}

export async function writeReport(dir: string, report: ScenarioReport): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${report.scenario}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

const formatNumber = (value: number) => (Number.isInteger(value) ? String(value) : String(round(value, 3)));

/** `burst n=1000 last_effective_s=46.7 baseline_s=14.7 ratio=3.18 goal ratio<=1.3 FAIL`: one line per scenario. */
export function reportLine(scenario: string, outcome: ScenarioOutcome): string {
  const figures = Object.entries(outcome.headline).map(
    ([key, value]) => `${key}=${typeof value === 'number' ? formatNumber(value) : value}`,
  );
  const goals = outcome.goals.map(
    (g) =>
      `goal ${g.figure}${g.op}${formatNumber(g.threshold)} ${g.value === null ? 'n/a ' : ''}${g.pass ? 'PASS' : 'FAIL'}`,
  );
  const pass = outcome.goals.every((g) => g.pass);
  return [scenario, ...figures, ...goals, pass ? '=> PASS' : '=> FAIL'].join(' ');
}
