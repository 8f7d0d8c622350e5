import { describe, expect, it } from "vitest";
import { EVENT_TYPES, isEventType, isTerminalRunEventType, validateEventData } from "./events.js";

describe("canonical events", () => {
  it("has the 28 event types of the seed", () => {
    expect(EVENT_TYPES).toHaveLength(28);
    expect(isEventType("message_streamed")).toBe(true);
    expect(isEventType("assistant_message")).toBe(false);
    expect(EVENT_TYPES.filter(isTerminalRunEventType).sort()).toEqual([
      "run_cancelled",
      "run_completed",
      "run_failed",
      "run_timeout",
    ]);
  });

  it("validates data per type and names the offending fields", () => {
    expect(
      validateEventData("tool_call_started", { toolCallId: "t1", toolName: "bash", toolInput: {} }),
    ).toEqual([]);
    expect(
      validateEventData("tool_call_started", { toolName: "" })
        .map((issue) => issue.path)
        .sort(),
    ).toEqual(["toolCallId", "toolInput", "toolName"]);
    expect(validateEventData("token_usage_updated", { inputTokens: -1, outputTokens: 2 })).toMatchObject([
      { path: "inputTokens" },
    ]);
    expect(validateEventData("run_completed", { stopReason: "end_turn" }).map((issue) => issue.path)).toEqual(
      ["tokenUsage", "durationMs"],
    );
  });

  it("lets providers add fields beyond the contract", () => {
    expect(validateEventData("message_streamed", { delta: "x", threadId: "t", turnId: 3 })).toEqual([]);
  });
});
