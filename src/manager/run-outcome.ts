import { AsmError } from "../core/errors.js";
import type { AdapterEvent, AsmEvent } from "../core/events.js";
import type { Run } from "../core/run.js";
import { addTokenUsage, EMPTY_TOKEN_USAGE, type TokenUsage } from "../core/token-usage.js";
import type { RunOutcome } from "../ports/run-extension.js";

/** What an adapter's rejection means for the run: a cancel it reports, or a failure. */
export function adapterFailure(error: unknown): RunOutcome {
  const failure = AsmError.from(error, "provider_error");
  if (failure.code !== "cancelled") return { status: "failed", error: failure };
  return failure.details.interrupted === true
    ? { status: "cancelled", reason: failure.message, interrupted: true }
    : { status: "cancelled", reason: failure.message };
}

/** An error as `run_failed` / `session_failed` event data. */
export function failureData(error: AsmError) {
  return {
    errorCode: error.code,
    errorMessage: error.message,
    ...(error.providerError ? { providerError: error.providerError } : {}),
    ...(Object.keys(error.details).length > 0 ? { details: error.details } : {}),
  };
}

/** The one terminal event of a run with this outcome. */
export function terminalEvent(
  outcome: RunOutcome,
  tokenUsage: TokenUsage,
  durationMs: number,
  costUsd: number | null,
): AdapterEvent {
  const duration = Math.round(durationMs);
  switch (outcome.status) {
    case "completed":
      return {
        type: "run_completed",
        data: {
          stopReason: outcome.result.stopReason ?? "end_turn",
          tokenUsage,
          durationMs: duration,
          costUsd,
        },
      };
    case "failed":
      return { type: "run_failed", data: { ...failureData(outcome.error), durationMs: duration } };
    case "cancelled":
      return {
        type: "run_cancelled",
        data: { reason: outcome.reason, ...(outcome.interrupted ? { interrupted: true } : {}) },
      };
    case "timeout":
      return { type: "run_timeout", data: { timeoutMs: outcome.timeoutMs } };
  }
}

/** The outcome a run already ended with, as stored by another writer. */
export function outcomeOfStored(run: Run): RunOutcome {
  switch (run.status) {
    case "cancelled":
      return { status: "cancelled", reason: "cancelled by another writer" };
    case "timeout":
      return { status: "timeout", timeoutMs: 0 };
    default:
      return {
        status: "failed",
        error: new AsmError(
          run.error?.code ?? "internal_error",
          run.error?.message ?? `run ended ${run.status}`,
        ),
      };
  }
}

/** The error `executeRun` rejects with for a run that did not complete. */
export function outcomeError(outcome: Exclude<RunOutcome, { status: "completed" }>, run: Run): AsmError {
  const ids = { runId: run.id, sessionId: run.sessionId };
  switch (outcome.status) {
    case "failed":
      return new AsmError(outcome.error.code, outcome.error.message, {
        details: { ...outcome.error.details, ...ids },
        ...(outcome.error.providerError ? { providerError: outcome.error.providerError } : {}),
        ...(outcome.error.hint ? { hint: outcome.error.hint } : {}),
        cause: outcome.error,
      });
    case "cancelled":
      return new AsmError("cancelled", `run ${run.id} was cancelled: ${outcome.reason}`, {
        details: { ...ids, reason: outcome.reason, ...(outcome.interrupted ? { interrupted: true } : {}) },
      });
    case "timeout":
      return new AsmError("timeout", `run ${run.id} timed out after ${outcome.timeoutMs} ms`, {
        details: { ...ids, timeoutMs: outcome.timeoutMs },
      });
  }
}

/** A failed provider may still say what the run cost (`details.costUsd`, as the Claude adapter does). */
export function reportedCostOf(outcome: RunOutcome): number | undefined {
  if (outcome.status === "completed") return outcome.result.costUsd;
  if (outcome.status !== "failed") return undefined;
  const { costUsd } = outcome.error.details;
  return typeof costUsd === "number" && Number.isFinite(costUsd) && costUsd >= 0 ? costUsd : undefined;
}

/** The model a provider announced in `run_started`, for providers that name it only there. */
export function modelFromEvents(events: readonly AsmEvent[]): string | undefined {
  for (const event of events) if (event.type === "run_started" && event.data.model) return event.data.model;
  return undefined;
}

/** Sums the run's `token_usage_updated` increments, for providers that report usage only as events. */
export function usageFromEvents(events: readonly AsmEvent[]): TokenUsage {
  let usage: TokenUsage = { ...EMPTY_TOKEN_USAGE };
  for (const event of events) {
    if (event.type === "token_usage_updated" && !event.metadata.validationIssues) {
      const { inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens } = event.data;
      usage = addTokenUsage(usage, {
        inputTokens,
        outputTokens,
        ...(cacheReadTokens !== undefined ? { cacheReadTokens } : {}),
        ...(cacheWriteTokens !== undefined ? { cacheWriteTokens } : {}),
        ...(reasoningTokens !== undefined ? { reasoningTokens } : {}),
      });
    }
  }
  return usage;
}
