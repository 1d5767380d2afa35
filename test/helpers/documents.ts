import { eq } from 'drizzle-orm';
import { insertDocument } from '../../api/services/documents';
import { createUser } from '../../api/services/users';
import type { UserRole } from '../../common';
import { schema, type DatabaseHandle } from '../../db';
import { uniqueName } from './api';

export interface SeededUser {
  username: string;
  email: string;
  id: string;
}

export async function seedUser(
  database: DatabaseHandle,
  role: UserRole,
  fields: { manager?: string } = {},
): Promise<SeededUser> {
  const username = uniqueName(role);
  const email = `${username}@example.test`;
  const user = await createUser(
    database.db,
    { username, password: 'password-for-tests', role, email, ...fields },
    { username: 'test-setup' },
  );
  return { username, email, id: user.id };
}

export interface SeededDocument {
  id: string;
  author: SeededUser;
  reviewers: SeededUser[];
  approvers: SeededUser[];
}

/** A DRAFT document with its people, as the API creates it (without starting its workflow). */
export async function seedDocument(
  database: DatabaseHandle,
  options: { reviewers?: number; approvers?: number; supersedes?: string; reviewerManager?: string } = {},
): Promise<SeededDocument> {
  const author = await seedUser(database, 'author');
  const reviewers = await Promise.all(
    Array.from({ length: options.reviewers ?? 2 }, () =>
      seedUser(database, 'reviewer', { manager: options.reviewerManager }),
    ),
  );
  const approvers = await Promise.all(
    Array.from({ length: options.approvers ?? 1 }, () => seedUser(database, 'approver')),
  );
  const previous = options.supersedes
    ? (await database.db.select().from(schema.documents).where(eq(schema.documents.id, options.supersedes)))[0]
    : undefined;
  const id = await database.db.transaction((tx) =>
    insertDocument(
      tx,
      {
        title: uniqueName('SOP'),
        reviewers: reviewers.map((r) => r.username),
        approvers: approvers.map((a) => a.username),
        supersedes: previous && { id: previous.id, documentNumber: previous.documentNumber, version: previous.version },
      },
      { id: author.id, username: author.username },
      { username: author.username },
    ),
  );
  return { id, author, reviewers, approvers };
}

export async function documentRow(database: DatabaseHandle, id: string) {
  const [row] = await database.db.select().from(schema.documents).where(eq(schema.documents.id, id));
  if (!row) throw new Error(`no document ${id}`);
  return row;
}

export async function transitionsOf(database: DatabaseHandle, id: string) {
  return database.db
    .select()
    .from(schema.documentTransitions)
    .where(eq(schema.documentTransitions.documentId, id))
    .orderBy(schema.documentTransitions.id);
}

export async function notificationsOf(database: DatabaseHandle, documentId: string) {
  return database.db
    .select()
    .from(schema.notificationOutbox)
    .where(eq(schema.notificationOutbox.documentId, documentId))
    .orderBy(schema.notificationOutbox.createdAt);
}
