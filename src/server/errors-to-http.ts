import { AsmError, type ErrorCode } from "../core/errors.js";

/**
 * Codes only the HTTP layer raises: there is no library operation behind them, so they stay out
 * of the library's taxonomy. `unauthorized` (401): the bearer token is missing or wrong.
 * `payload_too_large` (413): the request body is over the server's limit.
 */
export type HttpOnlyErrorCode = "unauthorized" | "payload_too_large";

/** Every `code` an error body can carry. */
export type ApiErrorCode = ErrorCode | HttpOnlyErrorCode;

/** The JSON body of every error response. */
export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  /** What the caller can do about it, when there is something. */
  hint?: string;
  /** Structured facts (validation issues, ids, limits), when the error has them. */
  details?: Record<string, unknown>;
}

/**
 * The HTTP status of each error code. Client mistakes are 4xx (400 malformed, 404 unknown, 409 a
 * state that forbids the call, 422 a well-formed request the provider cannot serve, 429 a limit
 * that frees up), failures of what the server depends on are 5xx (502 the provider failed, 503 a
 * dependency is unavailable or busy — retry, 504 it took too long), everything else 500.
 */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ApiErrorCode, number>> = {
  validation_error: 400,
  invalid_input: 400,
  missing_required_field: 400,
  invalid_format: 400,
  invalid_cursor: 400,
  invalid_event_type: 400,
  invalid_capability_type: 400,
  unauthorized: 401,
  policy_violation: 403,
  tool_permission_denied: 403,
  not_found: 404,
  session_not_found: 404,
  run_not_found: 404,
  provider_not_found: 404,
  capability_not_found: 404,
  tool_not_found: 404,
  command_not_found: 404,
  invalid_status: 409,
  invalid_transition: 409,
  stream_closed: 409,
  context_mismatch: 409,
  session_mismatch: 409,
  run_mismatch: 409,
  already_exists: 409,
  duplicate_capability: 409,
  cancelled: 409,
  invalid_operation: 409,
  payload_too_large: 413,
  missing_required_capability: 422,
  capability_not_supported: 422,
  provider_rate_limited: 429,
  provider_quota_exceeded: 429,
  max_sessions_exceeded: 429,
  max_runs_exceeded: 429,
  internal_error: 500,
  unknown_error: 500,
  storage_error: 500,
  storage_corrupt: 500,
  storage_write_failed: 500,
  storage_read_failed: 500,
  query_error: 500,
  maintenance_error: 500,
  tool_error: 500,
  tool_execution_failed: 500,
  command_failed: 500,
  provider_error: 502,
  provider_authentication_failed: 502,
  parse_error: 502,
  provider_unavailable: 503,
  storage_connection_failed: 503,
  storage_busy: 503,
  dependency_not_available: 503,
  migration_required: 503,
  provider_timeout: 504,
  timeout: 504,
};

/** The HTTP status an error code maps to (500 for a code the table does not know). */
export function httpStatusOf(code: string): number {
  return (HTTP_STATUS_BY_CODE as Record<string, number>)[code] ?? 500;
}

/** An error raised by the HTTP layer itself, with one of its own codes. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly code: HttpOnlyErrorCode,
    message: string,
    readonly hint?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * The status and JSON body of anything a handler threw. An error that is not an AsmError or
 * HttpError is an `internal_error` whose message is not shown: it may carry internals.
 */
export function errorResponse(error: unknown): { status: number; body: ApiErrorBody } {
  if (error instanceof HttpError) {
    return {
      status: httpStatusOf(error.code),
      body: {
        code: error.code,
        message: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
        ...(error.details ? { details: error.details } : {}),
      },
    };
  }
  if (AsmError.is(error)) {
    return {
      status: httpStatusOf(error.code),
      body: {
        code: error.code,
        message: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
        ...(Object.keys(error.details).length > 0 ? { details: error.details } : {}),
      },
    };
  }
  return {
    status: 500,
    body: { code: "internal_error", message: "internal server error", hint: "see the server's log" },
  };
}
