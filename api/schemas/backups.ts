import { Type, type Static } from '@sinclair/typebox';
import { BACKUP_RUN_STATUSES, BACKUP_TYPES, BACKUP_VERIFY_MODES } from '../../common';
import { MultiLineText, Nullable, OrNull, SingleLineText } from './common';

export const BackupRun = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    config_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    config: Type.Union([Type.String(), Type.Null()], { description: 'The configuration name' }),
    backup_type: Type.String({ enum: [...BACKUP_TYPES] }),
    status: Type.String({ enum: [...BACKUP_RUN_STATUSES] }),
    started_at: Type.String({ format: 'date-time' }),
    finished_at: OrNull(Type.String({ format: 'date-time' })),
    duration_seconds: Type.Union([Type.Number(), Type.Null()]),
    size_bytes: Type.Union([Type.Integer(), Type.Null()]),
    path: OrNull(Type.String()),
    sha256: OrNull(Type.String()),
    verification: Type.Unknown(),
    error: OrNull(Type.String()),
    triggered_by: OrNull(Type.String()),
    workflow_id: OrNull(Type.String()),
    deleted_at: OrNull(Type.String({ format: 'date-time', description: 'When retention removed the archive' })),
  },
  { $id: 'BackupRun' },
);

const configName = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{0,62}$',
  description: 'Lowercase letters, digits and dashes; also names the backup workflow (backup-<name>)',
});
const keepLast = Nullable(
  Type.Integer({
    minimum: 1,
    maximum: 1000,
    description: 'Keep at most this many archives (the newest is always kept)',
  }),
  'no count limit (max_age_days must then be set)',
);
const maxAgeDays = Nullable(
  Type.Integer({
    minimum: 1,
    maximum: 36500,
    description: 'Delete archives older than this many days (never the newest)',
  }),
  'no age limit (keep_last must then be set)',
);
const scheduleId = Nullable(
  SingleLineText({
    maxLength: 200,
    description: 'The backup schedule that runs this configuration (backup-daily-full...)',
  }),
  'on demand only',
);
const destination = Nullable(
  SingleLineText({ maxLength: 500, description: 'A directory relative to EDMS_BACKUP_DIR' }),
  'backups/<type>',
);
const verifyMode = Type.String({
  enum: [...BACKUP_VERIFY_MODES],
  description: 'checksums: re-read the archive; restore: also restore it into a scratch database and compare',
});
const description = Nullable(MultiLineText({ maxLength: 1000 }), 'no description');

export const BackupConfig = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    backup_type: Type.String({ enum: [...BACKUP_TYPES] }),
    schedule_id: OrNull(Type.String()),
    keep_last: Type.Union([Type.Integer(), Type.Null()]),
    max_age_days: Type.Union([Type.Integer(), Type.Null()]),
    verify_mode: Type.String({ enum: [...BACKUP_VERIFY_MODES] }),
    destination: OrNull(Type.String()),
    enabled: Type.Boolean(),
    description: OrNull(Type.String()),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'BackupConfig' },
);

export const CreateBackupConfigBody = Type.Object(
  {
    name: configName,
    backup_type: Type.String({ enum: [...BACKUP_TYPES] }),
    schedule_id: Type.Optional(scheduleId),
    keep_last: Type.Optional(keepLast),
    max_age_days: Type.Optional(maxAgeDays),
    verify_mode: Type.Optional(verifyMode),
    destination: Type.Optional(destination),
    enabled: Type.Optional(Type.Boolean()),
    description: Type.Optional(description),
  },
  { additionalProperties: false },
);
export type CreateBackupConfigBody = Static<typeof CreateBackupConfigBody>;

export const UpdateBackupConfigBody = Type.Partial(CreateBackupConfigBody, {
  additionalProperties: false,
  minProperties: 1,
});
export type UpdateBackupConfigBody = Static<typeof UpdateBackupConfigBody>;

export const StartBackupBody = Type.Object(
  {
    config: Type.Optional(
      SingleLineText({ maxLength: 100, description: 'Configuration name or id (default on-demand-full)' }),
    ),
  },
  { additionalProperties: false },
);

export const StartedBackup = Type.Object({
  backup_id: Type.String({ format: 'uuid', description: 'The backup run (GET /api/v1/backups/{backup_id})' }),
  config: Type.String(),
  backup_type: Type.String({ enum: [...BACKUP_TYPES] }),
  status: Type.Literal('running'),
  workflow_id: Type.String(),
  run_id: Type.String(),
});

export const RestoreBody = Type.Object(
  {
    confirm: Type.Optional(
      SingleLineText({
        maxLength: 100,
        description: 'The backup id again: a real restore replaces the database and storage',
      }),
    ),
    dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Verify and list what would be restored' })),
  },
  { additionalProperties: false },
);

/** A restore's state, as Temporal reports its workflow: running, then completed (with its report) or failed. */
export const RESTORE_STATUSES = ['running', 'completed', 'failed'] as const;
export type RestoreStatus = (typeof RESTORE_STATUSES)[number];

export const RestoreState = Type.Object({
  restore_id: Type.String({ description: 'The restore workflow run' }),
  workflow_id: Type.String(),
  backup_id: Type.Union([Type.String(), Type.Null()]),
  dry_run: Type.Boolean(),
  status: Type.String({ enum: [...RESTORE_STATUSES] }),
  requested_by: Type.Union([Type.String(), Type.Null()]),
  report: Type.Unknown({
    description:
      'Rows per table expected and restored, storage entries, verification, restore_options, the point returned to ' +
      '(backup_id, backup_timestamp, highest_audit_id), what was superseded and kept (audit entries re-appended, ' +
      'backup runs brought back or updated, archives catalogued), extra_objects left alone, audit_entry_id',
  }),
  error: Type.Union([Type.String(), Type.Null()]),
});

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ListBackupsQuery = Type.Object({
  status: Type.Optional(Type.String({ enum: [...BACKUP_RUN_STATUSES] })),
  type: Type.Optional(Type.String({ enum: [...BACKUP_TYPES] })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
});

export const RestoreIdParams = Type.Object({
  restore_id: Type.String({
    minLength: 1,
    maxLength: 100,
    description: 'The restore workflow run id (a UUID)',
  }),
});

export const ConfigParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 100, description: 'Id or name' }),
});
