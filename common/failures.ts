/**
 * Failure type names: the `type` of a Temporal `ApplicationFailure`, or the `name` of the Error
 * subclass an activity throws (Temporal reports a thrown Error's `name` as its failure type). Retry
 * policies list them in `nonRetryableErrorTypes`, the API maps the update refusals to statuses, and
 * operators see them in the Web UI, so each is spelled once, here.
 */
export const FailureType = {
  // Document lifecycle updates refused by the workflow (the API answers 409, 400, 403).
  InvalidTransition: 'InvalidTransition',
  InvalidRequest: 'InvalidRequest',
  NotAssigned: 'NotAssigned',
  // Document activities.
  DocumentNotFound: 'DocumentNotFound',
  DocumentStateConflict: 'DocumentStateConflict',
  TaskNotFound: 'TaskNotFound',
  UnknownAssignee: 'UnknownAssignee',
  NotificationDeliveryFailed: 'NotificationDeliveryFailed',
  // System tasks and their workflow.
  UnknownTask: 'UnknownTask',
  DryRunUnsupported: 'DryRunUnsupported',
  // Backups and restores.
  BackupConfigMissing: 'BackupConfigMissing',
  BackupConfigDisabled: 'BackupConfigDisabled',
  UnknownBackupRun: 'UnknownBackupRun',
  NoArchive: 'NoArchive',
  PgToolMissing: 'PgToolMissing',
  PgToolTooOld: 'PgToolTooOld',
  // Admin-defined jobs.
  JobMissing: 'JobMissing',
  UnknownTemplate: 'UnknownTemplate',
  InvalidJobParameters: 'InvalidJobParameters',
  CleanupTableMissing: 'CleanupTableMissing',
  OutboundRequestRefused: 'OutboundRequestRefused',
  OutboundRequestTimedOut: 'OutboundRequestTimedOut',
  WebhookUnexpectedStatus: 'WebhookUnexpectedStatus',
  JobEmailBusy: 'JobEmailBusy',
  JobEmailDeliveryFailed: 'JobEmailDeliveryFailed',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Document activity failures that retrying cannot fix: they fail at once with the ids in the message. */
export const NON_RETRYABLE_DOCUMENT_ERRORS: readonly FailureType[] = [
  FailureType.DocumentNotFound,
  FailureType.DocumentStateConflict,
  FailureType.TaskNotFound,
  FailureType.UnknownAssignee,
];

/** Failure types of a job's work that retrying cannot fix: the run ends at once, `failed`. */
export const NON_RETRYABLE_JOB_ERRORS: readonly FailureType[] = [
  FailureType.InvalidJobParameters,
  FailureType.CleanupTableMissing,
  FailureType.OutboundRequestRefused,
  FailureType.BackupConfigMissing,
  FailureType.BackupConfigDisabled,
  FailureType.UnknownTemplate,
];
