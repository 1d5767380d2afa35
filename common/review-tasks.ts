/** The two kinds of round a document goes through: reviewers comment, approvers release. */
export const REVIEW_KINDS = ['review', 'approval'] as const;
export type ReviewKind = (typeof REVIEW_KINDS)[number];

/** A review or approval task: open while `pending`; `cancelled` when its round closed without it. */
export const REVIEW_TASK_STATUSES = ['pending', 'approved', 'rejected', 'cancelled'] as const;
export type ReviewTaskStatus = (typeof REVIEW_TASK_STATUSES)[number];
/** How a task closes: decided, or cancelled with its round. */
export type ClosedReviewTaskStatus = Exclude<ReviewTaskStatus, 'pending'>;
