/**
 * The crashes: SIGKILL to a service's whole process group (each supervised child has its own), as a
 * machine crash or the OOM killer would leave it: the PostgreSQL postmaster dies with its backends,
 * the worker with its in-flight activities. Then wait for the launcher's supervisor to bring it back.
 */
import { processGroupOf } from '../proc';
import type { Sql } from 'postgres';
import { sleep } from '../concurrency';
import type { RunningSystem, ServiceName } from '../system';
import type { PlannedKill } from './plan';

/** What happened to one planned kill. */
export interface KillRecord {
  service: ServiceName;
  /** When it was planned and when it happened, in ms after the first approval was sent. */
  plannedAtMs: number;
  killedAtMs: number;
  oldPid: number;
  newPid?: number;
  /** From the kill until the supervisor had started a new process. */
  restartMs?: number;
  /**
   * From the kill until the service served again: a new PID, `/health` answering 200, and for the
   * worker its own heartbeat row (a dead worker's pollers and heartbeat look alive for up to 10 s).
   */
  recoveryMs?: number;
  /** Why it never recovered, if it did not. */
  error?: string;
}

/** Longest wait for a killed service to be back; the supervisor's back-off alone is 1 s for a first crash. */
const RECOVERY_TIMEOUT_MS = 180_000;

async function healthy(apiUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(5000) })).status === 200;
  } catch {
    return false;
  }
}

/** SIGKILLs the process group of `service` now; returns the PID it killed. */
export function killService(system: RunningSystem, service: ServiceName): number {
  const pid = system.pidOf(service);
  if (pid === undefined) throw new Error(`${service} is not running: nothing to kill`);
  const group = processGroupOf(pid);
  // Never our own group, nor the launcher's: only the service's own.
  if (group === processGroupOf(process.pid) || group === system.launcher.pid) {
    throw new Error(`${service} (pid ${pid}) shares a process group with the launcher or the crash test`);
  }
  process.kill(-group, 'SIGKILL');
  return pid;
}

/** Whether the worker with this PID has written its heartbeat (it does once it polls every queue). */
async function workerBeats(sql: Sql, pid: number): Promise<boolean> {
  try {
    return (await sql`select 1 from worker_heartbeats where identity like ${`${pid}@%`}`).length > 0;
  } catch {
    return false;
  }
}

/**
 * Waits until `service` runs under a PID other than `oldPid` (noted in `record.restartMs`) and serves
 * (see KillRecord.recoveryMs).
 */
async function waitForRecovery(system: RunningSystem, sql: Sql, record: KillRecord, killedAt: number): Promise<void> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const pid = system.pidOf(record.service);
    if (pid !== undefined && pid !== record.oldPid) {
      if (record.newPid !== pid) {
        record.newPid = pid;
        record.restartMs = Date.now() - killedAt;
      }
      const serving = record.service !== 'worker' || (await workerBeats(sql, pid));
      if (serving && (await healthy(system.apiUrl))) {
        record.recoveryMs = Date.now() - killedAt;
        return;
      }
    }
    await sleep(200);
  }
  throw new Error(`${record.service} not back within ${RECOVERY_TIMEOUT_MS / 1000} s`);
}

/**
 * Carries out the kills in order, each at its planned moment after `startedAt` or, if the previous
 * service is not back by then, as soon as it is. `log` hears each step.
 */
export async function runKills(
  system: RunningSystem,
  sql: Sql,
  kills: readonly PlannedKill[],
  startedAt: number,
  log: (line: string) => void,
): Promise<KillRecord[]> {
  const records: KillRecord[] = [];
  for (const planned of kills) {
    const wait = startedAt + planned.atMs - Date.now();
    if (wait > 0) await sleep(wait);
    const killedAt = Date.now();
    const record: KillRecord = {
      service: planned.service,
      plannedAtMs: planned.atMs,
      killedAtMs: killedAt - startedAt,
      oldPid: killService(system, planned.service),
    };
    records.push(record);
    log(`t+${(record.killedAtMs / 1000).toFixed(1)} s: SIGKILL ${planned.service} (pid ${record.oldPid})`);
    try {
      await waitForRecovery(system, sql, record, killedAt);
      log(
        `${planned.service} restarted as pid ${record.newPid} after ${(record.restartMs! / 1000).toFixed(1)} s, ` +
          `serving after ${(record.recoveryMs! / 1000).toFixed(1)} s`,
      );
    } catch (error) {
      record.error = (error as Error).message;
      log(record.error);
      break;
    }
  }
  return records;
}
