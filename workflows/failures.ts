import { ActivityFailure, ChildWorkflowFailure } from '@temporalio/workflow';

/**
 * The error an activity or a child workflow raised, without Temporal's wrappers: what execution rows,
 * backup runs and operators are told. A timeout is a `TimeoutFailure`, with its `timeoutType`.
 */
export function rootCause(error: unknown): Error {
  let cause = error;
  while ((cause instanceof ActivityFailure || cause instanceof ChildWorkflowFailure) && cause.cause)
    cause = cause.cause;
  return cause as Error;
}
