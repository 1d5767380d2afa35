import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import { FailureType, type DocumentStatus, type LifecycleState } from '../../common';
import type { Document } from './document';

/** An update refused with the document's current status (the API answers 409, 400 or 403 by its type). */
export const refuse = (type: FailureType, message: string, state: LifecycleState) =>
  ApplicationFailure.create({ type, message, nonRetryable: true, details: [{ status: state.status }] });

/** An ISO instant from a request, in epoch milliseconds; refused as InvalidRequest when it does not parse. */
export function requireInstant(value: string, field: string, state: LifecycleState): number {
  const instant = Date.parse(value);
  if (Number.isNaN(instant))
    throw refuse(FailureType.InvalidRequest, `${field} is not a valid instant: ${value}`, state);
  return instant;
}

/** One update of the document workflow: where it applies, what it checks, what it does. */
export interface GuardedUpdate<Request, Checked> {
  /** The statuses it applies in; in any other it is refused as InvalidTransition. */
  allowedIn: readonly DocumentStatus[];
  /** For the refusal: "cannot <action> document <id>: it is <status>". */
  action: string;
  /** What the current state must also allow (say, an open task of the actor's); the result goes to `apply`. */
  check?: (request: Request) => Checked;
  /** What the request alone must satisfy (say, an instant that parses). */
  validate?: (request: Request) => void;
  /** The change, run in turn with every other change of the document. */
  apply: (request: Request, checked: Checked) => Promise<void>;
}

/**
 * Registers an update with its guards; it answers with the state after the change.
 *
 * Where the status (and `check`) is checked, and why each place:
 * - the validator refuses before anything reaches history: a refused update leaves no event in the
 *   workflow and no row in the database, and the caller gets the current status at once;
 * - the handler checks again, because state can change between validation and the handler's turn:
 *   changes run one at a time (`exclusive`), so an update validated while another change was still
 *   running (a rejection closing the round, a reload) runs after it, on a state its validator never
 *   saw. `validate` looks at the request alone, which cannot change: the validator's check suffices,
 *   and the handler does not repeat it;
 * - the transition activity's conditional UPDATE (only from the statuses in its `from`) is the
 *   database's own guard against a stale workflow, one whose document was changed outside it: it
 *   fails with DocumentStateConflict instead of overwriting that change.
 */
export function guardedUpdate<Request, Checked = void>(
  document: Document,
  update: UpdateDefinition<LifecycleState, [Request]>,
  rule: GuardedUpdate<Request, Checked>,
): void {
  const { state } = document;
  const guard = (request: Request): Checked => {
    if (!rule.allowedIn.includes(state.status)) {
      throw refuse(
        FailureType.InvalidTransition,
        `cannot ${rule.action} document ${state.documentId}: it is ${state.status}`,
        state,
      );
    }
    return rule.check?.(request) as Checked;
  };
  setHandler(
    update,
    (request) =>
      document.exclusive(async () => {
        const checked = guard(request);
        await rule.apply(request, checked);
        return state;
      }),
    {
      validator: (request) => {
        guard(request);
        rule.validate?.(request);
      },
    },
  );
}
