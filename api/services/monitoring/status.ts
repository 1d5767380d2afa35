import type { Client, Connection } from '@temporalio/client';
import type postgres from 'postgres';
import type { Database } from '../../../db';
import { reconcileAbandonedRuns } from '../../../schedules/run-reconciliation';
import { checkHealth } from '../health';
import {
  backupAlerts,
  healthCheckAlerts,
  healthScore,
  latenessAlerts,
  overdueReviewAlerts,
  scheduleAlerts,
  taskFailureAlerts,
  workerAlerts,
} from './alerts';
import { latenessSummary } from './lateness';
import { availableTasks, describeSystemSchedules, scheduleList, schedulesRunning } from './schedules';
import { lastRunOfEachTask, latestHealthCheck, taskFailuresLastDay, taskStatistics } from './statistics';

export interface MonitoringDeps {
  db: Database;
  temporal: Client;
  /** The API's retry-less connection for worker poller counts (as /health). */
  probe: Connection;
  namespace: string;
  temporalAddress: string;
  sql: postgres.Sql;
  /** The lateness SLA of timed events (EDMS_LATENESS_SLA_SECONDS). */
  latenessSlaSeconds: number;
}

/**
 * The monitoring overview of the scheduler dashboard: workers, schedules, what the tasks keep in
 * motion, the alerts all of it raises and the health score they leave (see healthScore).
 */
export async function monitoringStatus(deps: MonitoringDeps) {
  const { db } = deps;
  // Backups and task runs whose workflow was terminated are failures, not runs still going.
  await reconcileAbandonedRuns(db, deps.temporal, { tables: ['backups', 'tasks'] });
  const [health, schedules, lastRuns, taskFailures, lastHealthCheck, lateness] = await Promise.all([
    checkHealth({
      sql: deps.sql,
      temporal: deps.probe,
      temporalAddress: deps.temporalAddress,
      namespace: deps.namespace,
    }),
    describeSystemSchedules(deps.temporal),
    lastRunOfEachTask(db),
    taskFailuresLastDay(db),
    latestHealthCheck(db),
    latenessSummary(db, deps.latenessSlaSeconds),
  ]);
  const statistics = await taskStatistics(db, deps.temporal);
  const alerts = [
    ...backupAlerts(statistics),
    ...overdueReviewAlerts(statistics),
    ...workerAlerts(health.components.workers),
    ...scheduleAlerts(schedules),
    ...taskFailureAlerts(taskFailures),
    ...healthCheckAlerts(lastHealthCheck),
    ...latenessAlerts(lateness),
  ];
  const score = healthScore(alerts);
  return {
    timestamp: new Date().toISOString(),
    overall_status: score.overallStatus,
    health_score: score.score,
    workers: health.components.workers,
    schedules_running: schedulesRunning(schedules),
    task_statistics: statistics,
    lateness,
    alerts,
    schedules: scheduleList(schedules),
    available_tasks: availableTasks(schedules, lastRuns),
  };
}
