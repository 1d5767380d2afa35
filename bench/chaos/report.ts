/** The crash test's figures: printed for people, and written as JSON for CI and comparisons. */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChaosOptions } from './plan';
import type { CheckResult } from './checks';
import type { KillRecord } from './kills';

export interface ChaosReport {
  options: Omit<ChaosOptions, 'keepData' | 'echo'>;
  machine: { cpus: number; memoryGiB: number; node: string };
  /** Seconds spent starting the system, preparing, approving, until quiet, and in all. */
  durationsS: Record<string, number>;
  kills: KillRecord[];
  /** p50, p99, max in seconds, and how many were measured. */
  lateness: Record<'effective' | 'obsolete', { n: number; p50: number; p99: number; max: number }>;
  /** The latest transitions, with their instants in seconds after the first approval (to set beside the kills). */
  latest: { event: string; number: string; requestedAtS: number; happenedAtS: number; latenessS: number }[];
  counts: Record<string, number>;
  /** Transient failures the client met and rode out, by kind (`ECONNREFUSED`, `503 temporal_unavailable`). */
  transientFailures: Record<string, number>;
  /** 500 answers (a 500 is a fault of the system): retried like the rest, listed for the record. */
  serverFaults: string[];
  /** Emails the SMTP server got twice, same Message-ID, after their sender died mid-delivery (see CheckResult). */
  redelivered: string[];
  problems: string[];
  pass: boolean;
}

/** The q-quantile (0..1) of `values` by the nearest-rank method; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function summary(values: readonly number[]) {
  return { n: values.length, p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: quantile(values, 1) };
}

export function buildReport(
  options: ChaosOptions,
  startedAt: number,
  durationsS: Record<string, number>,
  kills: KillRecord[],
  checks: CheckResult,
  client: { transients: Map<string, number>; serverFaults: string[] },
  extraProblems: string[],
): ChaosReport {
  const { m, seed, effectiveSeconds, obsoleteSeconds, concurrency, quietTimeoutSeconds } = options;
  const problems = [...extraProblems, ...checks.problems];
  return {
    options: { m, seed, effectiveSeconds, obsoleteSeconds, concurrency, quietTimeoutSeconds },
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    durationsS,
    kills,
    lateness: { effective: summary(checks.effectiveLatenessS), obsolete: summary(checks.obsoleteLatenessS) },
    latest: [...checks.timed]
      .sort((a, b) => b.actualMs - b.requestedMs - (a.actualMs - a.requestedMs))
      .slice(0, 8)
      .map((t) => ({
        event: t.event,
        number: t.number,
        requestedAtS: (t.requestedMs - startedAt) / 1000,
        happenedAtS: (t.actualMs - startedAt) / 1000,
        latenessS: (t.actualMs - t.requestedMs) / 1000,
      })),
    counts: checks.counts,
    transientFailures: Object.fromEntries(client.transients),
    serverFaults: client.serverFaults,
    redelivered: checks.redelivered,
    problems,
    pass: problems.length === 0,
  };
}

const s = (value: number | undefined) => (value === undefined || Number.isNaN(value) ? '-' : `${value.toFixed(2)} s`);

/** The report as people read it. */
export function formatReport(report: ChaosReport): string {
  const lines = [
    `chaos: M=${report.options.m} seed=${report.options.seed} ${report.pass ? 'PASS' : 'FAIL'}`,
    `durations: ${Object.entries(report.durationsS)
      .map(([name, value]) => `${name} ${value.toFixed(1)} s`)
      .join(', ')}`,
    'kills (t = seconds after the first approval):',
    ...report.kills.map(
      (kill) =>
        `  t+${(kill.killedAtMs / 1000).toFixed(1)} s  ${kill.service.padEnd(8)} pid ${kill.oldPid} -> ${kill.newPid ?? '?'}` +
        `  restarted after ${s(kill.restartMs === undefined ? undefined : kill.restartMs / 1000)},` +
        ` serving after ${kill.recoveryMs === undefined ? kill.error : s(kill.recoveryMs / 1000)}`,
    ),
    ...(['effective', 'obsolete'] as const).map((event) => {
      const l = report.lateness[event];
      return `lateness ${event.toUpperCase()}: n=${l.n} p50 ${s(l.p50)} p99 ${s(l.p99)} max ${s(l.max)}`;
    }),
    'latest transitions (t = seconds after the first approval):',
    ...report.latest.map(
      (t) =>
        `  ${t.event.padEnd(9)} ${t.number} due t+${t.requestedAtS.toFixed(1)} s, happened t+${t.happenedAtS.toFixed(1)} s (${s(t.latenessS)} late)`,
    ),
    `counts: ${Object.entries(report.counts)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ')}`,
    `transient failures ridden out: ${
      Object.entries(report.transientFailures)
        .map(([kind, n]) => `${kind} ×${n}`)
        .join(', ') || 'none'
    }`,
  ];
  if (report.serverFaults.length > 0) {
    lines.push(
      `500 answers (${report.serverFaults.length}):`,
      ...report.serverFaults.slice(0, 20).map((f) => `  ${f}`),
    );
  }
  if (report.redelivered.length > 0) {
    lines.push(
      `emails redelivered after a sender died between the SMTP hand-off and the sent mark (same Message-ID) (${report.redelivered.length}):`,
      ...report.redelivered.map((line) => `  ${line}`),
    );
  }
  if (report.problems.length > 0) {
    lines.push(`PROBLEMS (${report.problems.length}):`, ...report.problems.slice(0, 200).map((p) => `  ${p}`));
  }
  return lines.join('\n');
}

/** Writes the report to `file` (bench/results/chaos.json by default). */
export async function writeReport(report: ChaosReport, file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}
