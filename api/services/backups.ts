import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { and, eq, ne, or, type SQL } from 'drizzle-orm';
import { backupWorkflowId, SYSTEM_TASKS } from '../../common';
import { recordAudit, schema, type BackupConfigRow, type Database } from '../../db';
import { destinationProblem, systemDirs } from '../../backups/paths';
import { SYSTEM_SCHEDULES } from '../../schedules/system-schedules';
import { isUuid } from '../../lib/dates';
import { isWorkflowRunning } from '../../lib/temporal';
import { badRequest, conflict, notFound } from '../errors';
import type { CreateBackupConfigBody, UpdateBackupConfigBody } from '../schemas/backups';

const { backupConfigs } = schema;

/** What the backup services need: the configurations here, runs (./backup-runs) and restores (./restores). */
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
export const BACKUP_TASK_QUEUE = SYSTEM_TASKS.run_scheduled_backup.taskQueue;

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

/** Backup configurations by name. */
export async function listConfigs(db: Database) {
  const rows = await db.select().from(backupConfigs).orderBy(backupConfigs.name);
  return { configs: rows.map(configView) };
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
  if (next.name !== current.name && (await isWorkflowRunning(deps.temporal, backupWorkflowId(current.name)))) {
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
