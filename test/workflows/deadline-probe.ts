// A workflow for test/deadline.test.ts alone (bundled by that test, never by the worker): it sleeps on
// a RearmableDeadline that the test moves by update, and records each wake.
import { condition, defineQuery, defineUpdate, setHandler } from '@temporalio/workflow';
import { RearmableDeadline } from '../../workflows/deadline';

export interface Wake {
  reached: boolean;
  /** Workflow time of the wake, epoch milliseconds. */
  at: number;
}

export interface ProbeInput {
  /** The first instant (epoch milliseconds), or null for none. */
  at: number | null;
  /** Ends after this many wakes. */
  wakes: number;
  /** Call `settle()` before each sleep, as a sleeper that reads its instant afresh does. */
  settle?: boolean;
  /** After an instant is reached, "act" until the release signal, so that a move can land meanwhile. */
  holdAfterReached?: boolean;
}

// Updates rather than signals: the test knows the probe has taken each one before it lets time skip.
/** A new instant, or null to cancel it. */
export const moveUpdate = defineUpdate<void, [number | null]>('move');
export const releaseUpdate = defineUpdate<void>('release');
export const wakesQuery = defineQuery<Wake[]>('wakes');

export async function deadlineProbe(input: ProbeInput): Promise<Wake[]> {
  let instant = input.at ?? undefined;
  let released = false;
  const deadline = new RearmableDeadline();
  const wakes: Wake[] = [];
  setHandler(moveUpdate, (next) => {
    instant = next ?? undefined;
    deadline.rearm();
  });
  setHandler(releaseUpdate, () => {
    released = true;
  });
  setHandler(wakesQuery, () => wakes);
  while (wakes.length < input.wakes) {
    if (input.settle) deadline.settle();
    const reached = await deadline.sleepUntil(instant);
    wakes.push({ reached, at: Date.now() });
    if (reached && input.holdAfterReached && wakes.length < input.wakes) {
      await condition(() => released);
      released = false;
    }
  }
  return wakes;
}
