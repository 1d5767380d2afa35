/** The backup catalogue: configurations and every run, kept as evidence (restores bring it back). */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { BACKUP_RUN_STATUSES, BACKUP_TYPES, BACKUP_VERIFY_MODES, type BackupVerifyMode } from '../../common';
import { createdAt, isOneOf } from './columns';

export const backupType = pgEnum('backup_type', BACKUP_TYPES);
export const backupRunStatus = pgEnum('backup_run_status', BACKUP_RUN_STATUSES);

/** What to back up, when, how to verify, and how long to keep it. Seeded with the four standard ones. */
export const backupConfigs = pgTable(
  'backup_configs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    backupType: backupType('backup_type').notNull(),
    scheduleId: text('schedule_id'),
    /** Keep at most this many archives of the type (the newest is always kept). */
    keepLast: integer('keep_last'),
    /** Delete archives older than this many days (never the newest). */
    maxAgeDays: integer('max_age_days'),
    /** `checksums` re-reads the archive; `restore` also restores it into a scratch database. */
    verifyMode: text('verify_mode').$type<BackupVerifyMode>().notNull().default('checksums'),
    /** Under EDMS_BACKUP_DIR (relative) or an allowed absolute directory; default backups/<type>. */
    destination: text('destination'),
    enabled: boolean('enabled').notNull().default(true),
    description: text('description'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('backup_configs_name_key').on(t.name),
    uniqueIndex('backup_configs_schedule_key').on(t.scheduleId),
    check('backup_configs_verify_mode_check', isOneOf(t.verifyMode, BACKUP_VERIFY_MODES)),
    check('backup_configs_keep_last_check', sql`${t.keepLast} is null or ${t.keepLast} >= 1`),
    check('backup_configs_max_age_check', sql`${t.maxAgeDays} is null or ${t.maxAgeDays} >= 1`),
  ],
);

export type BackupConfigRow = typeof backupConfigs.$inferSelect;

/** One backup attempt, whoever started it. */
export const backupRuns = pgTable(
  'backup_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    configId: uuid('config_id').references(() => backupConfigs.id, { onDelete: 'set null' }),
    /** The system-task run that started it, when one did (a schedule, `temporal schedule trigger`). */
    executionId: uuid('execution_id'),
    /** The backup workflow that made it. */
    workflowId: text('workflow_id'),
    workflowRunId: text('workflow_run_id'),
    triggeredBy: text('triggered_by'),
    backupType: backupType('backup_type').notNull(),
    status: backupRunStatus('status').notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    durationSeconds: numeric('duration_seconds', { precision: 12, scale: 3, mode: 'number' }),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    path: text('path'),
    sha256: text('sha256'),
    manifest: jsonb('manifest').$type<Record<string, unknown>>(),
    verification: jsonb('verification').$type<Record<string, unknown>>(),
    error: text('error'),
    /** A verification chosen for this run (a backup job's `verify`), instead of the configuration's. */
    verifyMode: text('verify_mode').$type<BackupVerifyMode>(),
    /** Set when retention removed the archive: the run's record stays. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('backup_runs_execution_key').on(t.executionId),
    index('backup_runs_started_idx').on(t.startedAt),
    index('backup_runs_status_idx').on(t.status, t.finishedAt),
    index('backup_runs_config_idx').on(t.configId, t.startedAt),
  ],
);

export type BackupRunRow = typeof backupRuns.$inferSelect;
