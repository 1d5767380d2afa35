import { log } from '@temporalio/activity';
import { sql } from 'drizzle-orm';
import { SYSTEM_SCHEDULER, type TimedEvent } from '../common';
import { recordAudit, schema, type Database } from '../db';

type Executor = Pick<Database, 'insert' | 'execute'>;

/** The lateness SLA every timed event is held to, and where a worker's metrics see each event. */
export interface TimedEventSettings {
  /** An event later than this (seconds) breaks the SLA: counted, audited, alerted on. */
  slaSeconds: number;
  /** Called once an event's transaction has committed (the worker's Prometheus histogram). */
  observe?: (record: TimedEventRecord) => void;
}

export interface TimedEventRecord {
  event: TimedEvent;
  documentId: string;
  dueAt: Date;
  occurredAt: Date;
  /** occurredAt − dueAt in milliseconds; negative when the event came early by the database's clock. */
  latenessMs: number;
  slaSeconds: number;
  breached: boolean;
}

/**
 * When a timed event was due and how late it came. An instant already past when it was asked for
 * (a document approved with yesterday's effective date) is due at the moment it was asked for, not
 * at the instant: the event cannot have been on time before anyone wanted it.
 *
 * @param instant the requested instant (effective_at, obsolete_at, a reminder's instant)
 * @param requestedAt when that instant was last set; omit when it is unknown
 * @param occurredAt the database's clock in the event's transaction
 * @param slaSeconds lateness beyond this many seconds is a breach (exactly on it is not)
 */
export function timedEventLateness(
  instant: Date,
  requestedAt: Date | undefined,
  occurredAt: Date,
  slaSeconds: number,
): { dueAt: Date; latenessMs: number; breached: boolean } {
  const dueAt = requestedAt && requestedAt > instant ? requestedAt : instant;
  const latenessMs = occurredAt.getTime() - dueAt.getTime();
  return { dueAt, latenessMs, breached: latenessMs > slaSeconds * 1000 };
}

/** The transaction's timestamp (PostgreSQL `now()`): the time every row the event writes carries. */
async function databaseNow(executor: Executor): Promise<Date> {
  const rows = await executor.execute<{ now: Date | string }>(sql`select now() as now`);
  return new Date(rows[0]!.now);
}

/**
 * Records a timed event in the transaction of the change it made: its lateness row and, when it broke the SLA, an
 * audit entry on the document (an inspector asks "was SOP-12 effective on the day it said?").
 * `idempotencyKey` is the event's activity key: a retry writes neither row twice.
 */
export async function recordTimedEvent(
  executor: Executor,
  settings: TimedEventSettings,
  event: {
    event: TimedEvent;
    documentId: string;
    documentNumber: string;
    taskId?: string;
    instant: Date;
    requestedAt?: Date;
    idempotencyKey: string;
  },
): Promise<TimedEventRecord> {
  const occurredAt = await databaseNow(executor);
  const { dueAt, latenessMs, breached } = timedEventLateness(
    event.instant,
    event.requestedAt,
    occurredAt,
    settings.slaSeconds,
  );
  await executor
    .insert(schema.timedEventLateness)
    .values({
      event: event.event,
      documentId: event.documentId,
      taskId: event.taskId ?? null,
      dueAt,
      occurredAt,
      latenessMs,
      slaSeconds: settings.slaSeconds,
      breached,
      idempotencyKey: `${event.idempotencyKey}:lateness`,
    })
    .onConflictDoNothing({ target: schema.timedEventLateness.idempotencyKey });
  if (breached) {
    await recordAudit(executor, {
      action: 'LATENESS_SLA_BREACHED',
      actor: SYSTEM_SCHEDULER,
      entityType: 'document',
      entityId: event.documentId,
      idempotencyKey: `${event.idempotencyKey}:sla`,
      details: {
        document_number: event.documentNumber,
        event: event.event,
        task_id: event.taskId ?? null,
        due_at: dueAt.toISOString(),
        occurred_at: occurredAt.toISOString(),
        lateness_seconds: latenessMs / 1000,
        sla_seconds: settings.slaSeconds,
      },
    });
  }
  return {
    event: event.event,
    documentId: event.documentId,
    dueAt,
    occurredAt,
    latenessMs,
    slaSeconds: settings.slaSeconds,
    breached,
  };
}

/**
 * After the event's transaction committed: a log line (the activity's logger adds the workflow and
 * run ids; a breach is a warning) and the worker's metrics.
 */
export function reportTimedEvent(settings: TimedEventSettings, record: TimedEventRecord): void {
  const fields = {
    documentId: record.documentId,
    event: record.event,
    dueAt: record.dueAt.toISOString(),
    latenessMs: record.latenessMs,
    slaSeconds: record.slaSeconds,
  };
  if (record.breached) log.warn('timed event later than its lateness SLA', fields);
  else log.info('timed event', fields);
  settings.observe?.(record);
}
