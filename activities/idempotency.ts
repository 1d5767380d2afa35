import { Context } from '@temporalio/activity';

/**
 * A key that is the same on every retry of this activity execution and different for every other
 * execution: the workflow run id plus the activity id.
 */
export function activityIdempotencyKey(): string {
  const { workflowExecution, activityId } = Context.current().info;
  if (!workflowExecution) throw new Error('an idempotency key needs an activity started by a workflow');
  return `${workflowExecution.runId}:${activityId}`;
}
