/** The outbox key of the email telling an assignee about a task (activity and workflow both derive it). */
export const assignmentNotificationKey = (taskId: string, assignee: string) => `task:${taskId}:assigned:${assignee}`;

/** Workflow type of the run delivering one outbox email (workflows/notifications.ts). */
export const NOTIFICATION_DELIVERY_WORKFLOW = 'notificationDelivery';

/** Workflow id of the run delivering one outbox email. */
export const notificationDeliveryWorkflowId = (notificationKey: string) =>
  `notify-${notificationKey.replace(/[^A-Za-z0-9:@._-]/g, '_')}`;

export interface NotificationDeliveryInput {
  notificationKey: string;
}

/** Every kind of email the system sends; the outbox row's `kind`. */
export const NOTIFICATION_KINDS = [
  'review_assigned',
  'review_reminder',
  'review_escalated',
  'document_approved',
  'document_effective',
  'document_obsolete',
  'document_superseded',
  'daily_summary',
  'backup_failed',
  'job_succeeded',
  'job_failed',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
/** The emails an overdue review task sends: the assignee's reminder, then the escalation. */
export type OverdueTaskKind = Extract<NotificationKind, 'review_reminder' | 'review_escalated'>;

/** The emails a scheduled job's run sends its notify list when it ends. */
export const JOB_OUTCOME_KIND = { success: 'job_succeeded', failure: 'job_failed' } as const satisfies Record<
  string,
  NotificationKind
>;
type JobOutcomeKind = (typeof JOB_OUTCOME_KIND)[keyof typeof JOB_OUTCOME_KIND];

/**
 * The kinds an admin's `email_notification` job may send with its own variables: all but the job
 * outcome emails, which only a job's own run composes.
 */
export const EMAIL_TEMPLATE_KINDS = NOTIFICATION_KINDS.filter(
  (kind): kind is Exclude<NotificationKind, JobOutcomeKind> =>
    !(Object.values(JOB_OUTCOME_KIND) as string[]).includes(kind),
);
export type EmailTemplateKind = (typeof EMAIL_TEMPLATE_KINDS)[number];

export const NOTIFICATION_STATUSES = ['pending', 'sending', 'sent', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/**
 * Kinds of email a job composes itself (a plain message, a report): no template renders them, so only
 * the job that wrote one sends it (retried by the job's policy), never a `notificationDelivery` run.
 */
export const JOB_MESSAGE_KIND = 'job_message';
export const JOB_REPORT_KIND = 'job_report';
export const JOB_COMPOSED_KINDS = [JOB_MESSAGE_KIND, JOB_REPORT_KIND] as const;
