import type { Client } from '@temporalio/client';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { documentWorkflowId, type LifecycleSettings } from '../../common';
import { documentFacts, pgErrorCode, recordAudit, schema, UNIQUE_VIOLATION, type Database } from '../../db';
import { badRequest, conflict, type ApiError } from '../errors';
import { getDocument, type DocumentView } from './document-views';
import { startDocumentWorkflow } from './document-workflow';
import type { Actor } from './users';

const { documents, documentAssignees, documentTransitions, users } = schema;

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface NewDocument {
  title: string;
  document_number?: string;
  description?: string;
  reviewers: string[];
  approvers: string[];
}

async function userIdsByName(executor: Transaction, usernames: string[], field: string): Promise<Map<string, string>> {
  const unique = [...new Set(usernames)];
  if (unique.length === 0) return new Map();
  const rows = await executor
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(and(inArray(users.username, unique), eq(users.active, true)));
  const found = new Map(rows.map((row) => [row.username, row.id]));
  const missing = unique.filter((name) => !found.has(name));
  if (missing.length > 0) {
    throw badRequest('unknown_user', `${field}: no active user named ${missing.join(', ')}`, {
      field,
      usernames: missing,
    });
  }
  return found;
}

/** The document a new version supersedes: its number is kept, its version is the next one. */
export interface Superseded {
  id: string;
  documentNumber: string;
  version: number;
}

/**
 * Inserts a DRAFT document (or a new version of one) with its reviewers and approvers, its first
 * transition and its audit entry, inside the caller's transaction.
 */
export async function insertDocument(
  tx: Transaction,
  input: NewDocument & { supersedes?: Superseded },
  author: { id: string; username: string },
  actor: Actor,
): Promise<string> {
  const reviewers = await userIdsByName(tx, input.reviewers, 'reviewers');
  const approvers = await userIdsByName(tx, input.approvers, 'approvers');
  const documentNumber =
    input.supersedes?.documentNumber ??
    input.document_number ??
    (await tx.execute<{ n: string }>(sql`select nextval('document_number_seq')::text as n`)).map(
      (row) => `DOC-${row.n.padStart(6, '0')}`,
    )[0]!;
  const id = crypto.randomUUID();
  await tx.insert(documents).values({
    id,
    documentNumber,
    version: input.supersedes ? input.supersedes.version + 1 : 1,
    title: input.title,
    description: input.description ?? null,
    authorId: author.id,
    supersedesId: input.supersedes?.id ?? null,
    workflowId: documentWorkflowId(id),
  });
  const assignees = [
    ...[...reviewers.values()].map((userId) => ({ documentId: id, userId, kind: 'review' as const })),
    ...[...approvers.values()].map((userId) => ({ documentId: id, userId, kind: 'approval' as const })),
  ];
  if (assignees.length > 0) await tx.insert(documentAssignees).values(assignees);
  await tx.insert(documentTransitions).values({
    documentId: id,
    fromStatus: null,
    toStatus: 'DRAFT',
    actor: actor.username,
    comment: input.supersedes ? `new version of ${input.supersedes.id}` : null,
    idempotencyKey: `create:${id}`,
  });
  await recordAudit(tx, {
    action: input.supersedes ? 'DOCUMENT_VERSION_CREATED' : 'DOCUMENT_CREATED',
    actor: actor.username,
    entityType: 'document',
    entityId: id,
    requestId: actor.requestId,
    details: {
      document_number: documentNumber,
      title: input.title,
      reviewers: input.reviewers,
      approvers: input.approvers,
      supersedes_id: input.supersedes?.id ?? null,
    },
  });
  return id;
}

export interface DocumentServiceDeps {
  db: Database;
  temporal: Client;
  /** Review timing given to new document workflows. */
  lifecycle: LifecycleSettings;
}

/** The user creating a document: its author, and who the audit trail names. */
export interface DocumentAuthor {
  id: string;
  username: string;
  requestId?: string;
}

/**
 * Inserts the document and starts its workflow in one transaction. A unique violation means the
 * document number (or this version of it) exists already: the 409 that `taken` builds.
 */
async function createWithWorkflow(
  deps: DocumentServiceDeps,
  input: NewDocument & { supersedes?: Superseded },
  author: DocumentAuthor,
  taken: () => ApiError,
): Promise<DocumentView> {
  const id = await deps.db.transaction(async (tx) => {
    const created = await insertDocument(tx, input, author, {
      username: author.username,
      requestId: author.requestId,
    }).catch((error: unknown) => {
      if (pgErrorCode(error) === UNIQUE_VIOLATION) throw taken();
      throw error;
    });
    const [row] = await tx.select().from(documents).where(eq(documents.id, created));
    // Started inside the transaction: if Temporal refuses, the document is not created either.
    await startDocumentWorkflow(deps.temporal, created, documentFacts(row!), deps.lifecycle);
    return created;
  });
  return getDocument(deps.db, id);
}

/**
 * A new DRAFT document with its workflow started.
 * @throws ApiError 409 `document_number_taken`, 400 `unknown_user` for a reviewer or approver
 */
export async function createDocument(
  deps: DocumentServiceDeps,
  input: NewDocument,
  author: DocumentAuthor,
): Promise<DocumentView> {
  return createWithWorkflow(deps, input, author, () =>
    conflict('document_number_taken', `Document number '${input.document_number}' already exists`),
  );
}

/**
 * A new DRAFT version of an EFFECTIVE document (or one scheduled for obsolescence), which the new
 * version supersedes once it becomes EFFECTIVE. What the change leaves out is taken from the current
 * version.
 * @throws ApiError 404, 409 `invalid_transition` (not EFFECTIVE), 409 `version_exists`
 */
export async function createNewVersion(
  deps: DocumentServiceDeps,
  currentId: string,
  changes: Partial<Pick<NewDocument, 'title' | 'description' | 'reviewers' | 'approvers'>>,
  author: DocumentAuthor,
): Promise<DocumentView> {
  const current = await getDocument(deps.db, currentId);
  if (current.status !== 'EFFECTIVE' && current.status !== 'SCHEDULED_FOR_OBSOLESCENCE') {
    throw conflict(
      'invalid_transition',
      `Only an EFFECTIVE document gets a new version; this one is ${current.status}`,
      {
        current_status: current.status,
      },
    );
  }
  const input = {
    title: changes.title ?? current.title,
    description: changes.description ?? current.description ?? undefined,
    reviewers: changes.reviewers ?? current.reviewers,
    approvers: changes.approvers ?? current.approvers,
    supersedes: { id: current.id, documentNumber: current.document_number, version: current.version },
  };
  return createWithWorkflow(deps, input, author, () =>
    conflict('version_exists', `Version ${current.version + 1} of ${current.document_number} already exists`),
  );
}
