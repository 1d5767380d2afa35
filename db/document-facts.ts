import type { DocumentFacts } from '../common';
import type { DocumentRow } from './schema';

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** What a document's workflow is started with (or reloads): the row's lifecycle fields. */
export function documentFacts(row: DocumentRow): DocumentFacts {
  return {
    documentNumber: row.documentNumber,
    status: row.status,
    effectiveAt: iso(row.effectiveAt),
    obsoleteAt: iso(row.obsoleteAt),
    supersedesId: row.supersedesId,
  };
}
