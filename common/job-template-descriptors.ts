import { TASK_QUEUES, type TaskQueueName } from './task-queues';

export type JobTemplateCategory = 'maintenance' | 'notifications' | 'data' | 'reporting' | 'backup' | 'integration';
export const JOB_TEMPLATE_LEVELS = ['low', 'medium', 'high'] as const;
export type JobTemplateLevel = (typeof JOB_TEMPLATE_LEVELS)[number];

/**
 * A job template as every part of the system knows it, except for its parameters' JSON Schema: what
 * the templates endpoint lists, the queue and activity of its runs, whether it can dry-run.
 */
export interface JobTemplateDescriptor {
  name: string;
  description: string;
  category: JobTemplateCategory;
  icon: string;
  estimatedDuration: string;
  resourceUsage: JobTemplateLevel;
  riskLevel: JobTemplateLevel;
  /** A dry run does everything but the side effect and reports what it would have done. */
  supportsDryRun: boolean;
  /**
   * The task queue a job's runs (workflow and activities) use: templates that scan tables, write files
   * or run pg_dump go to the low-concurrency maintenance queue, quick messages to the scheduler queue.
   */
  taskQueue: TaskQueueName;
  /**
   * The activity doing one attempt's work, by its registered name (saved histories replay by it), or
   * `null` when a run starts a child workflow instead: `backup` runs its configuration's `backup`.
   */
  activity: string | null;
}

/**
 * The job templates an administrator builds scheduled jobs from. Code-defined (not rows) so a
 * template cannot be invented through the API. Workflow code imports this; the parameters' JSON
 * Schemas live in jobs/parameter-schemas.ts, out of the workflow bundle. Adding a template is an entry
 * here, its parameters' schema there (listed in jobs/templates.ts), and its activity in
 * activities/jobs/.
 */
export const JOB_TEMPLATE_DESCRIPTORS = {
  database_cleanup: {
    name: 'Database cleanup',
    description:
      'Deletes operational history (task and job executions, delivered or failed emails, health checks) older than an age, in batches. Never the audit trail. A dry run counts the rows it would delete.',
    category: 'maintenance',
    icon: 'database-zap',
    estimatedDuration: '1-10 minutes',
    resourceUsage: 'medium',
    riskLevel: 'high',
    supportsDryRun: true,
    taskQueue: TASK_QUEUES.maintenance,
    activity: 'runDatabaseCleanup',
  },
  email_notification: {
    name: 'Email notification',
    description:
      'Sends a plain-text message or an EDMS email template to a list of recipients, through the outbox. A dry run renders the email without sending it.',
    category: 'notifications',
    icon: 'mail',
    estimatedDuration: 'under 1 minute',
    resourceUsage: 'low',
    riskLevel: 'medium',
    supportsDryRun: true,
    taskQueue: TASK_QUEUES.scheduler,
    activity: 'runEmailNotification',
  },
  data_export: {
    name: 'Data export',
    description:
      'Writes documents, the audit trail or task executions, filtered, to a CSV or JSON file under the exports directory. A dry run counts the rows it would export.',
    category: 'data',
    icon: 'file-down',
    estimatedDuration: '1-15 minutes',
    resourceUsage: 'high',
    riskLevel: 'medium',
    supportsDryRun: true,
    taskQueue: TASK_QUEUES.maintenance,
    activity: 'runDataExport',
  },
  report_generation: {
    name: 'Summary report',
    description:
      'Builds a report of documents by status, overdue reviews, task success rates and backups over a period, as HTML and CSV, optionally emailed. A dry run builds it without emailing it.',
    category: 'reporting',
    icon: 'file-chart-column',
    estimatedDuration: '1-5 minutes',
    resourceUsage: 'medium',
    riskLevel: 'low',
    supportsDryRun: true,
    taskQueue: TASK_QUEUES.maintenance,
    activity: 'runReportGeneration',
  },
  backup: {
    name: 'Backup',
    description:
      'Runs a backup configuration (pg_dump and document storage, with a manifest), optionally with another verification mode. No dry run: only a real backup proves anything.',
    category: 'backup',
    icon: 'database-backup',
    estimatedDuration: '5-60 minutes',
    resourceUsage: 'high',
    riskLevel: 'medium',
    supportsDryRun: false,
    taskQueue: TASK_QUEUES.maintenance,
    activity: null,
  },
  webhook_trigger: {
    name: 'Webhook',
    description:
      'Calls an external HTTP endpoint and checks the response status. A dry run checks the URL against the outbound policy without sending the request.',
    category: 'integration',
    icon: 'webhook',
    estimatedDuration: 'under 1 minute',
    resourceUsage: 'low',
    riskLevel: 'medium',
    supportsDryRun: true,
    taskQueue: TASK_QUEUES.scheduler,
    activity: 'runWebhookTrigger',
  },
} as const satisfies Record<string, JobTemplateDescriptor>;

export type JobTemplateId = keyof typeof JOB_TEMPLATE_DESCRIPTORS;

/** The template ids (`template_type` on the wire), in the order the templates endpoint lists them. */
export const JOB_TEMPLATE_IDS = Object.keys(JOB_TEMPLATE_DESCRIPTORS) as readonly JobTemplateId[];

export const isJobTemplateId = (id: string): id is JobTemplateId =>
  (JOB_TEMPLATE_IDS as readonly string[]).includes(id);

/** The activities job templates run; activities/jobs/ registers exactly these. */
export type JobTemplateActivity = NonNullable<(typeof JOB_TEMPLATE_DESCRIPTORS)[JobTemplateId]['activity']>;
