import { AsmError, type ErrorCategory, type ErrorCode } from "../core/errors.js";

/**
 * What a workflow engine should do with a failed step:
 * - `retry`: run the step again now (a transient failure: a timeout, a dropped connection);
 * - `wait_and_retry`: run it again after a pause (`retryAfterMs` when known): a rate or
 *   concurrency limit that frees up;
 * - `failover`: run it on another provider: this one is unavailable;
 * - `cancel`: stop the workflow branch without counting a failure: someone cancelled, or a
 *   policy stopped the run on purpose;
 * - `abort`: fail the step: retrying would fail the same way.
 */
export type WorkflowAction = "retry" | "wait_and_retry" | "failover" | "cancel" | "abort";

/**
 * The action for each error code that does not abort. The seed's table, extended to this
 * library's codes: `storage_busy` retries like `storage_connection_failed` (a lock held past
 * the busy timeout is transient), `max_sessions_exceeded` waits like `max_runs_exceeded`. Every
 * other code — `provider_error`, authentication, quota, validation, not found, `parse_error`,
 * `storage_corrupt`, `internal_error`… — aborts.
 */
export const WORKFLOW_ACTIONS: Readonly<Partial<Record<ErrorCode, WorkflowAction>>> = {
  provider_timeout: "retry",
  timeout: "retry",
  storage_connection_failed: "retry",
  storage_busy: "retry",
  provider_rate_limited: "wait_and_retry",
  max_runs_exceeded: "wait_and_retry",
  max_sessions_exceeded: "wait_and_retry",
  provider_unavailable: "failover",
  cancelled: "cancel",
  policy_violation: "cancel",
};

export interface ErrorClassification {
  /** The error as an `AsmError` (anything else thrown becomes an `internal_error`). */
  error: AsmError;
  code: ErrorCode;
  category: ErrorCategory;
  /** `error.retryable`: the library's own verdict (router failover, storage retries). */
  retryable: boolean;
  action: WorkflowAction;
  /** For `wait_and_retry` (and `retry`): how long the provider asked to wait, when it said. */
  retryAfterMs?: number;
}

/** Classifies a step's failure into the action a workflow engine should take (`WORKFLOW_ACTIONS`). */
export function classifyError(error: unknown): ErrorClassification {
  const asmError = AsmError.from(error);
  const action = WORKFLOW_ACTIONS[asmError.code] ?? "abort";
  const { retryAfterMs } = asmError.details;
  return {
    error: asmError,
    code: asmError.code,
    category: asmError.category,
    retryable: asmError.retryable,
    action,
    ...((action === "retry" || action === "wait_and_retry") &&
    typeof retryAfterMs === "number" &&
    retryAfterMs >= 0
      ? { retryAfterMs }
      : {}),
  };
}
