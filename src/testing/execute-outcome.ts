import assert from "node:assert/strict";
import { AsmError, type ErrorCode } from "../core/errors.js";
import type { AdapterEvent } from "../core/events.js";
import type { ExecuteRequest, ExecuteResult, ProviderAdapter } from "../ports/provider-adapter.js";
import { RecordingSink } from "./adapter-conformance.js";

/** How one `execute` ended (its result or its error), with every event it emitted. */
export interface ExecuteOutcome {
  sink: RecordingSink;
  result?: ExecuteResult;
  error?: unknown;
}

/** Executes `request` on `adapter` into a fresh `RecordingSink`; never rejects: a failure is in `error`. */
export async function executeOutcome(
  adapter: ProviderAdapter,
  request: ExecuteRequest,
  signal: AbortSignal = new AbortController().signal,
): Promise<ExecuteOutcome> {
  const sink = new RecordingSink();
  try {
    return { sink, result: await adapter.execute(request, sink, signal) };
  } catch (error) {
    return { sink, error };
  }
}

/** The outcome's result; fails (with the error's code and message) when the run rejected. */
export function expectResult(outcome: ExecuteOutcome): ExecuteResult {
  if (outcome.result === undefined) {
    const { error } = outcome;
    assert.fail(
      `expected success, got ${AsmError.is(error) ? `${error.code}: ${error.message}` : String(error)}`,
    );
  }
  return outcome.result;
}

/** The outcome's error; fails unless the run rejected with an `AsmError` of `code`. */
export function expectError(outcome: ExecuteOutcome, code: ErrorCode): AsmError {
  const { error } = outcome;
  assert.ok(AsmError.is(error), `expected an AsmError ${code}, got ${String(error)}`);
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
  return error;
}

/** Events as `[type, data]` pairs, to compare a run's whole stream at once. */
export function eventList(events: readonly AdapterEvent[]): [string, unknown][] {
  return events.map((event) => [event.type, event.data]);
}
