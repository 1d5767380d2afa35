import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Transporter } from 'nodemailer';
import type { JobParametersByTemplate } from '../../jobs/templates';
import { type JobTemplateId, FailureType } from '../../common';
import type { DatabaseHandle } from '../../db';
import { validateJobParameters } from '../../jobs/parameters';
import type { OutboundPolicy } from '../../lib/outbound-policy';
import type { MailSettings } from '../../outbox';

export interface JobTemplateSettings {
  /** Exports go here, reports under `<exportsDir>/reports/`. */
  exportsDir: string;
  /** What a webhook_trigger job may reach (jobs/outbound-checks.ts). */
  outboundPolicy: OutboundPolicy;
  /** Instants in reports are written in this zone (EDMS_TIMEZONE). */
  timezone: string;
}

export interface JobTemplateDeps {
  database: DatabaseHandle;
  mailer: Transporter;
  mail: MailSettings;
  settings: JobTemplateSettings;
}

/** What the job workflow hands each template activity. */
export interface JobRequest<P> {
  params: P;
  dryRun: boolean;
  jobId: string;
  /**
   * The same on every retry of one execution of the job and different for every other execution:
   * file names and email idempotency keys derive from it, so a retried activity redoes nothing.
   */
  executionKey: string;
}

export interface JobTemplateResult {
  summary: string;
  result: Record<string, unknown>;
  /** Short human lines, stored in the execution row's `logs`. */
  logs: string[];
  /** The worker that ran it (its Temporal identity), for the execution row. */
  host?: string;
}

/**
 * Parameters were validated when the job was saved, but the template may have changed since (or the
 * row was edited by hand): an activity never acts on parameters its template no longer accepts.
 */
export function validatedParams<K extends JobTemplateId>(templateId: K, params: unknown): JobParametersByTemplate[K] {
  const validation = validateJobParameters(templateId, params);
  if (!validation.ok) {
    const problems = validation.errors.map((e) => `${e.field} ${e.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(
      `${templateId} parameters are invalid: ${problems}`,
      FailureType.InvalidJobParameters,
      validation.errors,
    );
  }
  return validation.value;
}

/** 12 hex digits of the execution key: file-name safe whatever the key contains, stable across retries. */
export const shortKey = (executionKey: string) => createHash('sha256').update(executionKey).digest('hex').slice(0, 12);

/** `20250131T235959Z`: sorts by time, no characters a file system dislikes. */
export const utcStamp = (at: Date = new Date()) =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** The job run (workflow execution) an activity works for: job bookkeeping is only ever done by it. */
export function currentRun() {
  const { workflowExecution } = Context.current().info;
  if (!workflowExecution) throw new Error('job executions are recorded by their workflow');
  return workflowExecution;
}
