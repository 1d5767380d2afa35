import { eq } from 'drizzle-orm';
import {
  DEFAULT_JOB_RETRY_POLICY,
  type JobNotifications,
  type JobOverlapPolicy,
  type JobRetryPolicy,
  type JobTemplateId,
} from '../../../common';
import { schema, type SchedulerJobRow } from '../../../db';
import { validateJobParameters } from '../../../jobs/parameters';
import { checkOutboundTarget, OutboundRequestRefused, type OutboundRequest } from '../../../jobs/outbound-checks';
import type { OutboundPolicy } from '../../../lib/outbound-policy';
import { jobScheduleOptions, upsertJobSchedule } from '../../../schedules/job-schedules';
import { toScheduleSpec, type RecurrenceFieldError } from '../../../schedules/recurrence';
import { badRequest, temporalRefusal } from '../../errors';
import type { CreateJobBody } from '../../schemas/job-definition';
import type { JobServiceDeps } from './deps';

const { backupConfigs } = schema;

type JobDefinition = Omit<
  SchedulerJobRow,
  'id' | 'status' | 'pauseNote' | 'version' | 'createdBy' | 'createdAt' | 'updatedBy' | 'updatedAt' | 'deletedAt'
>;

/** Problems as the error body's details; parameter errors already name their `parameters.` path. */
const asDetails = (errors: { field: string; message: string }[]) =>
  errors.map((error) => ({ in: 'body', field: error.field, message: error.message }));

/**
 * Creates or updates the job's Temporal Schedule. What our checks accept, Temporal may still refuse
 * (a time zone its tz database lacks, such as `US/Pacific-New`, or a day-of-week range it reads
 * differently): that is the caller's definition, so a 400 `invalid_schedule` naming what it refused.
 */
export async function saveSchedule(
  deps: JobServiceDeps,
  row: SchedulerJobRow,
  spec: Parameters<typeof jobScheduleOptions>[1],
) {
  const options = jobScheduleOptions(row, spec);
  try {
    await upsertJobSchedule(deps.temporal, options);
  } catch (error) {
    // The schedule client turns Temporal's "Invalid schedule spec" into a TypeError with its reason.
    const refusal = error instanceof TypeError ? error.message : temporalRefusal(error);
    if (refusal === null) throw error;
    const field = /time ?zone/i.test(refusal) ? 'timezone' : row.schedule ? 'schedule' : 'recurrence_config';
    throw badRequest('invalid_schedule', `Temporal refuses this schedule: ${refusal}`, [
      { in: 'body', field, message: `is refused by Temporal: ${refusal}` },
    ]);
  }
}

/** Why a run of this webhook would be refused before it connects, or null when it would not. */
async function refusedWebhookTarget(request: OutboundRequest, policy: OutboundPolicy): Promise<string | null> {
  try {
    await checkOutboundTarget(request, policy);
    return null;
  } catch (error) {
    if (error instanceof OutboundRequestRefused) return error.message;
    throw error;
  }
}

/**
 * Everything about a definition that its JSON schema cannot check: the template's parameters, the
 * recurrence (a real cron, a time that exists, a run_at in the future…), a backup job's configuration.
 * Every problem is reported at once, each with its field; nothing is saved unless all are fixed.
 */
export async function checkedDefinition({ db, outboundPolicy }: JobServiceDeps, body: CreateJobBody) {
  const templateType = body.template_type as JobTemplateId;
  const problems: { in: string; field: string; message: string }[] = [];
  const parameters = validateJobParameters(templateType, body.parameters ?? {});
  if (!parameters.ok) problems.push(...asDetails(parameters.errors));
  const scheduleInput = {
    schedule: body.schedule ?? null,
    recurrence_type: (body.recurrence_type ?? null) as Parameters<typeof toScheduleSpec>[0]['recurrence_type'],
    recurrence_config: body.recurrence_config ?? null,
    timezone: body.timezone ?? null,
    start_at: body.start_at ?? null,
    end_at: body.end_at ?? null,
    dst_policy: (body.dst_policy ?? null) as Parameters<typeof toScheduleSpec>[0]['dst_policy'],
  };
  const spec = toScheduleSpec(scheduleInput);
  const scheduleProblems: RecurrenceFieldError[] = spec.ok ? [] : spec.errors;
  problems.push(...asDetails(scheduleProblems));
  if (parameters.ok && templateType === 'backup') {
    const config = (parameters.value as { config: string }).config;
    const [found] = await db.select({ id: backupConfigs.id }).from(backupConfigs).where(eq(backupConfigs.name, config));
    if (!found)
      problems.push({ in: 'body', field: 'parameters.config', message: `no backup configuration named ${config}` });
  }
  if (parameters.ok && templateType === 'webhook_trigger') {
    const target = await refusedWebhookTarget(parameters.value as OutboundRequest, outboundPolicy);
    if (target) problems.push({ in: 'body', field: 'parameters.url', message: target });
  }
  if (!spec.ok || !parameters.ok || problems.length > 0) {
    const code =
      scheduleProblems.length === problems.length
        ? 'invalid_schedule'
        : scheduleProblems.length === 0
          ? 'invalid_parameters'
          : 'validation_failed';
    const message = `Invalid job: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`;
    throw badRequest(code, message, problems);
  }
  const retry: JobRetryPolicy = { ...DEFAULT_JOB_RETRY_POLICY, ...body.retry_policy };
  const notifications: JobNotifications = {
    on_failure: body.notifications?.on_failure ?? [],
    on_success: body.notifications?.on_success ?? [],
  };
  const definition: JobDefinition = {
    name: body.name.trim(),
    description: body.description ?? null,
    templateType,
    parameters: parameters.value as Record<string, unknown>,
    schedule: body.schedule ?? null,
    recurrenceType: body.recurrence_type ?? null,
    recurrenceConfig: body.recurrence_config ?? null,
    timezone: normalizedZone(body.timezone ?? 'UTC'),
    startAt: body.start_at ? new Date(body.start_at) : null,
    endAt: body.end_at ? new Date(body.end_at) : null,
    dstPolicy: spec.dstPolicy,
    timeoutSeconds: body.timeout_seconds,
    retryPolicy: retry,
    overlap: body.overlap as JobOverlapPolicy,
    notifications,
  };
  return { definition, spec };
}

/** A once job's spec is pinned to UTC; the job keeps the zone it was given (case corrected). */
function normalizedZone(zone: string): string {
  const spec = toScheduleSpec({ schedule: { interval_seconds: 3600 }, timezone: zone });
  return spec.ok ? (spec.spec.timezone ?? 'UTC') : 'UTC';
}
