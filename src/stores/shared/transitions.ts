import { AsmError } from "../../core/errors.js";
import {
  INITIAL_RUN_STATUS,
  RUN_STATUSES,
  RUN_TRANSITIONS,
  type Run,
  type RunStatus,
} from "../../core/run.js";
import {
  INITIAL_SESSION_STATUS,
  SESSION_STATUSES,
  SESSION_TRANSITIONS,
  type Session,
  type SessionStatus,
} from "../../core/session.js";
import { assertTransition, type TransitionTable } from "../../core/state-machine.js";
import { runNotFound, sessionNotFound, statusMismatch } from "./errors.js";

/** What the check needs to know of one entity's state machine. */
interface Lifecycle<S extends string> {
  entity: "session" | "run";
  statuses: readonly S[];
  table: TransitionTable<S>;
  initial: S;
  notFound(id: string): AsmError;
}

const SESSION_LIFECYCLE: Lifecycle<SessionStatus> = {
  entity: "session",
  statuses: SESSION_STATUSES,
  table: SESSION_TRANSITIONS,
  initial: INITIAL_SESSION_STATUS,
  notFound: sessionNotFound,
};

const RUN_LIFECYCLE: Lifecycle<RunStatus> = {
  entity: "run",
  statuses: RUN_STATUSES,
  table: RUN_TRANSITIONS,
  initial: INITIAL_RUN_STATUS,
  notFound: runNotFound,
};

/**
 * Checks a session save against the status the store holds for it (`undefined`: none stored).
 * See `checkSave`.
 */
export function checkSessionSave(
  session: Session,
  stored: string | undefined,
  expectedStatus?: SessionStatus,
): void {
  checkSave(SESSION_LIFECYCLE, session.id, stored, session.status, expectedStatus);
}

/** Checks a run save against the status the store holds for it (`undefined`: none stored). See `checkSave`. */
export function checkRunSave(run: Run, stored: string | undefined, expectedStatus?: RunStatus): void {
  checkSave(RUN_LIFECYCLE, run.id, stored, run.status, expectedStatus);
}

/**
 * The one check every store makes before it writes a session or a run. A store calls it with the
 * status it holds, read inside the write's own transaction (under the row lock, or the database's
 * write lock), so no other writer can move the record in between:
 *
 * - nothing stored: a create, which must be in the initial status (`pending`); with
 *   `expectedStatus`, the record must exist (`session_not_found` / `run_not_found`);
 * - `expectedStatus` given (compare-and-set): the stored status must be that one;
 * - the same status again: an update of other fields, allowed in every status, final ones too;
 * - any other move must be in the entity's transition table (`core/session.ts`, `core/run.ts`).
 *
 * Every refusal is `invalid_transition` with `details.id`, `from` (`null` for a create) and `to`.
 * (An imported session is not a transition: `importSession` copies history as it was, and does
 * not come through here.)
 */
function checkSave<S extends string>(
  lifecycle: Lifecycle<S>,
  id: string,
  stored: string | undefined,
  to: S,
  expectedStatus: S | undefined,
): void {
  const { entity, initial } = lifecycle;
  if (stored === undefined) {
    if (expectedStatus !== undefined) throw lifecycle.notFound(id);
    if (to !== initial) {
      throw new AsmError(
        "invalid_transition",
        `${entity} ${id} is not stored yet: it must be created ${initial}, not ${to}`,
        {
          details: { entity, id, from: null, to, allowed: [initial] },
          hint: `Save it as ${initial} first, then move it through its lifecycle.`,
        },
      );
    }
    return;
  }
  const from = lifecycle.statuses.find((status) => status === stored);
  if (from === undefined) {
    throw new AsmError("storage_corrupt", `${entity} ${id} is stored with an unknown status ${stored}`, {
      details: { entity, id, status: stored },
    });
  }
  if (expectedStatus !== undefined && from !== expectedStatus) {
    throw statusMismatch(entity, id, expectedStatus, from, to);
  }
  if (from !== to) assertTransition(lifecycle.table, entity, id, from, to);
}
