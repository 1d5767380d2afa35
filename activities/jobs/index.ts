import { createDataExport } from './data-export';
import { createDatabaseCleanup } from './database-cleanup';
import { createEmailNotification } from './email-notification';
import { createReportGeneration } from './report-generation';
import type { JobTemplateDeps, JobTemplateResult } from './types';
import { createWebhookTrigger } from './webhook-trigger';
import type { JobTemplateActivity } from '../../common';
import { processIdentity } from '../../lib/temporal';

export type { JobRequest, JobTemplateDeps, JobTemplateResult, JobTemplateSettings } from './types';
export { EXPORT_COLUMNS } from './data-export';
export { jobEmailKey } from './outbox-mail';
export { createJobRunActivities, type JobAttemptEnd, type JobRunActivities, type PlannedJobRun } from './runs';

/** Each result names the worker that produced it, for the execution row's `execution_host`. */
function recordingHost<R>(host: string, run: (request: R) => Promise<JobTemplateResult>) {
  return async (request: R): Promise<JobTemplateResult> => ({ ...(await run(request)), host });
}

/**
 * One activity per job template, under the name its descriptor gives (common/job-template-descriptors.ts);
 * the backup template runs the existing backup workflow instead.
 */
export function createJobTemplateActivities(deps: JobTemplateDeps & { workerIdentity?: string }) {
  const host = deps.workerIdentity ?? processIdentity();
  return {
    runDatabaseCleanup: recordingHost(host, createDatabaseCleanup(deps)),
    runDataExport: recordingHost(host, createDataExport(deps)),
    runReportGeneration: recordingHost(host, createReportGeneration(deps)),
    runEmailNotification: recordingHost(host, createEmailNotification(deps)),
    runWebhookTrigger: recordingHost(host, createWebhookTrigger(deps)),
  } satisfies Record<JobTemplateActivity, unknown>;
}

export type JobTemplateActivities = ReturnType<typeof createJobTemplateActivities>;
