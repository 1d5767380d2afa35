import type { Static, TSchema } from '@sinclair/typebox';
import { DatabaseCleanupParameters } from './cleanup-tables';
import {
  JOB_TEMPLATE_DESCRIPTORS,
  JOB_TEMPLATE_IDS,
  type JobTemplateCategory,
  type JobTemplateId,
  type JobTemplateLevel,
} from '../common/job-template-descriptors';
import {
  BackupJobParameters,
  DataExportParameters,
  EmailNotificationParameters,
  ReportGenerationParameters,
  WebhookTriggerParameters,
} from './parameter-schemas';

/**
 * The templates as the API lists them, each with its parameters' JSON Schema (./parameter-schemas.ts,
 * ./cleanup-tables.ts). For the API, the activities and jobs/ only: workflow code reads
 * common/job-template-descriptors.ts, so that the schemas stay out of the workflow bundle. Validation
 * with ajv lives in jobs/parameters.ts.
 */

/** One template as `GET /api/v1/scheduler-jobs/templates` returns it: the field names are the API's. */
export interface JobTemplate {
  id: JobTemplateId;
  name: string;
  description: string;
  category: JobTemplateCategory;
  icon: string;
  /** JSON Schema of the job's `parameters`; its descriptions feed OpenAPI and the admin UI's form. */
  parameters_schema: TSchema;
  estimated_duration: string;
  resource_usage: JobTemplateLevel;
  risk_level: JobTemplateLevel;
  supports_dry_run: boolean;
}

/** Each template's parameters' schema: what a job of it must be saved with. */
const PARAMETER_SCHEMAS = {
  database_cleanup: DatabaseCleanupParameters,
  email_notification: EmailNotificationParameters,
  data_export: DataExportParameters,
  report_generation: ReportGenerationParameters,
  backup: BackupJobParameters,
  webhook_trigger: WebhookTriggerParameters,
} satisfies Record<JobTemplateId, TSchema>;

export type JobParametersByTemplate = { [K in JobTemplateId]: Static<(typeof PARAMETER_SCHEMAS)[K]> };
export type JobParameters = JobParametersByTemplate[JobTemplateId];

export const JOB_TEMPLATES = Object.fromEntries(
  JOB_TEMPLATE_IDS.map((id): [JobTemplateId, JobTemplate] => {
    const template = JOB_TEMPLATE_DESCRIPTORS[id];
    return [
      id,
      {
        id,
        name: template.name,
        description: template.description,
        category: template.category,
        icon: template.icon,
        parameters_schema: PARAMETER_SCHEMAS[id],
        estimated_duration: template.estimatedDuration,
        resource_usage: template.resourceUsage,
        risk_level: template.riskLevel,
        supports_dry_run: template.supportsDryRun,
      },
    ];
  }),
) as Record<JobTemplateId, JobTemplate>;
