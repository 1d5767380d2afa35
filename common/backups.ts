/** The kinds of backup the old shell scripts made; each has its own directory under EDMS_BACKUP_DIR. */
export const BACKUP_TYPES = ['full', 'export', 'archive'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

/** A backup run: `running` until its archive is packaged (or the attempt gave up). */
export const BACKUP_RUN_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type BackupRunStatus = (typeof BACKUP_RUN_STATUSES)[number];

/** `checksums` re-reads the archive; `restore` also restores it into a scratch database and compares. */
export const BACKUP_VERIFY_MODES = ['checksums', 'restore'] as const;
export type BackupVerifyMode = (typeof BACKUP_VERIFY_MODES)[number];

/** The configuration `POST /api/v1/backups` runs when none is named. */
export const ON_DEMAND_BACKUP_CONFIG = 'on-demand-full';

/**
 * One workflow id per configuration: Temporal refuses a second start while one runs, so backups of
 * one configuration never overlap, whoever starts them.
 */
export const backupWorkflowId = (configName: string) => `backup-${configName}`;

/** One restore at a time: two restores into one database would undo each other. */
export const RESTORE_WORKFLOW_ID = 'restore-backup';

/** Input of the `backup` workflow. */
export interface BackupInput {
  /** The backup run's id (the API names it before starting, so it can answer with it). */
  backupRunId: string;
  configId: string;
  /** The system-task run that asked for it (a schedule or a manual trigger), if any. */
  executionId?: string;
  triggeredBy: string;
  /** This run's verification instead of the configuration's (a backup job's `verify`). */
  verifyMode?: BackupVerifyMode;
}

/** What a finished backup reports (the system task's result, the run row's columns). */
export interface BackupOutcome {
  backup_run_id: string;
  config: string;
  type: BackupType;
  path: string;
  size_bytes: number;
  sha256: string;
  verification: Record<string, unknown>;
  files: { name: string; size_bytes: number; sha256: string }[];
  row_counts: Record<string, number>;
}

/** Input of the `restoreBackup` workflow. */
export interface RestoreInput {
  backupRunId: string;
  dryRun: boolean;
  requestedBy: string;
}

interface PlannedBackup {
  backupRunId: string;
  config: string;
  type: BackupType;
}

/** The steps of a backup, as the workflow's activity proxies or the activities themselves. */
export interface BackupSteps<
  Dump extends { file: BackupOutcome['files'][number]; row_counts: Record<string, number> },
> {
  dumpDatabase(plan: PlannedBackup): Promise<Dump>;
  archiveStorage(plan: PlannedBackup): Promise<BackupOutcome['files'][number]>;
  packageBackup(
    request: PlannedBackup & { dump: Dump; storage: BackupOutcome['files'][number] },
  ): Promise<Pick<BackupOutcome, 'path' | 'size_bytes' | 'sha256' | 'verification'>>;
  finishBackupRun(request: { backupRunId: string; outcome?: BackupOutcome; error?: string }): Promise<unknown>;
}

/**
 * One backup after its run has begun: dump, storage, package; the run is finished either way.
 * Shared by the `backup` workflow and the single-activity path older system-task runs replay.
 */
export async function performBackup<
  Dump extends { file: BackupOutcome['files'][number]; row_counts: Record<string, number> },
>(steps: BackupSteps<Dump>, plan: PlannedBackup, describeError: (error: unknown) => string): Promise<BackupOutcome> {
  try {
    const dump = await steps.dumpDatabase(plan);
    const storage = await steps.archiveStorage(plan);
    const published = await steps.packageBackup({ ...plan, dump, storage });
    const outcome: BackupOutcome = {
      backup_run_id: plan.backupRunId,
      config: plan.config,
      type: plan.type,
      ...published,
      files: [dump.file, storage],
      row_counts: dump.row_counts,
    };
    await steps.finishBackupRun({ backupRunId: plan.backupRunId, outcome });
    return outcome;
  } catch (error) {
    await steps.finishBackupRun({ backupRunId: plan.backupRunId, error: describeError(error) });
    throw error;
  }
}
