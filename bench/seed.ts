import { randomUUID } from 'node:crypto';
import type postgres from 'postgres';
import { documentWorkflowId, type DocumentStatus } from '../common';

/** A document row as the benchmark writes it straight into the database (no API, no workflow). */
export interface SeedDocument {
  id: string;
  documentNumber: string;
  title: string;
  status: DocumentStatus;
  authorId: string;
  effectiveAt: Date | null;
  obsoleteAt: Date | null;
  createdAt: Date;
}

/** Rows per INSERT: few statements, each well under PostgreSQL's 65,535 parameters. */
const ROWS_PER_INSERT = 1000;

/** The id of an active user by name (the admin authors seeded documents). */
export async function userId(sql: postgres.Sql, username: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select id from users where username = ${username}`;
  if (!row) throw new Error(`no user named ${username}`);
  return row.id;
}

/** `count` documents numbered `<prefix>-000001`..., each a fresh id, authored by `authorId`. */
export function seedDocuments(
  count: number,
  prefix: string,
  shape: (index: number) => Pick<SeedDocument, 'status' | 'effectiveAt' | 'obsoleteAt' | 'createdAt'>,
  authorId: string,
): SeedDocument[] {
  return Array.from({ length: count }, (_, index) => ({
    id: randomUUID(),
    documentNumber: `${prefix}-${String(index + 1).padStart(6, '0')}`,
    title: `Benchmark procedure ${prefix} ${index + 1}`,
    authorId,
    ...shape(index),
  }));
}

/**
 * Writes documents as the API and their workflows leave them: the row with every column a real
 * document has, its reviewers and approvers, and its creation transition. Multi-row INSERTs in one
 * transaction, so 10,000 documents take seconds.
 */
export async function insertDocuments(
  sql: postgres.Sql,
  documents: SeedDocument[],
  assignees: { reviewerId: string; approverId: string },
): Promise<void> {
  await sql.begin(async (tx) => {
    for (let start = 0; start < documents.length; start += ROWS_PER_INSERT) {
      const chunk = documents.slice(start, start + ROWS_PER_INSERT);
      await tx`insert into documents ${tx(
        chunk.map((d) => ({
          id: d.id,
          document_number: d.documentNumber,
          version: 1,
          title: d.title,
          description: 'Seeded by npm run bench',
          status: d.status,
          author_id: d.authorId,
          // ISO text, cast by the server: postgres.js types a column by its first row, and a null there breaks Dates.
          effective_at: d.effectiveAt?.toISOString() ?? null,
          obsolete_at: d.obsoleteAt?.toISOString() ?? null,
          obsolescence_reason: d.obsoleteAt ? 'withdrawn' : null,
          workflow_id: documentWorkflowId(d.id),
          created_at: d.createdAt.toISOString(),
          updated_at: d.createdAt.toISOString(),
        })),
      )}`;
      await tx`insert into document_assignees ${tx(
        chunk.flatMap((d) => [
          { document_id: d.id, user_id: assignees.reviewerId, kind: 'review' },
          { document_id: d.id, user_id: assignees.approverId, kind: 'approval' },
        ]),
      )}`;
      await tx`insert into document_transitions ${tx(
        chunk.map((d) => ({
          document_id: d.id,
          from_status: null,
          to_status: 'DRAFT',
          actor: 'bench',
          occurred_at: d.createdAt.toISOString(),
          idempotency_key: `create:${d.id}`,
        })),
      )}`;
    }
  });
}
