import { FailureType } from '../common';
/**
 * Document activity failures that retrying cannot fix (common/failures.ts lists them as non-retryable),
 * so they fail at once with the ids in the message.
 */
export class DocumentNotFound extends Error {
  override name = FailureType.DocumentNotFound;
  constructor(readonly documentId: string) {
    super(`document ${documentId} does not exist`);
  }
}

/** The document is not in a state the change may start from; nothing was written. */
export class DocumentStateConflict extends Error {
  override name = FailureType.DocumentStateConflict;
  constructor(
    readonly documentId: string,
    readonly expected: readonly string[],
    readonly actual: string,
  ) {
    super(`document ${documentId} is ${actual}, expected ${expected.join(' or ')}`);
  }
}

export class TaskNotFound extends Error {
  override name = FailureType.TaskNotFound;
  constructor(readonly taskId: string) {
    super(`review task ${taskId} does not exist`);
  }
}

export class UnknownAssignee extends Error {
  override name = FailureType.UnknownAssignee;
  constructor(readonly username: string) {
    super(`user ${username} does not exist or is inactive`);
  }
}
