import type { DocumentChangeStep } from '../../activities/documents';
import type { LifecycleState } from '../../common';

/** The parts of the state a change moves ahead of its database write, and that a refused write puts back. */
type Undo = Pick<LifecycleState, 'status' | 'effectiveAt' | 'obsoleteAt' | 'openTasks'>;

/** One batch of database steps not written yet, with what puts the state back and who waits for it. */
interface Batch {
  steps: DocumentChangeStep[];
  undo: Undo;
  /**
   * Settles true once the steps are committed, false once they are refused or dropped. Made only
   * when asked for: every promise in workflow code costs the SDK a stack trace, and most batches
   * have nobody waiting.
   */
  committed?: { promise: Promise<boolean>; settle: (committed: boolean) => void };
}

/**
 * The database steps of the change a document workflow is making (an update, a signal, an
 * instant), held until the change writes them in one transaction (see ONE_TRANSACTION_PATCH in
 * ./document.ts). The workflow's state moves ahead as each step is added; the state as it was
 * before the first one is kept, so that a write the database refuses leaves the state as the
 * database still has it.
 */
export class PendingChanges {
  private batch: Batch | undefined;

  constructor(private readonly state: LifecycleState) {}

  /** Some step waits to be written. */
  get any(): boolean {
    return this.batch !== undefined;
  }

  /** Holds `step` for the next write; call it before moving the state for it. */
  add(step: DocumentChangeStep): void {
    if (!this.batch) {
      const { status, effectiveAt, obsoleteAt, openTasks } = this.state;
      const undo = { status, effectiveAt, obsoleteAt, openTasks: openTasks.map((task) => ({ ...task })) };
      this.batch = { steps: [], undo };
    }
    this.batch.steps.push(step);
  }

  /** Settles once the steps added so far are written (true) or refused (false); at once true when none waits. */
  committed(): Promise<boolean> {
    const batch = this.batch;
    if (!batch) return Promise.resolve(true);
    if (!batch.committed) {
      let settle: (committed: boolean) => void = () => undefined;
      const promise = new Promise<boolean>((resolve) => (settle = resolve));
      batch.committed = { promise, settle };
    }
    return batch.committed.promise;
  }

  /**
   * Writes the steps added so far with `write` (nothing when none waits) and returns its answer.
   * When `write` fails, the state goes back to how it was before the first step, and the failure
   * is thrown.
   */
  async write<T>(write: (steps: DocumentChangeStep[]) => Promise<T>): Promise<T | undefined> {
    const batch = this.batch;
    if (!batch) return undefined;
    this.batch = undefined;
    try {
      const written = await write(batch.steps);
      batch.committed?.settle(true);
      return written;
    } catch (error) {
      Object.assign(this.state, batch.undo);
      batch.committed?.settle(false);
      throw error;
    }
  }

  /** Drops the steps not written (their change failed before writing them) and puts the state back. */
  drop(): boolean {
    const batch = this.batch;
    if (!batch) return false;
    this.batch = undefined;
    Object.assign(this.state, batch.undo);
    batch.committed?.settle(false);
    return true;
  }
}
