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
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import {
  BACKUP_RUN_STATUSES,
  BACKUP_TYPES,
  BACKUP_VERIFY_MODES,
  DOCUMENT_STATUSES,
  HEALTH_STATUSES,
  JOB_EXECUTION_STATUSES,
  JOB_OVERLAP_POLICIES,
  JOB_STATUSES,
  NOTIFICATION_STATUSES,
  REVIEW_KINDS,
  REVIEW_TASK_STATUSES,
  TASK_EXECUTION_STATUSES,
  TASK_TRIGGERS,
  USER_ROLES,
  type BackupVerifyMode,
  type DstPolicy,
  type JobNotifications,
  type JobOverlapPolicy,
  type JobRetryPolicy,
} from '../common';

/** A check that a text column holds one of the common/ list's values (constants, never user input). */
const isOneOf = (column: AnyPgColumn, values: readonly string[]) =>
  sql`${column} in (${sql.raw(values.map((value) => `'${value}'`).join(', '))})`;

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const userRole = pgEnum('user_role', USER_ROLES);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    displayName: text('display_name'),
    role: userRole('role').notNull(),
    /** Escalations of overdue reviews go to this user (or to the admins when unset). */
    managerId: uuid('manager_id').references((): AnyPgColumn => users.id, { onDelete: 'set null' }),
    active: boolean('active').notNull().default(true),
    passwordHash: text('password_hash').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
    /**
     * Every token carries the generation it was issued under and is refused once it differs. A
     * password change, a deactivation, an admin's revoke-sessions and the user's logout add one, so
     * every earlier token dies for good (reactivation leaves it alone). A counter, not a timestamp:
     * a token issued in the same second as a revocation is still ordered before or after it.
     */
    sessionGeneration: integer('session_generation').notNull().default(0),
  },
  (t) => [uniqueIndex('users_username_key').on(t.username), index('users_role_idx').on(t.role)],
);

/**
 * The regulated audit trail: append-only (a trigger in the migrations refuses UPDATE, DELETE and
 * TRUNCATE). `idempotency_key` lets a retried activity insert its entry exactly once.
 */
export const auditTrail = pgTable(
  'audit_trail',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    action: text('action').notNull(),
    /** A username, or `system_scheduler` / `system` for work nobody triggered by hand. */
    actor: text('actor').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id'),
    details: jsonb('details')
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    requestId: text('request_id'),
    idempotencyKey: text('idempotency_key'),
  },
  (t) => [
    index('audit_trail_entity_idx').on(t.entityType, t.entityId, t.occurredAt),
    index('audit_trail_action_idx').on(t.action, t.occurredAt),
    uniqueIndex('audit_trail_idempotency_key').on(t.idempotencyKey),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type NewAuditEntry = typeof auditTrail.$inferInsert;

export const documentStatus = pgEnum('document_status', DOCUMENT_STATUSES);
export const reviewKind = pgEnum('review_kind', REVIEW_KINDS);
export const reviewTaskStatus = pgEnum('review_task_status', REVIEW_TASK_STATUSES);
export const notificationStatus = pgEnum('notification_status', NOTIFICATION_STATUSES);

/** Numbers documents created without one: DOC-000001, DOC-000002, ... */
export const documentNumberSequence = pgSequence('document_number_seq', { startWith: 1 });

/** One row per version of a controlled document; versions of one document share its number. */
export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    documentNumber: text('document_number').notNull(),
    version: integer('version').notNull().default(1),
    title: text('title').notNull(),
    description: text('description'),
    status: documentStatus('status').notNull().default('DRAFT'),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id),
    supersedesId: uuid('supersedes_id').references((): AnyPgColumn => documents.id),
    effectiveAt: timestamp('effective_at', { withTimezone: true }),
    obsoleteAt: timestamp('obsolete_at', { withTimezone: true }),
    obsolescenceReason: text('obsolescence_reason'),
    workflowId: text('workflow_id').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('documents_number_version_key').on(t.documentNumber, t.version),
    index('documents_status_idx').on(t.status),
    index('documents_effective_at_idx').on(t.effectiveAt),
    index('documents_obsolete_at_idx').on(t.obsoleteAt),
  ],
);

/** Who reviews and who approves a document. */
export const documentAssignees = pgTable(
  'document_assignees',
  {
    documentId: uuid('document_id')
      .notNull()
      .references(() => documents.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    kind: reviewKind('kind').notNull(),
  },
  (t) => [primaryKey({ columns: [t.documentId, t.userId, t.kind] })],
);

/** Every status change of a document, with who did it and why. */
export const documentTransitions = pgTable(
  'document_transitions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    documentId: uuid('document_id')
      .notNull()
      .references(() => documents.id),
    fromStatus: documentStatus('from_status'),
    toStatus: documentStatus('to_status').notNull(),
    /** A username, or `system_scheduler` when a timer made the change. */
    actor: text('actor').notNull(),
    comment: text('comment'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    idempotencyKey: text('idempotency_key').notNull(),
  },
  (t) => [
    uniqueIndex('document_transitions_idempotency_key').on(t.idempotencyKey),
    index('document_transitions_document_idx').on(t.documentId, t.occurredAt),
  ],
);

/** One task per assignee per review or approval round; ids come from the workflow (idempotent inserts). */
export const reviewTasks = pgTable(
  'review_tasks',
  {
    id: uuid('id').primaryKey(),
    documentId: uuid('document_id')
      .notNull()
      .references(() => documents.id),
    round: integer('round').notNull(),
    kind: reviewKind('kind').notNull(),
    assigneeId: uuid('assignee_id')
      .notNull()
      .references(() => users.id),
    status: reviewTaskStatus('status').notNull().default('pending'),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    comment: text('comment'),
    remindersSent: integer('reminders_sent').notNull().default(0),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('review_tasks_document_idx').on(t.documentId, t.round),
    index('review_tasks_open_idx').on(t.status, t.dueAt),
    index('review_tasks_assignee_idx').on(t.assigneeId, t.status),
  ],
);

/**
 * Emails to send. Written in the same transaction as the change that causes them; a sender
 * delivers each row once (idempotency key) and retries failures, so none is lost or sent twice.
 */
export const notificationOutbox = pgTable(
  'notification_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    idempotencyKey: text('idempotency_key').notNull(),
    kind: text('kind').notNull(),
    recipient: text('recipient').notNull(),
    documentId: uuid('document_id').references(() => documents.id),
    variables: jsonb('variables')
      .$type<Record<string, unknown>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    status: notificationStatus('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: createdAt(),
    /** Who is sending it and since when: a lease, so a crashed sender's row is taken over later. */
    claimedBy: text('claimed_by'),
    claimedAt: timestamp('claimed_at', { withTimezone: true }),
    /** The SMTP Message-ID, the same on every attempt so a receiver can drop a duplicate. */
    messageId: text('message_id'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('notification_outbox_idempotency_key').on(t.idempotencyKey),
    index('notification_outbox_status_idx').on(t.status, t.createdAt),
  ],
);

export type DocumentRow = typeof documents.$inferSelect;
export type ReviewTaskRow = typeof reviewTasks.$inferSelect;

export const taskTrigger = pgEnum('task_trigger', TASK_TRIGGERS);
export const taskExecutionStatus = pgEnum('task_execution_status', TASK_EXECUTION_STATUSES);

/** One run of a system task, whoever started it: the history the monitoring API shows. */
export const taskExecutions = pgTable(
  'task_executions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    taskName: text('task_name').notNull(),
    scheduleId: text('schedule_id'),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    trigger: taskTrigger('trigger').notNull(),
    triggeredBy: text('triggered_by').notNull(),
    dryRun: boolean('dry_run').notNull().default(false),
    status: taskExecutionStatus('status').notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    durationSeconds: numeric('duration_seconds', { precision: 12, scale: 3, mode: 'number' }),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: text('error'),
  },
  (t) => [
    uniqueIndex('task_executions_run_key').on(t.workflowId, t.runId),
    index('task_executions_task_idx').on(t.taskName, t.startedAt),
    index('task_executions_started_idx').on(t.startedAt),
  ],
);

export const healthStatus = pgEnum('health_status', HEALTH_STATUSES);

/** Verdicts of perform_system_health_check, newest last. */
export const systemHealthChecks = pgTable(
  'system_health_checks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull().defaultNow(),
    status: healthStatus('status').notNull(),
    checks: jsonb('checks').$type<Record<string, unknown>>().notNull(),
    /** The task execution that produced it: a retried activity finds its row and writes no second. */
    executionId: uuid('execution_id')
      .notNull()
      .references(() => taskExecutions.id, { onDelete: 'cascade' }),
  },
  (t) => [
    uniqueIndex('system_health_checks_execution_key').on(t.executionId),
    index('system_health_checks_at_idx').on(t.checkedAt),
  ],
);

export type TaskExecutionRow = typeof taskExecutions.$inferSelect;

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

export const jobStatus = pgEnum('job_status', JOB_STATUSES);
export const jobExecutionStatus = pgEnum('job_execution_status', JOB_EXECUTION_STATUSES);

/**
 * A scheduled job an admin defined from a template; its Temporal Schedule is `job-<id>`. Deleting a
 * job marks the row (its executions stay attached to it); `version` guards concurrent edits.
 */
export const schedulerJobs = pgTable(
  'scheduler_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    description: text('description'),
    templateType: text('template_type').notNull(),
    parameters: jsonb('parameters').$type<Record<string, unknown>>().notNull(),
    /** The `{cron}` / `{interval_seconds}` form, when the job was defined with it. */
    schedule: jsonb('schedule').$type<{ cron?: string; interval_seconds?: number }>(),
    recurrenceType: text('recurrence_type'),
    recurrenceConfig: jsonb('recurrence_config').$type<Record<string, unknown>>(),
    timezone: text('timezone').notNull().default('UTC'),
    startAt: timestamp('start_at', { withTimezone: true }),
    endAt: timestamp('end_at', { withTimezone: true }),
    timeoutSeconds: integer('timeout_seconds').notNull(),
    retryPolicy: jsonb('retry_policy').$type<JobRetryPolicy>().notNull(),
    overlap: text('overlap').$type<JobOverlapPolicy>().notNull().default('skip'),
    /** What DST changes do to its calendar runs (schedules/dst.ts); rows from before it get the default. */
    dstPolicy: jsonb('dst_policy')
      .$type<DstPolicy>()
      .notNull()
      .default(sql`'{"gap": "run_after", "repeat": "once"}'::jsonb`),
    notifications: jsonb('notifications').$type<JobNotifications>().notNull(),
    status: jobStatus('status').notNull().default('active'),
    pauseNote: text('pause_note'),
    version: integer('version').notNull().default(1),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedBy: text('updated_by'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    // Names identify jobs for people; a deleted job frees its name.
    uniqueIndex('scheduler_jobs_name_key')
      .on(t.name)
      .where(sql`${t.deletedAt} is null`),
    index('scheduler_jobs_creator_idx').on(t.createdBy, t.status),
    index('scheduler_jobs_template_idx').on(t.templateType),
    check('scheduler_jobs_overlap_check', isOneOf(t.overlap, JOB_OVERLAP_POLICIES)),
    check('scheduler_jobs_timeout_check', sql`${t.timeoutSeconds} >= 1`),
    check('scheduler_jobs_version_check', sql`${t.version} >= 1`),
  ],
);

export type SchedulerJobRow = typeof schedulerJobs.$inferSelect;

/** One attempt of one run of a job: what it did, how long it took, who and what ran it. */
export const schedulerJobExecutions = pgTable(
  'scheduler_job_executions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => schedulerJobs.id),
    /** The job's name and template when it ran: history reads the same after the job is renamed. */
    jobName: text('job_name').notNull(),
    templateType: text('template_type').notNull(),
    status: jobExecutionStatus('status').notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    durationSeconds: numeric('duration_seconds', { precision: 12, scale: 3, mode: 'number' }),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: text('error'),
    logs: jsonb('logs')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    attempt: integer('attempt').notNull(),
    trigger: taskTrigger('trigger').notNull(),
    /** `schedule`, `cli` or `manual:<username>`. */
    triggeredBy: text('triggered_by').notNull(),
    dryRun: boolean('dry_run').notNull().default(false),
    /** The worker that ran the attempt (Temporal worker identity, pid@host). */
    executionHost: text('execution_host'),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
  },
  (t) => [
    uniqueIndex('scheduler_job_executions_attempt_key').on(t.workflowId, t.runId, t.attempt),
    index('scheduler_job_executions_job_idx').on(t.jobId, t.startedAt),
    index('scheduler_job_executions_started_idx').on(t.startedAt),
    index('scheduler_job_executions_status_idx').on(t.status),
  ],
);

export type SchedulerJobExecutionRow = typeof schedulerJobExecutions.$inferSelect;

/**
 * Hit counters of rate-limited routes (login, job creation), shared by every API replica so a limit
 * holds however requests are balanced. One row per key (route and client key) for its current
 * window; windows are measured on the database clock, and rows of ended windows are pruned.
 */
export const rateLimitCounters = pgTable(
  'rate_limit_counters',
  {
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    windowEndsAt: timestamp('window_ends_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('rate_limit_counters_window_ends_at_idx').on(t.windowEndsAt)],
);

/**
 * The run slot of a job whose overlap is `skip` or `buffer_one`: every run, whoever started it (its
 * schedule, `temporal schedule trigger`, a run-now), holds this row while it works, so two runs of the
 * job never work at once. The primary key makes the claim atomic; `waiting_*` is the one run that
 * waits for the slot under `buffer_one`. A holder whose workflow has closed is taken over.
 */
export const schedulerJobRunSlots = pgTable('scheduler_job_run_slots', {
  jobId: uuid('job_id')
    .primaryKey()
    .references(() => schedulerJobs.id),
  workflowId: text('workflow_id').notNull(),
  /** Null only inside the run-now transaction that starts the workflow. */
  runId: text('run_id'),
  claimedAt: timestamp('claimed_at', { withTimezone: true }).notNull().defaultNow(),
  waitingWorkflowId: text('waiting_workflow_id'),
  waitingRunId: text('waiting_run_id'),
});

export type SchedulerJobRunSlotRow = typeof schedulerJobRunSlots.$inferSelect;

/**
 * One row per live worker process, rewritten every few seconds and deleted on a clean stop. Temporal
 * keeps a killed worker's pollers listed for a minute or more, so /health trusts a task queue as
 * served only while some row naming it is fresh.
 */
export const workerHeartbeats = pgTable(
  'worker_heartbeats',
  {
    /** The worker's Temporal identity (`<pid>@<host>`), as its pollers show it. */
    identity: text('identity').primaryKey(),
    taskQueues: text('task_queues').array().notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    /** The database's clock, so API and workers on different hosts compare one time. */
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('worker_heartbeats_last_seen_idx').on(t.lastSeenAt)],
);
