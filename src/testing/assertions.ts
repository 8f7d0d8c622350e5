import assert from "node:assert/strict";
import type { ErrorCode } from "../core/errors.js";

/** The `code` of an error-like value (AsmErrors from any copy of the library), else the value. */
export function errorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : error;
}

/**
 * Asserts that `promise` rejects with an AsmError of `code` whose details include `details`.
 * Checked by shape, not `instanceof`, so an implementation built on another copy of the library
 * passes.
 */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  details: Record<string, unknown> = {},
  context = "",
): Promise<void> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    assert.equal(
      error.name,
      "AsmError",
      `${context}: expected an AsmError, got ${error.name}: ${error.message}`,
    );
    assert.equal(errorCode(error), code, `${context} ${error.message}`);
    const actual = "details" in error && typeof error.details === "object" ? error.details : {};
    for (const [key, value] of Object.entries(details)) {
      assert.deepEqual((actual as Record<string, unknown>)[key], value, `details.${key} of ${code}`);
    }
    return;
  }
  assert.fail(`expected ${code} ${context}, got ${JSON.stringify(outcome)?.slice(0, 200)}`);
}
