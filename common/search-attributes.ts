import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes the namespace must have, so that operators can run
 * `temporal workflow list --query "DocumentStatus='EFFECTIVE'"`. Registered by the dev server from
 * temporal-dev.yaml and, on a real cluster, with `temporal operator search-attribute create`.
 */
export const CUSTOM_SEARCH_ATTRIBUTES = {
  DocumentStatus: 'Keyword',
  DocumentNumber: 'Keyword',
  EffectiveAt: 'Datetime',
  ObsoleteAt: 'Datetime',
} as const;

export type CustomSearchAttributeName = keyof typeof CUSTOM_SEARCH_ATTRIBUTES;

/** Typed keys for `upsertTypedSearchAttributes` in the document workflow. */
export const DOCUMENT_SEARCH_ATTRIBUTE_KEYS = {
  DocumentStatus: defineSearchAttributeKey('DocumentStatus', SearchAttributeType.KEYWORD),
  DocumentNumber: defineSearchAttributeKey('DocumentNumber', SearchAttributeType.KEYWORD),
  EffectiveAt: defineSearchAttributeKey('EffectiveAt', SearchAttributeType.DATETIME),
  ObsoleteAt: defineSearchAttributeKey('ObsoleteAt', SearchAttributeType.DATETIME),
};
