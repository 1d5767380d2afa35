import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { and, eq, ne, or, type SQL } from 'drizzle-orm';
import {
  backupWorkflowId,
  ON_DEMAND_BACKUP_CONFIG,
  RESTORE_WORKFLOW_ID,
  SYSTEM_TASKS,
  type BackupInput,
  type RestoreInput,
} from '../../common';
import { recordAudit, recordBackupRunStart, schema, type BackupConfigRow, type Database } from '../../db';
import { destinationProblem, systemDirs } from '../../backups/paths';
import { SYSTEM_SCHEDULES } from '../../schedules/system-schedules';
import { ApiError, badRequest, conflict, notFound } from '../errors';
import type { CreateBackupConfigBody, UpdateBackupConfigBody } from '../schemas/backups';
import { isUuid } from '../../lib/dates';

const { backupConfigs, backupRuns } = schema;

export interface BackupServiceDeps {
  db: Database;
  temporal: Client;
  /** Where data lives, so a configuration cannot send archives into it (unset: only the static checks). */
  directories?: BackupDirectories;
}

export interface BackupDirectories {
  dataDir: string;
  storageDir: string;
  exportsDir: string;
  backupDir: string;
}

/** Backups and restores run on the maintenance queue, as the backup system task does. */
const BACKUP_TASK_QUEUE = SYSTEM_TASKS.run_scheduled_backup.taskQueue;

const BACKUP_SCHEDULE_IDS = SYSTEM_SCHEDULES.filter((s) => s.taskName === 'run_scheduled_backup').map(
  (s) => s.scheduleId,
);

export function configView(row: BackupConfigRow) {
  return {
    id: row.id,
    name: row.name,
    backup_type: row.backupType,
    schedule_id: row.scheduleId,
    keep_last: row.keepLast,
    max_age_days: row.maxAgeDays,
    verify_mode: row.verifyMode,
    destination: row.destination,
    enabled: row.enabled,
    description: row.description,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export async function findConfig(db: Database, reference: string): Promise<BackupConfigRow> {
  const match: SQL = isUuid(reference)
    ? or(eq(backupConfigs.id, reference), eq(backupConfigs.name, reference))!
    : eq(backupConfigs.name, reference);
  const [row] = await db.select().from(backupConfigs).where(match);
  if (!row) throw notFound(`No backup configuration ${reference}`);
  return row;
}

/** The rules a configuration must keep that its JSON schema cannot say. */
async function checkConfig(deps: BackupServiceDeps, config: Omit<BackupConfigRow, 'createdAt' | 'updatedAt'>) {
  if (config.keepLast === null && config.maxAgeDays === null) {
    throw badRequest('retention_required', 'Set keep_last, max_age_days or both: archives are never kept forever', {
      fields: ['keep_last', 'max_age_days'],
    });
  }
  const problem =
    config.destination === null
      ? undefined
      : destinationProblem(
          config.destination,
          deps.directories && {
            backupDir: deps.directories.backupDir,
            systemDirs: systemDirs(deps.directories),
          },
        );
  if (problem) throw badRequest('invalid_destination', `destination ${problem}`, { field: 'destination' });
  if (config.scheduleId !== null && !BACKUP_SCHEDULE_IDS.includes(config.scheduleId)) {
    throw badRequest('unknown_schedule', `schedule_id must be one of ${BACKUP_SCHEDULE_IDS.join(', ')} or null`, {
      field: 'schedule_id',
      allowed: BACKUP_SCHEDULE_IDS,
    });
  }
  const clashes = await deps.db
    .select({ name: backupConfigs.name, scheduleId: backupConfigs.scheduleId })
    .from(backupConfigs)
    .where(
      and(
        ne(backupConfigs.id, config.id),
        config.scheduleId === null
          ? eq(backupConfigs.name, config.name)
          : or(eq(backupConfigs.name, config.name), eq(backupConfigs.scheduleId, config.scheduleId)),
      ),
    );
  const sameName = clashes.find((clash) => clash.name === config.name);
  if (sameName) throw conflict('config_name_taken', `A backup configuration is already named ${config.name}`);
  const sameSchedule = clashes.find((clash) => clash.scheduleId === config.scheduleId);
  if (sameSchedule) {
    throw conflict('schedule_taken', `Schedule ${config.scheduleId} already runs configuration ${sameSchedule.name}`, {
      config: sameSchedule.name,
    });
  }
}

async function backupRunning(temporal: Client, configName: string): Promise<boolean> {
  return temporal.workflow
    .getHandle(backupWorkflowId(configName))
    .describe()
    .then((description) => description.status.name === 'RUNNING')
    .catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    });
}

export async function createConfig(deps: BackupServiceDeps, body: CreateBackupConfigBody, actor: string) {
  const values = {
    id: randomUUID(),
    name: body.name,
    backupType: body.backup_type as BackupConfigRow['backupType'],
    scheduleId: body.schedule_id ?? null,
    keepLast: body.keep_last ?? null,
    maxAgeDays: body.max_age_days ?? null,
    verifyMode: (body.verify_mode ?? 'checksums') as BackupConfigRow['verifyMode'],
    destination: body.destination ?? null,
    enabled: body.enabled ?? true,
    description: body.description ?? null,
  };
  await checkConfig(deps, values);
  return deps.db.transaction(async (tx) => {
    const [row] = await tx.insert(backupConfigs).values(values).returning();
    await recordAudit(tx, {
      action: 'BACKUP_CONFIG_CREATED',
      actor,
      entityType: 'backup_config',
      entityId: row!.id,
      details: configView(row!),
    });
    return configView(row!);
  });
}

export async function updateConfig(
  deps: BackupServiceDeps,
  reference: string,
  body: UpdateBackupConfigBody,
  actor: string,
) {
  const current = await findConfig(deps.db, reference);
  const next = {
    ...current,
    ...(body.name !== undefined && { name: body.name }),
    ...(body.backup_type !== undefined && { backupType: body.backup_type as BackupConfigRow['backupType'] }),
    ...(body.schedule_id !== undefined && { scheduleId: body.schedule_id }),
    ...(body.keep_last !== undefined && { keepLast: body.keep_last }),
    ...(body.max_age_days !== undefined && { maxAgeDays: body.max_age_days }),
    ...(body.verify_mode !== undefined && { verifyMode: body.verify_mode as BackupConfigRow['verifyMode'] }),
    ...(body.destination !== undefined && { destination: body.destination }),
    ...(body.enabled !== undefined && { enabled: body.enabled }),
    ...(body.description !== undefined && { description: body.description }),
  };
  await checkConfig(deps, next);
  // The name is the backup workflow's id: renaming under a running backup would let a second overlap it.
  if (next.name !== current.name && (await backupRunning(deps.temporal, current.name))) {
    throw conflict('backup_in_progress', `A backup of ${current.name} is running; rename it once it has finished`);
  }
  const changes = Object.fromEntries(
    Object.entries(configView({ ...next, updatedAt: current.updatedAt })).filter(
      ([key, value]) => (configView(current) as Record<string, unknown>)[key] !== value,
    ),
  );
  if (Object.keys(changes).length === 0) return configView(current);
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(backupConfigs)
      .set({
        name: next.name,
        backupType: next.backupType,
        scheduleId: next.scheduleId,
        keepLast: next.keepLast,
        maxAgeDays: next.maxAgeDays,
        verifyMode: next.verifyMode,
        destination: next.destination,
        enabled: next.enabled,
        description: next.description,
        updatedAt: new Date(),
      })
      .where(eq(backupConfigs.id, current.id))
      .returning();
    await recordAudit(tx, {
      action: 'BACKUP_CONFIG_UPDATED',
      actor,
      entityType: 'backup_config',
      entityId: current.id,
      details: { name: row!.name, changes },
    });
    return configView(row!);
  });
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

interface RestoreMemo {
  backup_id: string;
  dry_run: boolean;
  requested_by: string;
}

/** A restore's state from its workflow: running, or its report, or why it failed. */
export async function restoreState(deps: BackupServiceDeps, restoreId: string) {
  const handle = deps.temporal.workflow.getHandle(RESTORE_WORKFLOW_ID, restoreId);
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) throw notFound(`No restore ${restoreId}`);
    throw error;
  });
  const memo = (description.memo ?? {}) as Partial<RestoreMemo>;
  const base = {
    restore_id: restoreId,
    workflow_id: RESTORE_WORKFLOW_ID,
    backup_id: memo.backup_id ?? null,
    dry_run: memo.dry_run ?? false,
    requested_by: memo.requested_by ?? null,
  };
  if (description.status.name === 'RUNNING') return { ...base, status: 'running', report: null, error: null };
  try {
    return { ...base, status: 'completed', report: await handle.result(), error: null };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    let cause: Error | undefined = error;
    while (cause?.cause instanceof Error) cause = cause.cause;
    return { ...base, status: 'failed', report: null, error: cause?.message ?? error.message };
  }
}

/**
 * Restores a backup through the `restoreBackup` workflow (one at a time). A real restore replaces
 * the database and the storage, so it must be confirmed with the backup's id; a dry run needs no
 * confirmation (one that names another backup is refused) and answers with its report at once.
 */
export async function startRestore(
  deps: BackupServiceDeps,
  backupId: string,
  body: { confirm?: string; dry_run?: boolean },
  actor: string,
) {
  const dryRun = body.dry_run ?? false;
  const [run] = await deps.db.select().from(backupRuns).where(eq(backupRuns.id, backupId));
  if (!run) throw notFound(`No backup ${backupId}`);
  // A dry run needs no confirmation, but a confirmation naming another backup is a mistake either way.
  if ((!dryRun || body.confirm !== undefined) && body.confirm !== backupId) {
    throw badRequest(
      'confirmation_required',
      'A restore replaces the database and the document storage: send {"confirm": "<backup id>"} to proceed',
      { field: 'confirm', expected: backupId },
    );
  }
  const onDisk = run.path && !run.deletedAt ? await stat(run.path).catch(() => undefined) : undefined;
  if (run.status !== 'succeeded' || !onDisk) {
    throw conflict('no_archive', `Backup ${backupId} has no archive to restore (status ${run.status})`, {
      status: run.status,
      deleted_at: run.deletedAt?.toISOString() ?? null,
    });
  }
  const input: RestoreInput = { backupRunId: backupId, dryRun, requestedBy: actor };
  const memo: RestoreMemo = { backup_id: backupId, dry_run: dryRun, requested_by: actor };
  let handle;
  try {
    handle = await deps.temporal.workflow.start('restoreBackup', {
      taskQueue: BACKUP_TASK_QUEUE,
      workflowId: RESTORE_WORKFLOW_ID,
      args: [input],
      memo: memo as unknown as Record<string, unknown>,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    throw conflict('restore_in_progress', 'A restore is already running; wait for it to finish', {
      workflow_id: RESTORE_WORKFLOW_ID,
    });
  }
  const restoreId = handle.firstExecutionRunId;
  if (!dryRun) {
    return {
      restore_id: restoreId,
      workflow_id: RESTORE_WORKFLOW_ID,
      backup_id: backupId,
      dry_run: false,
      status: 'running',
      requested_by: actor,
      report: null,
      error: null,
    };
  }
  await handle.result().catch(() => undefined);
  const state = await restoreState(deps, restoreId);
  if (state.status === 'failed') throw new ApiError(422, 'restore_check_failed', state.error ?? 'restore check failed');
  return state;
}
