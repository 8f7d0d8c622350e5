import type { AdapterEvent, AsmEvent, EventOf } from "../core/events.js";
import type { RunOutcome } from "../ports/run-extension.js";

/** Why a tool call was closed by the manager: how its run ended. */
export type ToolCallCloseReason = RunOutcome["status"];

const END_TYPES: ReadonlySet<string> = new Set(["tool_call_completed", "tool_call_failed"]);

/**
 * The tool calls of a run that started and have not ended: each `tool_call_started` without a
 * `tool_call_completed` or `tool_call_failed` of the same `toolCallId`, in start order. Events
 * whose data failed validation are left out (their ids cannot be trusted).
 */
export function openToolCalls(events: readonly AsmEvent[]): EventOf<"tool_call_started">[] {
  const open = new Map<string, EventOf<"tool_call_started">>();
  for (const event of events) {
    if (event.metadata.validationIssues) continue;
    if (event.type === "tool_call_started") open.set(event.data.toolCallId, event);
    else if (END_TYPES.has(event.type) && "toolCallId" in event.data) {
      open.delete(String(event.data.toolCallId));
    }
  }
  return [...open.values()].sort((a, b) => a.sequence - b.sequence);
}

const ENDED: Record<ToolCallCloseReason, string> = {
  cancelled: "was cancelled",
  failed: "failed",
  timeout: "timed out",
  completed: "ended",
};

/**
 * The `tool_call_failed` events that close a run's open tool calls before its terminal event,
 * so no call is left started without an end, whatever the provider reported: a cancel or a
 * timeout stops the provider mid-tool, a failure may come before the tool's result, and a
 * provider may even complete with a call it never closed. One per open call, in start order:
 *
 * ```
 * { toolCallId, nativeToolCallId?, toolName, reason: "cancelled" | "failed" | "timeout" | "completed",
 *   errorMessage: "the run was cancelled before the tool call ended" }
 * ```
 */
export function closeOpenToolCalls(events: readonly AsmEvent[], outcome: RunOutcome): AdapterEvent[] {
  const reason = outcome.status;
  return openToolCalls(events).map(
    ({ data }): AdapterEvent => ({
      type: "tool_call_failed",
      data: {
        toolCallId: data.toolCallId,
        ...(data.nativeToolCallId ? { nativeToolCallId: data.nativeToolCallId } : {}),
        toolName: data.toolName,
        reason,
        errorMessage: `the run ${ENDED[reason]} before the tool call ended`,
      },
    }),
  );
}
