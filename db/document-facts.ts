import type { DocumentFacts } from '../common';
import type { DocumentRow } from './schema';
import { isoOrNull } from '../lib/dates';

/** What a document's workflow is started with (or reloads): the row's lifecycle fields. */
export function documentFacts(row: DocumentRow): DocumentFacts {
  return {
    documentNumber: row.documentNumber,
    status: row.status,
    effectiveAt: isoOrNull(row.effectiveAt),
    obsoleteAt: isoOrNull(row.obsoleteAt),
    supersedesId: row.supersedesId,
  };
}
