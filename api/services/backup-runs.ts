import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { backupWorkflowId, ON_DEMAND_BACKUP_CONFIG, type BackupInput } from '../../common';
import { recordBackupRunStart, schema, type BackupRunRow, type Database } from '../../db';
import { conflict, notFound } from '../errors';
import { BACKUP_TASK_QUEUE, findConfig, type BackupServiceDeps } from './backups';

const { backupConfigs, backupRuns } = schema;

export function runView(row: BackupRunRow, config: string | null) {
  return {
    id: row.id,
    config_id: row.configId,
    config,
    backup_type: row.backupType,
    status: row.status,
    started_at: row.startedAt.toISOString(),
    finished_at: row.finishedAt?.toISOString() ?? null,
    duration_seconds: row.durationSeconds,
    size_bytes: row.sizeBytes,
    path: row.path,
    sha256: row.sha256,
    verification: row.verification ?? null,
    error: row.error,
    triggered_by: row.triggeredBy,
    workflow_id: row.workflowId,
    deleted_at: row.deletedAt?.toISOString() ?? null,
  };
}

/** Runs with the name of their configuration (null once the configuration is gone). */
const runsWithConfig = (db: Database) =>
  db
    .select({ run: backupRuns, config: backupConfigs.name })
    .from(backupRuns)
    .leftJoin(backupConfigs, eq(backupConfigs.id, backupRuns.configId));

/** A backup run and its configuration's name; 404 when there is no such run. */
export async function findRun(db: Database, id: string) {
  const [row] = await runsWithConfig(db).where(eq(backupRuns.id, id));
  if (!row) throw notFound(`No backup ${id}`);
  return row;
}

/** Backup runs, newest first. */
export async function listRuns(db: Database, filter: { status?: string; type?: string; limit: number }) {
  const filters: SQL[] = [];
  if (filter.status) filters.push(eq(backupRuns.status, filter.status as BackupRunRow['status']));
  if (filter.type) filters.push(eq(backupRuns.backupType, filter.type as BackupRunRow['backupType']));
  const rows = await runsWithConfig(db)
    .where(and(...filters))
    .orderBy(desc(backupRuns.startedAt))
    .limit(filter.limit);
  return { backups: rows.map((row) => runView(row.run, row.config)) };
}

/** One run as `GET /:id` shows it, with its manifest. */
export async function describeRun(db: Database, id: string) {
  const { run, config } = await findRun(db, id);
  return { ...runView(run, config), manifest: run.manifest ?? null };
}

/**
 * The archive of a run that succeeded, when it is still on disk: retention may have deleted it,
 * and a restore from before may have brought back a row whose file is gone.
 */
export async function archiveOnDisk(run: BackupRunRow): Promise<{ path: string; sizeBytes: number } | undefined> {
  if (run.status !== 'succeeded' || !run.path || run.deletedAt) return undefined;
  const info = await stat(run.path).catch(() => undefined);
  return info && { path: run.path, sizeBytes: info.size };
}

/** The archive to download, with its checksum; 404 when the run has none on disk. */
export async function downloadableArchive(db: Database, id: string) {
  const { run } = await findRun(db, id);
  const archive = await archiveOnDisk(run);
  if (!archive) throw notFound(`Backup ${run.id} has no archive on disk (status ${run.status})`);
  return { ...archive, sha256: run.sha256 };
}

/** Starts the configuration's backup workflow now; a backup of it already running is a 409. */
export async function startBackup(deps: BackupServiceDeps, reference: string | undefined, actor: string) {
  const config = await findConfig(deps.db, reference ?? ON_DEMAND_BACKUP_CONFIG);
  if (!config.enabled) {
    throw conflict('config_disabled', `Backup configuration ${config.name} is disabled; enable it first`);
  }
  const input: BackupInput = { backupRunId: randomUUID(), configId: config.id, triggeredBy: actor };
  const workflowId = backupWorkflowId(config.name);
  // The run is recorded in the transaction that starts its workflow, so the 202 names a run that
  // GET /api/v1/backups/:id already finds; a refused start (one of this configuration runs) rolls
  // the record back and answers 409. The workflow's first step finds the row and writes nothing.
  try {
    return await deps.db.transaction(async (tx) => {
      await recordBackupRunStart(tx, {
        backupRunId: input.backupRunId,
        config,
        workflowId,
        workflowRunId: null,
        triggeredBy: actor,
      });
      const handle = await deps.temporal.workflow.start('backup', {
        taskQueue: BACKUP_TASK_QUEUE,
        workflowId,
        args: [input],
      });
      await tx
        .update(backupRuns)
        .set({ workflowRunId: handle.firstExecutionRunId })
        .where(eq(backupRuns.id, input.backupRunId));
      return {
        backup_id: input.backupRunId,
        config: config.name,
        backup_type: config.backupType,
        status: 'running' as const,
        workflow_id: workflowId,
        run_id: handle.firstExecutionRunId,
      };
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    throw conflict('backup_in_progress', `A backup of ${config.name} is already running`, { workflow_id: workflowId });
  }
}
