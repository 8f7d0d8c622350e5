import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import type { ExecuteResult } from "../ports/provider-adapter.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { closeOpenToolCalls, openToolCalls } from "./open-tool-calls.js";
import { aborted, type Script, ScriptedAdapter } from "./test-support/scripted-adapter.js";

const DONE: ExecuteResult = {
  output: { content: "done" },
  stopReason: "end_turn",
  tokenUsage: { inputTokens: 1, outputTokens: 1 },
};

/** Starts tool calls `a` (then ends it), `b` and `c`, and resolves once the last is stored. */
function startTools(sink: Parameters<Script>[1]): void {
  sink.emit({ type: "run_started", data: {} });
  sink.emit({ type: "tool_call_started", data: { toolCallId: "a", toolName: "Read", toolInput: {} } });
  sink.emit({
    type: "tool_call_started",
    data: { toolCallId: "run_x:item_0", nativeToolCallId: "item_0", toolName: "Bash", toolInput: {} },
  });
  sink.emit({ type: "tool_call_completed", data: { toolCallId: "a", toolName: "Read", toolOutput: "ok" } });
  sink.emit({ type: "tool_call_started", data: { toolCallId: "c", toolName: "Grep", toolInput: {} } });
}

async function runWith(script: Script, end: (manager: SessionManager, runId: string) => Promise<unknown>) {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: new ScriptedAdapter(script) });
  const session = await manager.startSession({ agentId: "scripted" });
  await manager.activateSession(session.id);
  const run = await manager.startRun(session.id, "go");
  const settled = await end(manager, run.id).catch((error: unknown) => error);
  const events = (await store.getEvents(session.id, { limit: 1000 })).filter(
    (event) => event.runId === run.id,
  );
  return { settled, events, runId: run.id };
}

/** The tool and terminal events of a run, as `type toolCallId reason`. */
function toolTrail(events: readonly AsmEvent[]): string[] {
  return events.flatMap((event) => {
    if (event.type.startsWith("run_") && event.type !== "run_started") return [event.type];
    if (!event.type.startsWith("tool_call_")) return [];
    const data = event.data as { toolCallId: string; reason?: string };
    return [[event.type, data.toolCallId, data.reason].filter(Boolean).join(" ")];
  });
}

function expectGapless(events: readonly AsmEvent[]): void {
  const sequences = events.map((event) => event.sequence);
  expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
}

describe("closing open tool calls before the terminal event", () => {
  it("a cancel during a tool: started, failed (cancelled), run_cancelled, in this order", async () => {
    let toolStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      toolStarted = resolve;
    });
    const { settled, events } = await runWith(
      async (_request, sink, signal) => {
        startTools(sink);
        toolStarted();
        await aborted(signal);
        throw new AsmError("cancelled", "stopped");
      },
      async (manager, runId) => {
        const execution = manager.executeRun(runId);
        await started;
        await manager.cancelRun(runId, "user pressed stop");
        return execution;
      },
    );
    expect(settled).toMatchObject({ code: "cancelled" });
    expect(toolTrail(events)).toEqual([
      "tool_call_started a",
      "tool_call_started run_x:item_0",
      "tool_call_completed a",
      "tool_call_started c",
      "tool_call_failed run_x:item_0 cancelled",
      "tool_call_failed c cancelled",
      "run_cancelled",
    ]);
    const closed = events.filter((event) => event.type === "tool_call_failed");
    expect(closed.map((event) => event.data)).toEqual([
      {
        toolCallId: "run_x:item_0",
        nativeToolCallId: "item_0",
        toolName: "Bash",
        reason: "cancelled",
        errorMessage: "the run was cancelled before the tool call ended",
      },
      {
        toolCallId: "c",
        toolName: "Grep",
        reason: "cancelled",
        errorMessage: "the run was cancelled before the tool call ended",
      },
    ]);
    expect(closed.every((event) => event.metadata.validationIssues === undefined)).toBe(true);
    expectGapless(events);
  });

  it("a provider failure and a timeout close them with reason failed / timeout", async () => {
    const failed = await runWith(
      async (_request, sink) => {
        startTools(sink);
        throw new AsmError("provider_unavailable", "connection reset");
      },
      (manager, runId) => manager.executeRun(runId),
    );
    expect(failed.settled).toMatchObject({ code: "provider_unavailable" });
    expect(toolTrail(failed.events).slice(-3)).toEqual([
      "tool_call_failed run_x:item_0 failed",
      "tool_call_failed c failed",
      "run_failed",
    ]);

    const timedOut = await runWith(
      async (_request, sink, signal) => {
        startTools(sink);
        await aborted(signal);
        throw new AsmError("cancelled", "stopped");
      },
      (manager, runId) => manager.executeRun(runId, { timeoutMs: 50 }),
    );
    expect(timedOut.settled).toMatchObject({ code: "timeout" });
    expect(toolTrail(timedOut.events).slice(-3)).toEqual([
      "tool_call_failed run_x:item_0 timeout",
      "tool_call_failed c timeout",
      "run_timeout",
    ]);
  });

  it("a completed run closes calls the provider left open; with none open, nothing is added", async () => {
    const leftOpen = await runWith(
      async (_request, sink) => {
        startTools(sink);
        return DONE;
      },
      (manager, runId) => manager.executeRun(runId),
    );
    expect(toolTrail(leftOpen.events).slice(-3)).toEqual([
      "tool_call_failed run_x:item_0 completed",
      "tool_call_failed c completed",
      "run_completed",
    ]);

    const tidy = await runWith(
      async (_request, sink) => {
        sink.emit({ type: "run_started", data: {} });
        sink.emit({ type: "tool_call_started", data: { toolCallId: "a", toolName: "Read", toolInput: {} } });
        sink.emit({
          type: "tool_call_failed",
          data: { toolCallId: "a", toolName: "Read", errorMessage: "no" },
        });
        return DONE;
      },
      (manager, runId) => manager.executeRun(runId),
    );
    expect(toolTrail(tidy.events)).toEqual(["tool_call_started a", "tool_call_failed a", "run_completed"]);
  });
});

describe("openToolCalls / closeOpenToolCalls", () => {
  const event = (sequence: number, type: string, data: Record<string, unknown>, invalid = false): AsmEvent =>
    ({
      id: `evt_${sequence}`,
      type,
      sessionId: "ses_1",
      runId: "run_1",
      sequence,
      timestamp: "2026-12-04T00:00:00.000Z",
      data,
      metadata: invalid ? { validationIssues: [{ path: "toolCallId", message: "required" }] } : {},
    }) as AsmEvent;

  it("lists started calls without an end, in start order, ignoring events that failed validation", () => {
    const events = [
      event(1, "tool_call_started", { toolCallId: "x", toolName: "A", toolInput: {} }),
      event(2, "tool_call_started", { toolCallId: "y", toolName: "B", toolInput: {} }),
      event(3, "tool_call_started", { toolCallId: "z", toolName: "C", toolInput: {} }),
      event(4, "tool_call_completed", { toolCallId: "y", toolName: "B", toolOutput: null }),
      event(5, "tool_call_started", { toolName: "D", toolInput: {} }, true),
    ];
    expect(openToolCalls(events).map((open) => open.data.toolCallId)).toEqual(["x", "z"]);
    expect(closeOpenToolCalls(events, { status: "timeout", timeoutMs: 5 })).toEqual([
      {
        type: "tool_call_failed",
        data: {
          toolCallId: "x",
          toolName: "A",
          reason: "timeout",
          errorMessage: "the run timed out before the tool call ended",
        },
      },
      {
        type: "tool_call_failed",
        data: {
          toolCallId: "z",
          toolName: "C",
          reason: "timeout",
          errorMessage: "the run timed out before the tool call ended",
        },
      },
    ]);
  });
});
