import { AsmError } from "../core/errors.js";
import { type AsmEvent, TERMINAL_RUN_EVENT_TYPES } from "../core/events.js";
import type { Run } from "../core/run.js";
import { outcomeError } from "../manager/run-outcome.js";
import type { RunResult } from "../manager/session-manager.js";
import { streamSessionEvents } from "../manager/stream-events.js";
import type { SessionStore } from "../ports/session-store.js";

/**
 * The result of a run that ended, read back from the store — what `executeRun` resolved with
 * (without what extensions added only to the in-memory result) — or the `AsmError` it rejected
 * with, thrown. A run that has not ended is `invalid_status`.
 */
export async function storedRunResult(store: SessionStore, run: Run): Promise<RunResult> {
  const events: AsmEvent[] = [];
  for await (const event of streamSessionEvents(store, run.sessionId, { runId: run.id, pageSize: 1000 })) {
    events.push(event);
  }
  const terminal = events.findLast((event) =>
    (TERMINAL_RUN_EVENT_TYPES as readonly string[]).includes(event.type),
  );
  switch (run.status) {
    case "completed": {
      const data = terminal?.type === "run_completed" ? terminal.data : undefined;
      const { providerSessionId, model } = run.providerMetadata;
      return {
        sessionId: run.sessionId,
        runId: run.id,
        output: run.output ?? { content: "" },
        tokenUsage: run.tokenUsage,
        events,
        stopReason: data?.stopReason ?? "end_turn",
        durationMs: data?.durationMs ?? 0,
        costUsd: run.costUsd,
        ...(typeof providerSessionId === "string" ? { providerSessionId } : {}),
        ...(typeof model === "string" ? { model } : {}),
      };
    }
    case "failed": {
      const error = run.error
        ? AsmError.fromJSON(run.error)
        : new AsmError("internal_error", `run ${run.id} failed`);
      throw outcomeError({ status: "failed", error }, run);
    }
    case "cancelled":
      throw outcomeError(
        {
          status: "cancelled",
          reason: terminal?.type === "run_cancelled" ? (terminal.data.reason ?? "cancelled") : "cancelled",
          ...(terminal?.data.interrupted === true ? { interrupted: true } : {}),
        },
        run,
      );
    case "timeout":
      throw outcomeError(
        { status: "timeout", timeoutMs: terminal?.type === "run_timeout" ? terminal.data.timeoutMs : 0 },
        run,
      );
    default:
      throw new AsmError("invalid_status", `run ${run.id} is ${run.status}: it has no result yet`, {
        details: { runId: run.id, status: run.status },
      });
  }
}
