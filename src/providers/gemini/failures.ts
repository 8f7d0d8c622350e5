import { AsmError } from "../../core/errors.js";
import { type FailureFacts, type ProviderIdentity, providerFailure } from "../shared/provider-failures.js";
import type { GeminiResultFrame } from "./protocol.js";

/**
 * The Gemini CLI's own exit codes (0.61.0): 41 auth missing or invalid (also "Invalid auth
 * method selected"), 42 bad input (a `--session-id` that exists, a `--resume` id it cannot find),
 * 55 untrusted folder. After an API error it exits with the HTTP status & 255.
 */
export const GEMINI_EXIT_CODES = Object.freeze({ authentication: 41, badInput: 42, untrustedFolder: 55 });

/** HTTP statuses as the CLI's exit code carries them (status & 255). */
const STATUS_BY_EXIT_CODE: ReadonlyMap<number, number> = new Map(
  [400, 401, 403, 404, 429, 500, 502, 503, 504].map((status) => [status & 255, status]),
);

/** `"code":429` in an API error's JSON, or `[API Error: … 429 …]`. */
const STATUS_IN_TEXT = /"code"\s*:\s*(\d{3})\b/;
/** The CLI's "Suggested retry after 7s." (fractions allowed). */
const RETRY_AFTER = /retry (?:after|in) (\d+(?:\.\d+)?)\s*(ms|s)\b/i;

function statusOf(text: string, exitCode: number | null | undefined): number | undefined {
  const match = STATUS_IN_TEXT.exec(text);
  if (match?.[1]) return Number(match[1]);
  return exitCode == null ? undefined : STATUS_BY_EXIT_CODE.get(exitCode);
}

function retryAfterMs(text: string): number | undefined {
  const match = RETRY_AFTER.exec(text);
  if (!match?.[1]) return undefined;
  const value = Number(match[1]);
  return Math.round(match[2] === "ms" ? value : value * 1000);
}

/** What is known when a run did not succeed. */
export interface GeminiFailureInput {
  exitCode?: number | null;
  signal?: string | null;
  stderr?: string;
  /** The `result` frame, when one came. */
  result?: GeminiResultFrame;
  details: Record<string, unknown>;
}

/**
 * The typed error of a failed run, from the result's error and the exit code: an API status in
 * the error text (or the exit code) decides auth (401/403), rate limit (429, with
 * `retryAfterMs` from "Suggested retry after Ns") and server errors (5xx); exit 41 is an auth
 * failure, 55 an untrusted folder (with a hint to pass `trustWorkspace`).
 */
export function geminiFailure(provider: ProviderIdentity, input: GeminiFailureInput): AsmError {
  const { exitCode, result } = input;
  const resultMessage = result?.error?.message ?? undefined;
  const text = [resultMessage, input.stderr].filter(Boolean).join("\n");
  const status = statusOf(text, exitCode);
  const retryAfter = retryAfterMs(text);
  const facts: FailureFacts = {
    ...(exitCode != null ? { exitCode } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.stderr ? { stderr: input.stderr } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    ...(resultMessage ? { message: `${provider.displayName}: ${resultMessage}` } : {}),
    ...(result?.error?.type
      ? { details: { ...input.details, resultErrorType: result.error.type } }
      : { details: input.details }),
  };
  if (exitCode === GEMINI_EXIT_CODES.authentication) {
    return providerFailure(provider, { ...facts, errorType: "authentication_failed" });
  }
  if (exitCode === GEMINI_EXIT_CODES.untrustedFolder) {
    const error = providerFailure(provider, {
      ...facts,
      message: `${provider.displayName} refused to run in an untrusted folder`,
      details: { ...facts.details, reason: "untrusted_folder" },
    });
    return new AsmError(error.code, error.message, {
      details: error.details,
      ...(error.providerError ? { providerError: error.providerError } : {}),
      hint: "pass trustWorkspace: true (the CLI's --skip-trust) for unattended runs in a folder you trust",
    });
  }
  if (exitCode === GEMINI_EXIT_CODES.badInput && !resultMessage) {
    return providerFailure(provider, { ...facts, details: { ...facts.details, reason: "bad_input" } });
  }
  return providerFailure(provider, facts);
}
