import { AsmError } from "./errors.js";

/**
 * Refuses an implementation of a port (a store, a provider adapter, a run extension) written
 * against another version of the contract than the one this package drives: it would be
 * misdriven in ways no test of its own would show. `what` names it in the message.
 */
export function requireSpecification(what: string, actual: unknown, expected: string): void {
  if (actual === expected) return;
  throw new AsmError(
    "validation_error",
    `${what} implements specification ${actual === undefined ? "(none declared)" : String(actual)}, not ${expected}`,
    {
      details: { expected, actual: actual === undefined ? null : String(actual) },
      hint: `upgrade it or this package; it must declare specificationVersion "${expected}"`,
    },
  );
}
