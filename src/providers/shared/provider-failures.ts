import { AsmError, type ErrorCode, isRetryable } from "../../core/errors.js";
import type { AdapterEvent } from "../../core/events.js";
import {
  type ProviderErrorKind,
  providerErrorPayload,
  type StderrLimits,
} from "../../core/provider-error.js";
import type { LineProblem } from "./jsonl-reader.js";

/** Who a failure is about, and what to tell the user to fix it. */
export interface ProviderIdentity {
  /** Provider name as stored on runs and events: `claude`, `codex`, `amp`. */
  name: string;
  /** For messages: `Claude Code`, `Codex CLI`, `Amp`. */
  displayName: string;
  /** How to get the CLI (and SDK) installed, or point the adapter at it. */
  installHint: string;
  /** How to log in or provide credentials. */
  loginHint: string;
}

/**
 * Who the agent providers this package ships are: the one home of their names and hints. Adapters
 * use these for their errors, descriptors (`providers/<name>/descriptor.ts`) for their identity.
 */
export const PROVIDERS = {
  claude: {
    name: "claude",
    displayName: "Claude Code",
    installHint:
      "npm install @anthropic-ai/claude-agent-sdk (its platform package ships the claude binary; do not use " +
      "--omit=optional), or point at a claude executable: executablePath (CLI: --executable or ASM_CLAUDE_EXECUTABLE)",
    loginHint:
      "set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) in the environment (or the adapter's env option), " +
      "or run `claude /login`",
  },
  codex: {
    name: "codex",
    displayName: "Codex CLI",
    installHint:
      "npm install @openai/codex-sdk @openai/codex (with optional dependencies), or point at a codex " +
      "executable: executablePath (CLI: --executable or ASM_CODEX_EXECUTABLE)",
    loginHint:
      "set CODEX_API_KEY (or OPENAI_API_KEY) in the environment (or the adapter's env option), or run `codex login`",
  },
  amp: {
    name: "amp",
    displayName: "Amp",
    installHint:
      "npm install -g @ampcode/cli, or point at an amp executable: executablePath " +
      "(CLI: --executable or ASM_AMP_EXECUTABLE)",
    loginHint:
      "set AMP_API_KEY in the environment (or the adapter's env option); get a key at " +
      "https://ampcode.com/settings (without one the CLI starts an interactive login)",
  },
} as const satisfies Record<string, ProviderIdentity>;

function errnoCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The CLI is not installed or not where the options say: `provider_unavailable` (retryable elsewhere). */
export function executableNotFound(
  provider: ProviderIdentity,
  executable: string | undefined,
  cause?: unknown,
): AsmError {
  const message = executable
    ? `${provider.displayName} executable not found at ${executable}`
    : `${provider.displayName} executable not found`;
  return new AsmError("provider_unavailable", message, {
    details: { provider: provider.name, ...(executable ? { executablePath: executable } : {}) },
    providerError: providerErrorPayload({ provider: provider.name, kind: "cli_not_found", message }),
    hint: provider.installHint,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** An optional npm package the adapter needs is not installed: `dependency_not_available`. */
export function sdkNotInstalled(provider: ProviderIdentity, packageName: string, cause?: unknown): AsmError {
  return new AsmError(
    "dependency_not_available",
    `the ${provider.displayName} adapter needs the optional package ${packageName}, which is not installed`,
    {
      details: { provider: provider.name, package: packageName },
      hint: `npm install ${packageName}`,
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/**
 * A failure to start the CLI process, from spawn's error: ENOENT (missing file or interpreter)
 * is `provider_unavailable`; EACCES and the rest are `provider_error` (kind `process_error`).
 */
export function spawnFailure(provider: ProviderIdentity, executable: string, error: unknown): AsmError {
  const errno = errnoCode(error);
  if (errno === "ENOENT" || errno === "ENOTDIR") return executableNotFound(provider, executable, error);
  const reason = errno === "EACCES" ? "permission denied" : messageOf(error);
  const message = `cannot start ${provider.displayName} (${executable}): ${reason}`;
  return new AsmError("provider_error", message, {
    details: { provider: provider.name, executablePath: executable, ...(errno ? { errno } : {}) },
    providerError: providerErrorPayload({ provider: provider.name, kind: "process_error", message }),
    ...(errno === "EACCES" ? { hint: "check the file is executable (chmod +x) and is not a directory" } : {}),
    cause: error,
  });
}

/** What is known about a failure reported by a provider (an error frame, a status, an exit). */
export interface FailureFacts {
  /** HTTP status the provider's API answered with, when it says. */
  status?: number | null;
  /**
   * The provider's own error type: Claude's `authentication_failed`, `rate_limit`, `overloaded`,
   * `billing_error`; Anthropic/OpenAI API error types such as `rate_limit_error`.
   */
  errorType?: string | null;
  message?: string;
  exitCode?: number | null;
  signal?: string | null;
  stderr?: string;
  /** Milliseconds the provider asked us to wait before retrying. */
  retryAfterMs?: number;
  /** The provider error kind to record when the failure is not auth/rate/quota. Default `unknown`. */
  kind?: ProviderErrorKind;
  details?: Record<string, unknown>;
  cause?: unknown;
}

type FailureClass = "authentication" | "quota" | "rate_limit" | "unavailable" | "timeout" | "other";

const AUTH_TYPES = new Set([
  "authentication_failed",
  "authentication_error",
  "permission_error",
  "oauth_org_not_allowed",
  "invalid_api_key",
  "unauthorized",
]);
const QUOTA_TYPES = new Set(["billing_error", "insufficient_quota", "quota_exceeded"]);
// `overloaded` is a capacity signal: like a rate limit, it passes if the caller waits or goes elsewhere.
const RATE_TYPES = new Set([
  "rate_limit",
  "rate_limit_error",
  "rate_limited",
  "overloaded",
  "overloaded_error",
]);
// Anthropic's `api_error` and OpenAI's / Claude Code's `server_error` are the API's 500.
const UNAVAILABLE_TYPES = new Set([
  "api_error",
  "server_error",
  "internal_server_error",
  "service_unavailable",
]);
const TIMEOUT_TYPES = new Set(["timeout_error", "request_timeout", "gateway_timeout"]);

const STATUS_CLASSES: ReadonlyMap<number, FailureClass> = new Map([
  [401, "authentication"],
  [403, "authentication"],
  [402, "quota"],
  [429, "rate_limit"],
  [529, "rate_limit"],
  [500, "unavailable"],
  [502, "unavailable"],
  [503, "unavailable"],
  [408, "timeout"],
  [504, "timeout"],
]);

// Text heuristics are the last resort, for CLIs that only say it in words (stderr, error strings).
const AUTH_TEXT =
  /\b401\b|unauthori[sz]ed|authentication[ _]failed|authentication_error|invalid (?:x-)?api[ _-]?key|not logged in|please run \/login|login required/i;
const QUOTA_TEXT = /insufficient[ _]quota|quota exceeded|credit balance is too low|billing/i;
const RATE_TEXT = /\\b429\\b|\\b529\\b|rate[ _-]?limit|too many requests|overloaded/i;
/** A connection that dropped or could not be made: the request may well succeed again. */
const CONNECTION_TEXT =
  /\b(?:ECONNRESET|ECONNREFUSED|ECONNABORTED|EPIPE|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH)\b|socket hang up|stream disconnected|connection (?:was )?(?:closed|reset|refused|aborted|lost)|error sending request|fetch failed|network error|bad gateway|service unavailable|internal server error/i;
const TIMEOUT_TEXT = /\bETIMEDOUT\b|\btimed out\b|request timeout|gateway timeout/i;
const CONNECTION_ERRNOS = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
]);

const REASON_PHRASES =
  "Bad Request|Unauthorized|Payment Required|Forbidden|Not Found|Request Timeout|Too Many Requests|" +
  "Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout|Overloaded|Site is overloaded";
// "status 429", "status: 429", "last status: 429 Too Many Requests", "HTTP 503", "HTTP error: 500",
// "HTTP/1.1 502", "http status code 504", Claude Code's "API Error: 500", and a status followed by
// its reason phrase ("429 Too Many Requests") or by the API's JSON body, as the Anthropic and
// OpenAI SDKs print errors ("529 {\"type\":\"error\",…}").
const STATUS_TEXT = new RegExp(
  `\\b(?:status(?: code)?:?|API error:?|HTTP(?:/\\d(?:\\.\\d)?)?(?: error)?:?)\\s*([1-5]\\d\\d)\\b|\\b([1-5]\\d\\d)\\s+(?:(?:${REASON_PHRASES})\\b|(?=\\{))`,
  "gi",
);

/**
 * The HTTP status a provider's error text names: "unexpected status 401 Unauthorized",
 * "last status: 429 Too Many Requests", "HTTP error: 500", "HTTP/1.1 502", "503 Service
 * Unavailable": the first 4xx/5xx named. Undefined when the text names none (a bare number is
 * never taken for one).
 */
export function statusFromText(text: string): number | undefined {
  for (const match of text.matchAll(STATUS_TEXT)) {
    const status = Number(match[1] ?? match[2]);
    // Only a failure's status: not a 1xx–3xx, nor 426 (Codex's WebSocket attempt, refused before it falls back to HTTPS).
    if (status >= 400 && status !== 426) return status;
  }
  return undefined;
}

const DURATION = String.raw`\d+(?:\.\d+)?\s*(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?)(?![a-z])`;
const DURATION_PART = /(\d+(?:\.\d+)?)\s*([a-z]+)/gi;
// "try again in 1.2s", "retry after 20 seconds", "Please retry in 1m30s".
const RETRY_IN_TEXT = new RegExp(
  String.raw`\b(?:try again|retry)(?:\s+in|[ -]after)?:?\s*((?:${DURATION}\s*)+)`,
  "i",
);
// The header's own form, in seconds: "retry-after: 2".
const RETRY_AFTER_SECONDS = /\bretry[ -]after:?\s*(\d+(?:\.\d+)?)(?![\d.]|\s*[a-z/])/i;

/**
 * The retry delay a provider's error text names, in milliseconds: "try again in 1.2s",
 * "try again in 350ms", "retry after 20 seconds", "retry-after: 2", "Please retry in 1m30s".
 * Undefined when it names none.
 */
export function retryAfterFromText(text: string): number | undefined {
  const spoken = RETRY_IN_TEXT.exec(text)?.[1];
  if (spoken !== undefined) {
    let total = 0;
    for (const [, value, unit = ""] of spoken.matchAll(DURATION_PART)) {
      const lower = unit.toLowerCase();
      const factor = lower === "ms" || lower.startsWith("milli") ? 1 : lower.startsWith("m") ? 60_000 : 1000;
      total += Number(value) * factor;
    }
    return Math.round(total);
  }
  const seconds = RETRY_AFTER_SECONDS.exec(text)?.[1];
  return seconds === undefined ? undefined : Math.round(Number(seconds) * 1000);
}

function classify(facts: FailureFacts, status: number | undefined): FailureClass {
  const type = facts.errorType?.toLowerCase();
  if (type && AUTH_TYPES.has(type)) return "authentication";
  if (type && QUOTA_TYPES.has(type)) return "quota";
  if (type && RATE_TYPES.has(type)) return "rate_limit";
  if (type && UNAVAILABLE_TYPES.has(type)) return "unavailable";
  if (type && TIMEOUT_TYPES.has(type)) return "timeout";
  const byStatus = status === undefined ? undefined : STATUS_CLASSES.get(status);
  if (byStatus) return byStatus;
  const errno = errnoCode(facts.cause);
  if (errno && CONNECTION_ERRNOS.has(errno)) return "unavailable";
  if (errno === "ETIMEDOUT") return "timeout";
  const text = [facts.message, facts.stderr].filter(Boolean).join("\n");
  if (AUTH_TEXT.test(text)) return "authentication";
  if (QUOTA_TEXT.test(text)) return "quota";
  if (RATE_TEXT.test(text)) return "rate_limit";
  if (TIMEOUT_TEXT.test(text)) return "timeout";
  if (CONNECTION_TEXT.test(text)) return "unavailable";
  return "other";
}

const CLASS_CODES: Record<FailureClass, ErrorCode> = {
  authentication: "provider_authentication_failed",
  quota: "provider_quota_exceeded",
  rate_limit: "provider_rate_limited",
  unavailable: "provider_unavailable",
  timeout: "provider_timeout",
  other: "provider_error",
};

const CLASS_HINTS: Partial<Record<FailureClass, (provider: ProviderIdentity) => string>> = {
  authentication: (provider) => provider.loginHint,
  quota: () => "check the account's plan, credits or billing",
  rate_limit: () => "retry later, or lower the request rate",
  unavailable: () =>
    "the provider's API could not be reached or failed on its side: retry, or use another provider",
  timeout: () => "the provider's API did not answer in time: retry, or use another provider",
};

/**
 * Turns what a provider said about a failure into the right `AsmError`. The table (`retryable`
 * follows from the code, see `RETRYABLE_ERROR_CODES`):
 *
 * | status / condition                                                        | code                             | retryable |
 * |---------------------------------------------------------------------------|----------------------------------|-----------|
 * | 401, 403; `authentication_error`, `permission_error`, `invalid_api_key`…   | `provider_authentication_failed` | no        |
 * | 402; `billing_error`, `insufficient_quota`, `quota_exceeded`              | `provider_quota_exceeded`        | no        |
 * | 429; `rate_limit(_error)`                                                 | `provider_rate_limited`          | yes       |
 * | 529; `overloaded(_error)` (a capacity signal)                             | `provider_rate_limited`          | yes       |
 * | 500, 502, 503; `api_error`, `server_error`                                | `provider_unavailable`           | yes       |
 * | dropped connection: ECONNRESET, ECONNREFUSED, EPIPE, "socket hang up", "stream disconnected", "connection closed/reset", "error sending request", "fetch failed" | `provider_unavailable` | yes |
 * | 504, 408; `timeout_error`; ETIMEDOUT, "timed out"                          | `provider_timeout`               | yes       |
 * | anything else (an exit, a protocol error, another status)                 | `provider_error` (payload `kind`, `transport_exit` for exits) | no |
 *
 * Checked in this order: the provider's error type, then the status (`facts.status`, else one
 * the message or stderr names, see `statusFromText`), then the cause's errno, then the words of
 * the message and stderr (a fallback). `details.status` keeps the status;
 * `details.retryAfterMs` is set on every retryable class when known (`facts.retryAfterMs`, else
 * a delay the text names, see `retryAfterFromText`); `details.errorType` keeps the provider's
 * own type. The stderr tail is kept in `providerError.stderr`, cut to `limits`.
 */
export function providerFailure(
  provider: ProviderIdentity,
  facts: FailureFacts,
  limits: StderrLimits = {},
): AsmError {
  const text = [facts.message, facts.stderr].filter(Boolean).join("\n");
  const status = facts.status ?? statusFromText(text);
  const failureClass = classify(facts, status);
  const code = CLASS_CODES[failureClass];
  const retryAfterMs = isRetryable(code) ? (facts.retryAfterMs ?? retryAfterFromText(text)) : undefined;
  const kind: ProviderErrorKind =
    failureClass === "authentication"
      ? "authentication"
      : failureClass === "rate_limit"
        ? "rate_limit"
        : failureClass === "timeout"
          ? "timeout"
          : (facts.kind ?? (facts.exitCode != null || facts.signal ? "transport_exit" : "unknown"));
  const exitText =
    facts.exitCode != null
      ? `exited with code ${facts.exitCode}`
      : facts.signal
        ? `was killed by ${facts.signal}`
        : undefined;
  const payload = providerErrorPayload(
    {
      provider: provider.name,
      kind,
      ...(facts.message ? { message: facts.message } : {}),
      // Without a message the payload falls back to stderr's last line, then this.
      ...(!facts.message && !facts.stderr?.trim() && exitText
        ? { message: `${provider.displayName} ${exitText}` }
        : {}),
      ...(facts.exitCode != null ? { exitCode: facts.exitCode } : {}),
      ...(facts.stderr ? { stderr: facts.stderr } : {}),
    },
    limits,
  );
  const message =
    facts.message ?? (exitText ? `${provider.displayName} ${exitText}: ${payload.message}` : payload.message);
  const details: Record<string, unknown> = {
    provider: provider.name,
    ...facts.details,
    ...(status != null ? { status } : {}),
    ...(facts.errorType ? { errorType: facts.errorType } : {}),
    ...(facts.signal ? { signal: facts.signal } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
  const hint = CLASS_HINTS[failureClass]?.(provider);
  return new AsmError(code, message, {
    details,
    providerError: payload,
    ...(hint ? { hint } : {}),
    ...(facts.cause === undefined ? {} : { cause: facts.cause }),
  });
}

/** A provider option that fixes a failure: what `details.suggestedProviderOption` holds. */
export interface SuggestedProviderOption {
  /** The option's key in the provider's `providerOptions`, e.g. `skipGitRepoCheck`. */
  key: string;
  value: unknown;
}

/**
 * The error with a hint to set a provider option, and the option in
 * `details.suggestedProviderOption`, so a front end can say it its own way (the CLI:
 * `--provider-option skipGitRepoCheck=true`). `hintStart` is what to say before it ("run Codex
 * in a git repository, or").
 */
export function withSuggestedOption(
  error: AsmError,
  option: SuggestedProviderOption,
  hintStart: string,
): AsmError {
  return new AsmError(error.code, error.message, {
    details: { ...error.details, suggestedProviderOption: option },
    ...(error.providerError ? { providerError: error.providerError } : {}),
    hint: `${hintStart} pass providerOptions: { ${option.key}: ${JSON.stringify(option.value)} }`,
    ...(error.context ? { context: error.context } : {}),
    ...(error.cause === undefined ? {} : { cause: error.cause }),
  });
}

/** The run was cancelled through its AbortSignal: the one way every adapter reports it. */
export function cancelledError(runId: string, details: Record<string, unknown> = {}): AsmError {
  return new AsmError("cancelled", `run ${runId} was cancelled`, { details: { runId, ...details } });
}

const SKIPPED: Record<LineProblem["reason"], (problem: LineProblem) => string> = {
  malformed_json: () => "a malformed output line",
  oversized_line: (problem) => `an oversized output line (${problem.bytes} bytes)`,
  not_an_object: () => "an output line that is not a JSON object",
  unknown_frame: () => "a frame of an unknown type",
  invalid_frame: (problem) =>
    problem.frameType === undefined
      ? "a wrongly shaped frame"
      : `a wrongly shaped ${problem.frameType} frame`,
};

/**
 * The `error_occurred` event for an output line that was skipped: not JSON, too long, not an
 * object, or not a frame of the provider's protocol (see frame-check.ts). Never fatal: the run
 * goes on. It carries the line's start as it was printed, and its full length.
 *
 * ```
 * { errorCode: "parse_error", errorMessage: "Claude Code: skipped a malformed output line (line 3): …",
 *   fatal: false,
 *   providerError: { provider, kind: "parse_error", message },
 *   details: { reason: "malformed_json" | "oversized_line" | "not_an_object" | "unknown_frame" | "invalid_frame",
 *              lineNumber, bytes, line: <first previewBytes of the raw line>, truncated,
 *              frameType?, issues?: [{ path, message }] } }
 * ```
 */
export function parseErrorEvent(provider: ProviderIdentity, problem: LineProblem): AdapterEvent {
  const errorMessage = `${provider.displayName}: skipped ${SKIPPED[problem.reason](problem)} (line ${problem.lineNumber}): ${problem.message}`;
  return {
    type: "error_occurred",
    data: {
      errorCode: "parse_error",
      errorMessage,
      fatal: false,
      providerError: { provider: provider.name, kind: "parse_error", message: errorMessage },
      details: {
        reason: problem.reason,
        lineNumber: problem.lineNumber,
        bytes: problem.bytes,
        line: problem.preview,
        truncated: problem.truncated,
        ...(problem.frameType !== undefined ? { frameType: problem.frameType } : {}),
        ...(problem.issues !== undefined ? { issues: problem.issues } : {}),
      },
    },
  };
}
