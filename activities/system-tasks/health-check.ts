import { randomUUID } from 'node:crypto';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SYSTEM_SCHEDULER, type HealthStatus } from '../../common';
import { countLiveWorkers, recordAudit, schema } from '../../db';
import type { SystemTaskDeps, TaskRequest } from './settings';

interface Check {
  status: HealthStatus;
  message: string;
  [detail: string]: unknown;
}

const ok = (message: string, details: Record<string, unknown> = {}): Check => ({
  status: 'HEALTHY',
  message,
  ...details,
});
const worst = (statuses: HealthStatus[]): HealthStatus =>
  statuses.includes('CRITICAL') ? 'CRITICAL' : statuses.includes('UNHEALTHY') ? 'UNHEALTHY' : 'HEALTHY';

/** Fraction thresholds: above the first a resource is UNHEALTHY, above the second CRITICAL. */
const LIMITS = { memory: [0.9, 0.97], disk: [0.85, 0.95], load: [2, 4] } as const;

function graded(value: number, [unhealthy, critical]: readonly [number, number]): HealthStatus {
  return value > critical ? 'CRITICAL' : value > unhealthy ? 'UNHEALTHY' : 'HEALTHY';
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** perform_system_health_check: one verdict from every part the system depends on, stored and audited. */
export function createHealthCheckTask({ database, temporal, settings }: SystemTaskDeps) {
  const { db, sql } = database;

  async function timed<T>(probe: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const started = performance.now();
    const value = await probe();
    return { value, ms: round(performance.now() - started, 1) };
  }

  async function checkDatabase(): Promise<Check> {
    try {
      const { ms } = await timed(() => sql`select 1`);
      return ok('PostgreSQL answers', { latency_ms: ms });
    } catch (error) {
      return { status: 'CRITICAL', message: `PostgreSQL does not answer: ${(error as Error).message}` };
    }
  }

  async function checkWorkflows(): Promise<Check> {
    let reachable: { value: { serverVersion?: string | null }; ms: number };
    try {
      reachable = await timed(() => temporal.workflowService.getSystemInfo({}));
    } catch (error) {
      return { status: 'CRITICAL', message: `Temporal does not answer: ${(error as Error).message}` };
    }
    const details = { latency_ms: reachable.ms, server_version: reachable.value.serverVersion ?? null };
    const pollers: Record<string, number> = {};
    const liveWorkers: Record<string, number> = {};
    try {
      // Temporal keeps a killed worker's pollers listed for a minute or more; the heartbeats tell.
      const live = await countLiveWorkers(sql);
      for (const queue of settings.monitoredTaskQueues) {
        const description = await temporal.workflowService.describeTaskQueue({
          namespace: temporal.options.namespace,
          taskQueue: { name: queue },
        });
        pollers[queue] = description.pollers?.length ?? 0;
        liveWorkers[queue] = live.get(queue) ?? 0;
      }
    } catch (error) {
      return { status: 'UNHEALTHY', message: `cannot count workers: ${(error as Error).message}`, ...details };
    }
    const idle = Object.keys(pollers).filter((queue) => pollers[queue] === 0 || liveWorkers[queue] === 0);
    const counts = { pollers, live_workers: liveWorkers };
    return idle.length > 0
      ? { status: 'UNHEALTHY', message: `no live worker polls ${idle.join(', ')}`, ...details, ...counts }
      : ok('Temporal answers and every task queue has a live worker', { ...details, ...counts });
  }

  /** The audit trail must still refuse changes (the triggers of migration 0001) and keep being written. */
  async function checkAudit(): Promise<Check> {
    const [row] = await sql<{ guards: number; last_day: number }[]>`
      select
        (select count(*)::int from pg_trigger t join pg_class c on c.oid = t.tgrelid
          where c.relname = 'audit_trail' and not t.tgisinternal and t.tgenabled <> 'D') as guards,
        (select count(*)::int from audit_trail where occurred_at > now() - interval '24 hours') as last_day`;
    if (!row || row.guards < 2) {
      return { status: 'CRITICAL', message: 'the audit trail no longer refuses updates and deletes', ...row };
    }
    return ok('the audit trail is append-only', { entries_last_24h: row.last_day });
  }

  async function checkStorage(): Promise<Check> {
    const probe = path.join(settings.storageDir, `.health-${randomUUID()}`);
    try {
      await mkdir(settings.storageDir, { recursive: true });
      await writeFile(probe, 'ok');
      await rm(probe);
    } catch (error) {
      return { status: 'CRITICAL', message: `document storage is not writable: ${(error as Error).message}` };
    }
    const disk = await statfs(settings.storageDir);
    const used = 1 - disk.bavail / disk.blocks;
    const status = graded(used, LIMITS.disk);
    const free_gb = round((disk.bavail * disk.bsize) / 1024 ** 3, 2);
    return {
      status,
      message: status === 'HEALTHY' ? 'document storage is writable' : `disk ${Math.round(used * 100)}% full`,
      path: settings.storageDir,
      disk_used_fraction: round(used),
      free_gb,
    };
  }

  function checkHost(): Check {
    const memoryUsed = 1 - os.freemem() / os.totalmem();
    const loadPerCpu = os.loadavg()[0]! / Math.max(os.cpus().length, 1);
    const status = worst([graded(memoryUsed, LIMITS.memory), graded(loadPerCpu, LIMITS.load)]);
    return {
      status,
      message: status === 'HEALTHY' ? 'CPU and memory within limits' : 'CPU or memory under pressure',
      memory_used_fraction: round(memoryUsed),
      load_per_cpu: round(loadPerCpu),
      cpus: os.cpus().length,
    };
  }

  return {
    async performSystemHealthCheck({ executionId }: TaskRequest) {
      const checks = {
        database: await checkDatabase(),
        workflows: await checkWorkflows(),
        audit: await checkAudit(),
        storage: await checkStorage(),
        host: checkHost(),
      };
      const status = worst(Object.values(checks).map((check) => check.status));
      await db.transaction(async (tx) => {
        const [stored] = await tx
          .insert(schema.systemHealthChecks)
          .values({ status, checks, executionId })
          .onConflictDoNothing({ target: schema.systemHealthChecks.executionId })
          .returning({ id: schema.systemHealthChecks.id });
        if (!stored) return;
        await recordAudit(tx, {
          action: 'SYSTEM_HEALTH_CHECKED',
          actor: SYSTEM_SCHEDULER,
          entityType: 'system_health_check',
          entityId: stored.id,
          idempotencyKey: `health-check:${executionId}`,
          details: {
            status,
            failing: Object.entries(checks)
              .filter(([, c]) => c.status !== 'HEALTHY')
              .map(([n]) => n),
          },
        });
      });
      return { status, checks, timestamp: new Date().toISOString() };
    },
  };
}
