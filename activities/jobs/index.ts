import { createDataExport } from './data-export';
import { createDatabaseCleanup } from './database-cleanup';
import { createEmailNotification } from './email-notification';
import { createReportGeneration } from './report-generation';
import type { JobTemplateDeps } from './types';
import { createWebhookTrigger } from './webhook-trigger';

export type { JobRequest, JobTemplateDeps, JobTemplateResult, JobTemplateSettings } from './types';
export { EXPORT_COLUMNS } from './data-export';
export { JOB_MESSAGE_KIND } from './email-notification';
export { JOB_REPORT_KIND } from './report-generation';
export { jobEmailKey } from './outbox-mail';

/** Failure types of the template activities that retrying cannot fix (for the proxy's `nonRetryableErrorTypes`). */
export const NON_RETRYABLE_JOB_ERRORS = ['InvalidJobParameters', 'CleanupTableMissing', 'OutboundRequestRefused'];

/** One activity per job template (the backup template runs the existing backup workflow instead). */
export function createJobTemplateActivities(deps: JobTemplateDeps) {
  return {
    runDatabaseCleanup: createDatabaseCleanup(deps),
    runDataExport: createDataExport(deps),
    runReportGeneration: createReportGeneration(deps),
    runEmailNotification: createEmailNotification(deps),
    runWebhookTrigger: createWebhookTrigger(deps),
  };
}

export type JobTemplateActivities = ReturnType<typeof createJobTemplateActivities>;
