import { condition } from '@temporalio/workflow';

/**
 * An instant a workflow sleeps until while people may move or cancel it: a document's effective or
 * obsolescence instant, a review task's reminders and escalation. Whoever moves it calls `rearm()`;
 * the sleeper wakes, reads the instant again and sleeps anew, or acts when the instant comes (and
 * re-checks first: a change may slip in between the timer firing and the action's turn).
 *
 * Each sleep until an instant is one Temporal timer, cancelled when re-armed; a sleep without an
 * instant starts none. Saved histories hold these timers in this order: a change to when a sleep
 * starts one must be guarded by `patched()`.
 */
export class RearmableDeadline {
  private moves = 0;
  private seen = 0;

  /** The instant moved or was cancelled: the sleeper wakes and reads it again. */
  rearm(): void {
    this.moves++;
  }

  /**
   * For a sleeper that reads its instant afresh from state each time: the moves made until now are
   * in what it is about to read, so they do not wake it. A sleeper that keeps its own schedule (the
   * next reminder) does not call this, and a move made while it was acting wakes its next sleep.
   */
  settle(): void {
    this.seen = this.moves;
  }

  /**
   * Sleeps until `at` (epoch milliseconds), or without an instant (`undefined`) until re-armed.
   * @returns `true` when the instant came first; `false` when re-armed, whether during this sleep or
   *   since the last sleep that ended re-armed (unless settled since).
   */
  async sleepUntil(at: number | undefined): Promise<boolean> {
    const moved = () => this.moves !== this.seen;
    let reached = false;
    if (at === undefined) await condition(moved);
    // At least 1 ms: an instant already past fires at once, through a timer like any other.
    else reached = !(await condition(moved, Math.max(at - Date.now(), 1)));
    if (!reached) this.seen = this.moves;
    return reached;
  }
}
