/** Controlled documents, their versions, assignees, transitions and review tasks. */
import {
  bigint,
  index,
  integer,
  pgEnum,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { DOCUMENT_STATUSES, REVIEW_KINDS, REVIEW_TASK_STATUSES } from '../../common';
import { createdAt } from './columns';
import { users } from './users-auth';

export const documentStatus = pgEnum('document_status', DOCUMENT_STATUSES);
export const reviewKind = pgEnum('review_kind', REVIEW_KINDS);
export const reviewTaskStatus = pgEnum('review_task_status', REVIEW_TASK_STATUSES);

/** Numbers documents created without one: DOC-000001, DOC-000002, ... */
export const documentNumberSequence = pgSequence('document_number_seq', { startWith: 1 });

/** One row per version of a controlled document; versions of one document share its number. */
export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    documentNumber: text('document_number').notNull(),
    version: integer('version').notNull().default(1),
    title: text('title').notNull(),
    description: text('description'),
    status: documentStatus('status').notNull().default('DRAFT'),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id),
    supersedesId: uuid('supersedes_id').references((): AnyPgColumn => documents.id),
    effectiveAt: timestamp('effective_at', { withTimezone: true }),
    obsoleteAt: timestamp('obsolete_at', { withTimezone: true }),
    obsolescenceReason: text('obsolescence_reason'),
    workflowId: text('workflow_id').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('documents_number_version_key').on(t.documentNumber, t.version),
    index('documents_status_idx').on(t.status),
    // The list's order (newest first, id breaking ties), read backwards: a page is read off the index
    // instead of sorting every document.
    index('documents_created_at_id_idx').on(t.createdAt, t.id),
    index('documents_effective_at_idx').on(t.effectiveAt),
    index('documents_obsolete_at_idx').on(t.obsoleteAt),
  ],
);

/** Who reviews and who approves a document. */
export const documentAssignees = pgTable(
  'document_assignees',
  {
    documentId: uuid('document_id')
      .notNull()
      .references(() => documents.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    kind: reviewKind('kind').notNull(),
  },
  (t) => [primaryKey({ columns: [t.documentId, t.userId, t.kind] })],
);

/** Every status change of a document, with who did it and why. */
export const documentTransitions = pgTable(
  'document_transitions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    documentId: uuid('document_id')
      .notNull()
      .references(() => documents.id),
    fromStatus: documentStatus('from_status'),
    toStatus: documentStatus('to_status').notNull(),
    /** A username, or `system_scheduler` when a timer made the change. */
    actor: text('actor').notNull(),
    comment: text('comment'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    idempotencyKey: text('idempotency_key').notNull(),
  },
  (t) => [
    uniqueIndex('document_transitions_idempotency_key').on(t.idempotencyKey),
    index('document_transitions_document_idx').on(t.documentId, t.occurredAt),
  ],
);

/** One task per assignee per review or approval round; ids come from the workflow (idempotent inserts). */
export const reviewTasks = pgTable(
  'review_tasks',
  {
    id: uuid('id').primaryKey(),
    documentId: uuid('document_id')
      .notNull()
      .references(() => documents.id),
    round: integer('round').notNull(),
    kind: reviewKind('kind').notNull(),
    assigneeId: uuid('assignee_id')
      .notNull()
      .references(() => users.id),
    status: reviewTaskStatus('status').notNull().default('pending'),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    comment: text('comment'),
    remindersSent: integer('reminders_sent').notNull().default(0),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('review_tasks_document_idx').on(t.documentId, t.round),
    index('review_tasks_open_idx').on(t.status, t.dueAt),
    index('review_tasks_assignee_idx').on(t.assigneeId, t.status),
  ],
);

export type DocumentRow = typeof documents.$inferSelect;
export type ReviewTaskRow = typeof reviewTasks.$inferSelect;
