import type { AsmEvent, EventData, EventType } from "../../core/events.js";

/**
 * Runs as the log holds them — shaped as the Claude, Codex and shell adapters store them
 * (Claude's content-block tool output, Codex's `{ output, exitCode }`) — with fixed ids and
 * times, so what a renderer makes of them can be asserted line for line.
 */
export function recorder(
  sessionId = "ses_1",
  runId = "run_1",
  start = Date.parse("2026-01-01T00:00:00.000Z"),
) {
  const events: AsmEvent[] = [];
  let clock = start;
  return {
    events,
    /** Appends an event `afterMs` after the previous one. */
    add<T extends EventType>(
      type: T,
      data: EventData<T>,
      afterMs = 100,
      scope: "run" | "session" = "run",
    ): AsmEvent {
      clock += afterMs;
      const sequence = events.length + 1;
      const event = {
        id: `evt_${sequence}`,
        type,
        sessionId,
        ...(scope === "run" ? { runId } : {}),
        sequence,
        timestamp: new Date(clock).toISOString(),
        provider: "claude",
        data,
        metadata: {},
      } as AsmEvent;
      events.push(event);
      return event;
    },
  };
}

const usage = { inputTokens: 120, outputTokens: 45 };

/** A run that answers in streamed text. */
export function textRun(): AsmEvent[] {
  const r = recorder();
  r.add("session_created", { provider: "claude" }, 0, "session");
  r.add("session_started", {}, 0, "session");
  r.add("message_sent", { role: "user", content: "What is the BEAM?" });
  r.add("run_started", { model: "claude-sonnet-4-5-20250929" });
  r.add("message_streamed", { delta: "The BEAM is " });
  r.add("message_streamed", { delta: "Erlang's VM.\nIt runs " });
  r.add("message_streamed", { delta: "Elixir too." });
  r.add("message_received", { role: "assistant", content: "The BEAM is Erlang's VM.\nIt runs Elixir too." });
  r.add("token_usage_updated", { ...usage, costUsd: 0.00123 });
  r.add("run_completed", { stopReason: "end_turn", tokenUsage: usage, durationMs: 1500, costUsd: 0.00123 });
  r.add("session_completed", {}, 0, "session");
  return r.events;
}

/** A run that reads a file and runs a command (3.5 s), then answers. */
export function toolRun(): AsmEvent[] {
  const r = recorder();
  r.add("run_started", { model: "claude-sonnet-4-5-20250929" });
  r.add("message_streamed", { delta: "Let me look." });
  r.add("tool_call_started", { toolCallId: "tu_1", toolName: "Read", toolInput: { file_path: "src/a.ts" } });
  r.add("tool_call_completed", {
    toolCallId: "tu_1",
    toolName: "Read",
    toolOutput: [{ type: "text", text: "line 1\nline 2\nline 3\nline 4\n" }],
  });
  r.add("tool_call_started", { toolCallId: "tu_2", toolName: "Bash", toolInput: { command: "npm test" } });
  r.add(
    "tool_call_completed",
    {
      toolCallId: "tu_2",
      toolName: "Bash",
      toolOutput: { output: "ok 1\nok 2\n\nall passed\n", exitCode: 0 },
    },
    3500,
  );
  r.add("message_received", { role: "assistant", content: "All tests pass." });
  r.add("run_completed", { stopReason: "end_turn", tokenUsage: usage, durationMs: 4200 });
  return r.events;
}

/** A run whose command fails, then the run fails. */
export function failureRun(): AsmEvent[] {
  const r = recorder();
  r.add("run_started", {});
  r.add("tool_call_started", { toolCallId: "tu_1", toolName: "Bash", toolInput: { command: "make" } });
  r.add("tool_call_failed", {
    toolCallId: "tu_1",
    toolName: "Bash",
    toolOutput: { output: "make: *** No rule\n", exitCode: 2 },
    errorMessage: "the command exited with code 2",
  });
  r.add("error_occurred", { errorCode: "provider_error", errorMessage: "the agent gave up" });
  r.add("run_failed", { errorCode: "provider_error", errorMessage: "the agent gave up" });
  return r.events;
}

/** A run cancelled while a tool runs and text is half-written. */
export function cancelRun(): AsmEvent[] {
  const r = recorder();
  r.add("run_started", { model: "gpt-5-codex" });
  r.add("message_streamed", { delta: "Working on it" });
  r.add("tool_call_started", {
    toolCallId: "tu_1",
    toolName: "Grep",
    toolInput: { pattern: "TODO", path: "src" },
  });
  r.add("run_cancelled", { reason: "interrupted" });
  return r.events;
}
