/**
 * Activity failures that retrying cannot fix. The workflows list these names in
 * `nonRetryableErrorTypes`, so they fail at once with the ids in the message.
 */
export class DocumentNotFound extends Error {
  override name = 'DocumentNotFound';
  constructor(readonly documentId: string) {
    super(`document ${documentId} does not exist`);
  }
}

/** The document is not in a state the change may start from; nothing was written. */
export class DocumentStateConflict extends Error {
  override name = 'DocumentStateConflict';
  constructor(
    readonly documentId: string,
    readonly expected: readonly string[],
    readonly actual: string,
  ) {
    super(`document ${documentId} is ${actual}, expected ${expected.join(' or ')}`);
  }
}

export class TaskNotFound extends Error {
  override name = 'TaskNotFound';
  constructor(readonly taskId: string) {
    super(`review task ${taskId} does not exist`);
  }
}

export class UnknownAssignee extends Error {
  override name = 'UnknownAssignee';
  constructor(readonly username: string) {
    super(`user ${username} does not exist or is inactive`);
  }
}

export const NON_RETRYABLE_ACTIVITY_ERRORS = [
  'DocumentNotFound',
  'DocumentStateConflict',
  'TaskNotFound',
  'UnknownAssignee',
];
