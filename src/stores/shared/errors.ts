import { AsmError } from "../../core/errors.js";

/** Errors both stores raise with the same code, message and details. */

export function validationError(message: string, details: Record<string, unknown>): AsmError {
  return new AsmError("validation_error", message, { details });
}

export function sessionNotFound(sessionId: string): AsmError {
  return new AsmError("session_not_found", `session ${sessionId} not found`, { details: { sessionId } });
}

export function runNotFound(runId: string): AsmError {
  return new AsmError("run_not_found", `run ${runId} not found`, { details: { runId } });
}

/** A closed store stays closed: `storage_error`, not the retryable `storage_connection_failed`. */
export function storeClosed(store: string): AsmError {
  return new AsmError("storage_error", `${store} store is closed`, {
    details: { closed: true },
    hint: "Open a new store; a closed one cannot be reused.",
  });
}

/**
 * A compare-and-set save whose `expectedStatus` no longer matches the stored status. `runId` /
 * `sessionId`, `expected` and `actual` name the conflict; `id`, `from` and `to` the refused move.
 */
export function statusMismatch(
  entity: "session" | "run",
  id: string,
  expected: string,
  actual: string,
  to: string,
): AsmError {
  return new AsmError(
    "invalid_transition",
    `${entity} ${id} is ${actual}, not ${expected}; another writer changed it first`,
    { details: { [`${entity}Id`]: id, expected, actual, entity, id, from: actual, to } },
  );
}
