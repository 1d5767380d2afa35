import type { schema } from '../../../db';
import { SYSTEM_SCHEDULES } from '../../../schedules/system-schedules';
import type { HealthReport } from '../../schemas/health';
import type { AlertSeverity, OverallStatus } from '../../schemas/scheduler';
import type { LatenessSummary } from './lateness';
import type { SystemScheduleStates } from './schedules';
import type { TaskStatistics } from './statistics';

export interface Alert {
  severity: AlertSeverity;
  code: string;
  message: string;
}

/** A failed backup, none recent enough (over 48 h critical, over 30 h a warning), none configured. */
export function backupAlerts(statistics: TaskStatistics): Alert[] {
  const alerts: Alert[] = [];
  if (statistics.backup_jobs_failed_24h > 0) {
    alerts.push({
      severity: 'critical',
      code: 'backup_failed',
      message: `${statistics.backup_jobs_failed_24h} backup run(s) failed in the last 24 hours`,
    });
  }
  const backupAge = statistics.last_successful_backup_hours_ago;
  if (backupAge === null || backupAge > 48) {
    alerts.push({
      severity: 'critical',
      code: 'no_recent_backup',
      message: backupAge === null ? 'No successful backup on record' : `Last successful backup ${backupAge} hours ago`,
    });
  } else if (backupAge > 30) {
    alerts.push({
      severity: 'warning',
      code: 'backup_overdue',
      message: `Last successful backup ${backupAge} hours ago`,
    });
  }
  if (statistics.enabled_backup_configs === 0) {
    alerts.push({ severity: 'warning', code: 'no_backup_config', message: 'No enabled backup configuration' });
  }
  return alerts;
}

/** Review and approval tasks past their due instant. */
export function overdueReviewAlerts(statistics: TaskStatistics): Alert[] {
  if (statistics.overdue_workflows === 0) return [];
  return [
    {
      severity: 'warning',
      code: 'overdue_reviews',
      message: `${statistics.overdue_workflows} review or approval task(s) overdue`,
    },
  ];
}

/** A task queue no live worker serves: nothing on it moves. */
export function workerAlerts(workers: HealthReport['components']['workers']): Alert[] {
  return Object.entries(workers.task_queues)
    .filter(([, state]) => state.status !== 'up')
    .map(([queue]): Alert => ({
      severity: 'critical',
      code: 'no_worker',
      message: `No worker polls the ${queue} task queue`,
    }));
}

/** Schedules Temporal could not be asked about, does not have, or holds paused. */
export function scheduleAlerts(schedules: SystemScheduleStates): Alert[] {
  const alerts: Alert[] = [];
  if (schedules.error) {
    alerts.push({
      severity: 'critical',
      code: 'temporal_unreachable',
      message: `Schedules unreadable: ${schedules.error}`,
    });
  }
  for (const schedule of SYSTEM_SCHEDULES) {
    const description = schedules.described.get(schedule.scheduleId);
    if (schedules.described.has(schedule.scheduleId) && !description) {
      alerts.push({
        severity: 'warning',
        code: 'schedule_missing',
        message: `Schedule ${schedule.scheduleId} does not exist`,
      });
    } else if (description?.state.paused) {
      alerts.push({
        severity: 'warning',
        code: 'schedule_paused',
        message: `Schedule ${schedule.scheduleId} is paused${description.state.note ? `: ${description.state.note}` : ''}`,
      });
    }
  }
  return alerts;
}

/** System tasks that failed in the last 24 hours, with how often. */
export function taskFailureAlerts(failures: { taskName: string; value: number }[]): Alert[] {
  return failures.map((failed): Alert => ({
    severity: 'warning',
    code: 'task_failed',
    message: `${failed.taskName} failed ${failed.value} time(s) in the last 24 hours`,
  }));
}

/** The latest system health check task found the system less than HEALTHY. */
export function healthCheckAlerts(latest: typeof schema.systemHealthChecks.$inferSelect | undefined): Alert[] {
  if (!latest || latest.status === 'HEALTHY') return [];
  return [
    {
      severity: latest.status === 'CRITICAL' ? 'critical' : 'warning',
      code: 'health_check_unhealthy',
      message: `Last health check (${latest.checkedAt.toISOString()}) was ${latest.status}`,
    },
  ];
}

/**
 * Timed events later than their lateness SLA in the window: one warning per kind of event, naming
 * how many and the worst lateness, since any breach means a document changed later than it said.
 */
export function latenessAlerts(summary: LatenessSummary): Alert[] {
  return summary.events
    .filter((event) => event.sla_breaches > 0)
    .map((event): Alert => ({
      severity: 'warning',
      code: 'lateness_sla_breached',
      message: `${event.sla_breaches} ${event.event} event(s) later than the ${summary.sla_seconds} s lateness SLA in the last ${summary.window_hours} hours (worst ${event.max_seconds} s late)`,
    }));
}

/**
 * The score starts at 100 and loses 30 per critical alert and 10 per warning (never below 0);
 * overall_status is CRITICAL with any critical alert or a score under 40, WARNING under 70, GOOD
 * under 90, otherwise EXCELLENT.
 */
export function healthScore(alerts: Alert[]): { score: number; overallStatus: OverallStatus } {
  const criticals = alerts.filter((a) => a.severity === 'critical').length;
  const warnings = alerts.filter((a) => a.severity === 'warning').length;
  const score = Math.max(0, 100 - 30 * criticals - 10 * warnings);
  const overallStatus =
    criticals > 0 || score < 40 ? 'CRITICAL' : score < 70 ? 'WARNING' : score < 90 ? 'GOOD' : 'EXCELLENT';
  return { score, overallStatus };
}
