import { AsmError, type ErrorCode } from "../../core/errors.js";
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

type FailureClass = "authentication" | "rate_limit" | "quota" | "other";

const AUTH_TYPES = new Set([
  "authentication_failed",
  "authentication_error",
  "permission_error",
  "oauth_org_not_allowed",
  "invalid_api_key",
  "unauthorized",
]);
const RATE_TYPES = new Set([
  "rate_limit",
  "rate_limit_error",
  "overloaded",
  "overloaded_error",
  "rate_limited",
]);
const QUOTA_TYPES = new Set(["billing_error", "insufficient_quota", "quota_exceeded"]);

// Text heuristics are the last resort, for CLIs that only say it in words (stderr, error strings).
const AUTH_TEXT =
  /\b401\b|unauthori[sz]ed|authentication[ _]failed|authentication_error|invalid (?:x-)?api[ _-]?key|not logged in|please run \/login|login required/i;
const RATE_TEXT = /\b429\b|\b529\b|rate[ _-]?limit|too many requests|overloaded/i;
const QUOTA_TEXT = /insufficient[ _]quota|quota exceeded|credit balance is too low|billing/i;

function classify(facts: FailureFacts): FailureClass {
  const type = facts.errorType?.toLowerCase();
  if (type && AUTH_TYPES.has(type)) return "authentication";
  if (type && RATE_TYPES.has(type)) return "rate_limit";
  if (type && QUOTA_TYPES.has(type)) return "quota";
  if (facts.status === 401 || facts.status === 403) return "authentication";
  if (facts.status === 429 || facts.status === 529) return "rate_limit";
  if (facts.status === 402) return "quota";
  const text = [facts.message, facts.stderr].filter(Boolean).join("\n");
  if (AUTH_TEXT.test(text)) return "authentication";
  if (RATE_TEXT.test(text)) return "rate_limit";
  if (QUOTA_TEXT.test(text)) return "quota";
  return "other";
}

/**
 * Turns what a provider said about a failure into the right `AsmError`:
 * - 401/403 or an authentication error type → `provider_authentication_failed`, with a login hint;
 * - 429/529, `rate_limit` or `overloaded` → `provider_rate_limited` (retryable), with
 *   `details.retryAfterMs` when known;
 * - 402 or a billing/quota error type → `provider_quota_exceeded`;
 * - anything else → `provider_error` with the payload's kind (`transport_exit` for exits).
 * The error type and status are checked before the message text, which is only a fallback.
 * The stderr tail is kept in `providerError.stderr`, cut to `limits`.
 */
export function providerFailure(
  provider: ProviderIdentity,
  facts: FailureFacts,
  limits: StderrLimits = {},
): AsmError {
  const failureClass = classify(facts);
  const code: ErrorCode =
    failureClass === "authentication"
      ? "provider_authentication_failed"
      : failureClass === "rate_limit"
        ? "provider_rate_limited"
        : failureClass === "quota"
          ? "provider_quota_exceeded"
          : "provider_error";
  const kind: ProviderErrorKind =
    failureClass === "authentication"
      ? "authentication"
      : failureClass === "rate_limit"
        ? "rate_limit"
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
    ...(facts.status != null ? { status: facts.status } : {}),
    ...(facts.errorType ? { errorType: facts.errorType } : {}),
    ...(facts.signal ? { signal: facts.signal } : {}),
    ...(failureClass === "rate_limit" && facts.retryAfterMs !== undefined
      ? { retryAfterMs: facts.retryAfterMs }
      : {}),
  };
  const hint =
    failureClass === "authentication"
      ? provider.loginHint
      : failureClass === "rate_limit"
        ? "retry later, or lower the request rate"
        : failureClass === "quota"
          ? "check the account's plan, credits or billing"
          : undefined;
  return new AsmError(code, message, {
    details,
    providerError: payload,
    ...(hint ? { hint } : {}),
    ...(facts.cause === undefined ? {} : { cause: facts.cause }),
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
