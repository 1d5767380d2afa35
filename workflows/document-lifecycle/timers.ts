import { ActivityFailure, getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { documentWorkflowId, supersededSignal, SYSTEM_SCHEDULER, type LifecycleState } from '../../common';
import { isDocumentActivityFailure, type Document } from './document';

/** The instant the document waits for in its current status, if any (epoch milliseconds). */
export function instantAwaited(state: LifecycleState): number | undefined {
  if (state.status === 'APPROVED_PENDING_EFFECTIVE' && state.effectiveAt) return Date.parse(state.effectiveAt);
  if (state.status === 'SCHEDULED_FOR_OBSOLESCENCE' && state.obsoleteAt) return Date.parse(state.obsoleteAt);
  return undefined;
}

/**
 * The awaited instant has come, to the second: the document becomes EFFECTIVE or OBSOLETE, changed
 * by `system_scheduler`. Runs in its turn with the other changes.
 */
export async function instantReached(document: Document): Promise<void> {
  // A change may have slipped in while this waited for its turn.
  const at = instantAwaited(document.state);
  if (at === undefined || at > Date.now()) return;
  try {
    await timedTransition(document);
    // Written here, so that a refusal is handled below as a transition's used to be.
    if (document.hasPendingChanges) await document.writePendingChanges();
  } catch (error) {
    if (!isDocumentActivityFailure(error)) throw error;
    // The database disagrees (changed outside this workflow): take its word and carry on.
    log.warn('timed transition refused; reloading the document', {
      documentId: document.state.documentId,
      error: String(error instanceof ActivityFailure ? error.cause : error),
    });
    await document.reload();
  }
}

async function timedTransition(document: Document): Promise<void> {
  const { state } = document;
  if (state.status === 'APPROVED_PENDING_EFFECTIVE') {
    await document.transition({
      from: ['APPROVED_PENDING_EFFECTIVE'],
      to: 'EFFECTIVE',
      actor: SYSTEM_SCHEDULER,
      auditAction: 'DOC_EFFECTIVE_PROCESSED',
      notifyAuthor: 'document_effective',
    });
    if (state.supersedesId) {
      // Only once this one is EFFECTIVE in the database (after ONE_TRANSACTION_PATCH its write is
      // held until now): a refused write must not obsolete the version it replaces.
      if (document.hasPendingChanges) await document.writePendingChanges();
      // The version this one replaces becomes OBSOLETE (reason: superseded) in its own workflow.
      await getExternalWorkflowHandle(documentWorkflowId(state.supersedesId)).signal(supersededSignal, {
        byDocumentId: state.documentId,
      });
    }
  } else if (state.status === 'SCHEDULED_FOR_OBSOLESCENCE') {
    await document.transition({
      from: ['SCHEDULED_FOR_OBSOLESCENCE'],
      to: 'OBSOLETE',
      actor: SYSTEM_SCHEDULER,
      auditAction: 'DOC_OBSOLETE_PROCESSED',
      notifyAuthor: 'document_obsolete',
    });
  }
}

/** A newer version became EFFECTIVE: this one is OBSOLETE at once, unless it is not in force (any more). */
export async function superseded(document: Document, byDocumentId: string): Promise<void> {
  const { state } = document;
  if (state.status !== 'EFFECTIVE' && state.status !== 'SCHEDULED_FOR_OBSOLESCENCE') return;
  await document.transition({
    from: ['EFFECTIVE', 'SCHEDULED_FOR_OBSOLESCENCE'],
    to: 'OBSOLETE',
    actor: SYSTEM_SCHEDULER,
    comment: `superseded by ${byDocumentId}`,
    auditAction: 'DOCUMENT_SUPERSEDED',
    changes: { obsoleteAt: new Date().toISOString(), obsolescenceReason: 'superseded' },
    notifyAuthor: 'document_superseded',
  });
}
