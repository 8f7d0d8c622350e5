import type { ProviderErrorPayload } from "./provider-error.js";

/**
 * Every error code the library raises, grouped by category.
 *
 * The seed taxonomy is kept as is; codes it used without listing (`query_error`,
 * `maintenance_error`, `command_not_found`, `command_failed`) are listed here, and a few
 * codes this library needs are added: `provider_not_found`, `storage_busy`, `storage_corrupt`, and
 * `parse_error` (a provider printed output that is not a frame of its protocol: reported on
 * `error_occurred`, never retried — the same output would come again).
 */
export const ERROR_CODES_BY_CATEGORY = {
  validation: ["validation_error", "invalid_input", "missing_required_field", "invalid_format"],
  state: [
    "invalid_status",
    "invalid_transition",
    "invalid_event_type",
    "invalid_capability_type",
    "missing_required_capability",
    "stream_closed",
    "context_mismatch",
    "invalid_cursor",
    "session_mismatch",
    "run_mismatch",
  ],
  resource: [
    "not_found",
    "session_not_found",
    "run_not_found",
    "provider_not_found",
    "capability_not_found",
    "already_exists",
    "duplicate_capability",
  ],
  provider: [
    "provider_error",
    "provider_unavailable",
    "provider_rate_limited",
    "provider_timeout",
    "provider_authentication_failed",
    "provider_quota_exceeded",
    "parse_error",
  ],
  storage: [
    "storage_error",
    "storage_connection_failed",
    "storage_busy",
    "storage_corrupt",
    "dependency_not_available",
    "migration_required",
    "storage_write_failed",
    "storage_read_failed",
    "query_error",
    "maintenance_error",
  ],
  runtime: ["timeout", "cancelled", "policy_violation", "internal_error", "unknown_error"],
  concurrency: [
    "max_sessions_exceeded",
    "max_runs_exceeded",
    "capability_not_supported",
    "invalid_operation",
  ],
  tool: [
    "tool_error",
    "tool_not_found",
    "tool_execution_failed",
    "tool_permission_denied",
    "command_not_found",
    "command_failed",
  ],
} as const;

export type ErrorCategory = keyof typeof ERROR_CODES_BY_CATEGORY;
export type ErrorCode = (typeof ERROR_CODES_BY_CATEGORY)[ErrorCategory][number];

const CATEGORY_BY_CODE: ReadonlyMap<string, ErrorCategory> = new Map(
  (Object.entries(ERROR_CODES_BY_CATEGORY) as [ErrorCategory, readonly ErrorCode[]][]).flatMap(
    ([category, codes]) => codes.map((code) => [code, category] as const),
  ),
);

/**
 * The codes worth retrying (failover, backoff). The seed's five, plus `storage_busy`: a
 * database that stayed locked past its busy timeout is a transient condition by definition.
 */
export const RETRYABLE_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "provider_timeout",
  "provider_rate_limited",
  "provider_unavailable",
  "storage_connection_failed",
  "timeout",
  "storage_busy",
]);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && CATEGORY_BY_CODE.has(value);
}

export function errorCategory(code: ErrorCode): ErrorCategory {
  return CATEGORY_BY_CODE.get(code) ?? "runtime";
}

export function isRetryable(code: ErrorCode): boolean {
  return RETRYABLE_ERROR_CODES.has(code);
}

export interface AsmErrorOptions {
  /** Structured, JSON-safe facts about the failure (ids, limits, offending values). */
  details?: Record<string, unknown>;
  /** Normalized provider failure, when the error came from a provider process or API. */
  providerError?: ProviderErrorPayload;
  /** What the user can do about it; the CLI prints it under the error line. */
  hint?: string;
  /** Where it happened (operation, ids), for logs; JSON-safe. Default: none. */
  context?: Record<string, unknown>;
  /** When it happened, ISO 8601. Default: now. */
  timestamp?: string;
  cause?: unknown;
}

/**
 * Marks AsmErrors under a registry symbol, so an error thrown by another copy of this package
 * (a plugin with its own node_modules) is still recognised: `instanceof` alone would miss it.
 */
const ASM_ERROR_MARKER: unique symbol = Symbol.for("agent-session-manager.AsmError");

/** The one error type the library throws. Match on `code` (`AsmError.is(error, code)`), never on `message`. */
export class AsmError extends Error {
  override readonly name = "AsmError";
  readonly [ASM_ERROR_MARKER] = true;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly providerError: ProviderErrorPayload | undefined;
  readonly hint: string | undefined;
  readonly context: Record<string, unknown> | undefined;
  /** When the error was raised, ISO 8601. */
  readonly timestamp: string;

  constructor(code: ErrorCode, message: string, options: AsmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.providerError = options.providerError;
    this.hint = options.hint;
    this.context = options.context;
    this.timestamp = options.timestamp ?? new Date().toISOString();
  }

  get category(): ErrorCategory {
    return errorCategory(this.code);
  }

  get retryable(): boolean {
    return isRetryable(this.code);
  }

  /** A JSON-safe form, as stored on failed runs and in `run_failed` / `error_occurred` events. */
  toJSON(): SerializedAsmError {
    return {
      code: this.code,
      message: this.message,
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
      ...(this.providerError ? { providerError: this.providerError } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.context ? { context: this.context } : {}),
      ...(this.cause !== undefined ? { cause: summarizeCause(this.cause) } : {}),
      timestamp: this.timestamp,
    };
  }

  /** `AsmError [code]: message`, so a log line or `String(error)` always says the code. */
  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }

  /**
   * Whether `value` is an AsmError — of this copy of the package or another — with `code` when
   * given. Prefer it to `instanceof`.
   */
  static is(value: unknown, code?: ErrorCode): value is AsmError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as { [ASM_ERROR_MARKER]?: unknown })[ASM_ERROR_MARKER] === true &&
      (code === undefined || (value as AsmError).code === code)
    );
  }

  /** The error back from its `toJSON()` form (as stored on a failed run); unknown codes become `unknown_error`. */
  static fromJSON(serialized: SerializedAsmError): AsmError {
    const code = isErrorCode(serialized.code) ? serialized.code : "unknown_error";
    return new AsmError(code, serialized.message, {
      ...(serialized.details ? { details: serialized.details } : {}),
      ...(serialized.providerError ? { providerError: serialized.providerError } : {}),
      ...(serialized.hint ? { hint: serialized.hint } : {}),
      ...(serialized.context ? { context: serialized.context } : {}),
      ...(serialized.timestamp ? { timestamp: serialized.timestamp } : {}),
      // The summary stands in for the original cause, so the error serializes the same again.
      ...(serialized.cause ? { cause: serialized.cause } : {}),
    });
  }

  /** Wraps anything thrown into an AsmError, keeping AsmErrors (of any copy) as they are. */
  static from(error: unknown, fallbackCode: ErrorCode = "internal_error"): AsmError {
    if (AsmError.is(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new AsmError(fallbackCode, message, { cause: error });
  }
}

export interface SerializedAsmError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  providerError?: ProviderErrorPayload;
  hint?: string;
  context?: Record<string, unknown>;
  /** What the error wrapped, when it wrapped something (`AsmErrorOptions.cause`). */
  cause?: SerializedErrorCause;
  /** Absent in errors stored before it was recorded. */
  timestamp?: string;
}

/**
 * The JSON-safe summary of an error's cause: its message, with its name and code when it has
 * them (an AsmError's code, a Node error's `ENOENT`…). One level: the cause's own cause is left out.
 */
export interface SerializedErrorCause {
  name?: string;
  code?: string;
  message: string;
}

function summarizeCause(cause: unknown): SerializedErrorCause {
  if (typeof cause !== "object" || cause === null) return { message: String(cause) };
  const { name, code, message } = cause as { name?: unknown; code?: unknown; message?: unknown };
  return {
    ...(typeof name === "string" ? { name } : {}),
    ...(typeof code === "string" ? { code } : {}),
    message: typeof message === "string" ? message : String(cause),
  };
}
