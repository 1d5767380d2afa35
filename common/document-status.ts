/**
 * The lifecycle states of a controlled document. These exact strings are shared by the database,
 * the API, workflow state and the `DocumentStatus` search attribute.
 */
export const DOCUMENT_STATUSES = [
  'DRAFT',
  'PENDING_REVIEW',
  'UNDER_REVIEW',
  'REVIEWED',
  'PENDING_APPROVAL',
  'APPROVED_PENDING_EFFECTIVE',
  'EFFECTIVE',
  'SCHEDULED_FOR_OBSOLESCENCE',
  'OBSOLETE',
] as const;

export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];
