import { AsmError } from "../core/errors.js";
import type { RunEnd } from "../ports/run-extension.js";

/** How a run ended, as telemetry reports it. */
export interface RunEndStatus {
  status: "completed" | "failed" | "cancelled" | "timeout";
  /**
   * The error code for a failed or timed-out run (`error.type` in OpenTelemetry); absent for a
   * completed or cancelled one — a cancel is a caller's decision, not a failure.
   */
  errorType?: string;
  /** The failure itself, for a failed or timed-out run. */
  error?: AsmError;
  /** Whether a cancel was an interrupt (the provider's session stays resumable). */
  interrupted?: boolean;
}

/**
 * The status a run will end with, as seen from a run extension's `finish`: a failure an earlier
 * extension decided (a policy limit found at the end) fails a run the provider completed.
 */
export function runEndStatus(end: Pick<RunEnd, "outcome" | "failure">): RunEndStatus & { message?: string } {
  const { outcome, failure } = end;
  if (outcome.status === "completed") {
    return failure
      ? { status: "failed", errorType: failure.code, error: failure, message: failure.message }
      : { status: "completed" };
  }
  if (outcome.status === "failed") {
    return {
      status: "failed",
      errorType: outcome.error.code,
      error: outcome.error,
      message: outcome.error.message,
    };
  }
  if (outcome.status === "timeout") {
    const error = new AsmError("timeout", `run timed out after ${outcome.timeoutMs} ms`, {
      details: { timeoutMs: outcome.timeoutMs },
    });
    return { status: "timeout", errorType: "timeout", error, message: error.message };
  }
  return { status: "cancelled", ...(outcome.interrupted ? { interrupted: true } : {}) };
}
