import { Context } from '@temporalio/activity';
import { recordAudit, type Database, type NewAuditEntry } from '../db';

/**
 * A key that is the same on every retry of this activity execution and different for every other
 * execution: the workflow run id plus the activity id.
 */
export function activityIdempotencyKey(): string {
  const { workflowExecution, activityId } = Context.current().info;
  if (!workflowExecution) throw new Error('an idempotency key needs an activity started by a workflow');
  return `${workflowExecution.runId}:${activityId}`;
}

/**
 * Audits a conditional change only if it changed a row: its `where` names the state the change
 * starts from, so a retry, or a second caller, finds the row moved on and writes no second entry.
 * Returns the changed row (undefined when there was none).
 */
export async function auditIfChanged<Row>(
  executor: Pick<Database, 'insert'>,
  change: PromiseLike<Row[]>,
  entry: (row: Row) => NewAuditEntry,
): Promise<Row | undefined> {
  const [row] = await change;
  if (row) await recordAudit(executor, entry(row));
  return row;
}
