import { desc, sql } from 'drizzle-orm';
import { schema } from '../../../db';
import { reconcileAbandonedRuns } from '../../../schedules/run-reconciliation';
import type { JobServiceDeps } from './deps';
import { executionView } from './views';

const { schedulerJobs, schedulerJobExecutions } = schema;

/** Skipped runs did not run: they count neither as successes nor as failures. */
const ENDED = sql`${schedulerJobExecutions.status} not in ('running', 'skipped')`;
const FAILED = sql`${schedulerJobExecutions.status} in ('failed', 'timeout', 'exhausted')`;
const LAST_DAY = sql`${schedulerJobExecutions.startedAt} > now() - interval '24 hours'`;

const percent = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 100);

/**
 * The overview: jobs by status, runs in progress, and over the last 24 hours how the runs ended. A
 * run is counted by its last attempt, so a run that succeeded on its second attempt is a success.
 */
export async function jobStats(deps: JobServiceDeps) {
  const { db } = deps;
  // A run whose workflow was terminated is not running, whatever its row said.
  await reconcileAbandonedRuns(db, deps.temporal, { tables: ['jobs'] });
  const [jobs] = await db
    .select({
      total: sql<number>`count(*) filter (where ${schedulerJobs.status} <> 'deleted')`.mapWith(Number),
      active: sql<number>`count(*) filter (where ${schedulerJobs.status} = 'active')`.mapWith(Number),
      paused: sql<number>`count(*) filter (where ${schedulerJobs.status} = 'paused')`.mapWith(Number),
    })
    .from(schedulerJobs);
  const [executions] = await db
    .select({
      running: sql<number>`count(*) filter (where ${schedulerJobExecutions.status} = 'running')`.mapWith(Number),
      totalRuns:
        sql<number>`count(distinct (${schedulerJobExecutions.workflowId}, ${schedulerJobExecutions.runId}))`.mapWith(
          Number,
        ),
      avgDuration: sql<
        number | null
      >`avg(${schedulerJobExecutions.durationSeconds}) filter (where ${ENDED} and ${LAST_DAY})`.mapWith((value) =>
        value === null ? null : Math.round(Number(value) * 1000) / 1000,
      ),
    })
    .from(schedulerJobExecutions);
  // The last attempt of each run started in the last 24 hours that has ended.
  const lastAttempts = db
    .selectDistinctOn([schedulerJobExecutions.workflowId, schedulerJobExecutions.runId], {
      status: schedulerJobExecutions.status,
    })
    .from(schedulerJobExecutions)
    .where(LAST_DAY)
    .orderBy(schedulerJobExecutions.workflowId, schedulerJobExecutions.runId, desc(schedulerJobExecutions.attempt))
    .as('last_attempts');
  const [outcomes] = await db
    .select({
      ended: sql<number>`count(*) filter (where ${lastAttempts.status} not in ('running', 'skipped'))`.mapWith(Number),
      completed: sql<number>`count(*) filter (where ${lastAttempts.status} = 'completed')`.mapWith(Number),
    })
    .from(lastAttempts);
  const top = await db
    .select({
      job_id: schedulerJobExecutions.jobId,
      job_name: sql<string>`(array_agg(${schedulerJobExecutions.jobName} order by ${schedulerJobExecutions.startedAt} desc))[1]`,
      runs: sql<number>`count(distinct (${schedulerJobExecutions.workflowId}, ${schedulerJobExecutions.runId}))`.mapWith(
        Number,
      ),
    })
    .from(schedulerJobExecutions)
    .groupBy(schedulerJobExecutions.jobId)
    .orderBy(desc(sql`3`))
    .limit(5);
  const failures = await db
    .select()
    .from(schedulerJobExecutions)
    .where(FAILED)
    .orderBy(desc(schedulerJobExecutions.startedAt))
    .limit(10);
  const ended = outcomes?.ended ?? 0;
  const completed = outcomes?.completed ?? 0;
  return {
    total_jobs: jobs?.total ?? 0,
    active_jobs: jobs?.active ?? 0,
    paused_jobs: jobs?.paused ?? 0,
    running_now: executions?.running ?? 0,
    success_rate_24h: percent(completed, ended),
    failure_rate_24h: percent(ended - completed, ended),
    avg_duration_seconds: executions?.avgDuration ?? null,
    total_runs: executions?.totalRuns ?? 0,
    top_jobs_by_runs: top,
    recent_failures: failures.map(executionView),
  };
}
