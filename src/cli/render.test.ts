import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { AsmEvent } from "../core/events.js";
import { makeRun } from "../testing/fixtures.js";
import { neutralise } from "./output.js";
import { costLine, EventRenderer } from "./render.js";

function rendered(events: AsmEvent[]): string {
  let text = "";
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const renderer = new EventRenderer(out, { color: false });
  for (const event of events) renderer.render(event);
  renderer.finish();
  return text;
}

let sequence = 0;
function stored<T extends AsmEvent["type"]>(type: T, data: Extract<AsmEvent, { type: T }>["data"]): AsmEvent {
  sequence += 1;
  return {
    id: `evt_${sequence}`,
    type,
    sessionId: "ses_1",
    runId: "run_1",
    sequence,
    timestamp: "2026-01-01T00:00:00.000Z",
    data,
    metadata: {},
  } as AsmEvent;
}

describe("neutralise", () => {
  it("writes ESC, CSI, OSC, BEL, CR, DEL and C1 controls as visible escapes; keeps tab and newline", () => {
    expect(neutralise("\u001b[31mred\u001b[0m")).toBe("\\x1b[31mred\\x1b[0m");
    expect(neutralise("\u001b]0;owned\u0007")).toBe("\\x1b]0;owned\\x07");
    expect(neutralise("\u009b2J\u007f")).toBe("\\x9b2J\\x7f");
    expect(neutralise("over\rwrite")).toBe("over\\x0dwrite");
    expect(neutralise("a\tb\r\nc\n")).toBe("a\tb\nc\n");
    expect(neutralise("ünïcode → ✓")).toBe("ünïcode → ✓");
  });
});

describe("EventRenderer", () => {
  it("numbers every line with the stored sequence of the event that began it, streamed lines too", () => {
    sequence = 0;
    const text = rendered([
      stored("run_started", {}),
      stored("message_streamed", { delta: "one\ntw", stream: "stdout" }),
      stored("message_streamed", { delta: "o\n\nthree", stream: "stdout" }),
      stored("message_received", { role: "assistant", content: "one\ntwo\n\nthree" }),
      stored("turn_completed", { turn: 1 }),
    ]);
    expect(text).toBe("#1 ▶ run run_1 started\n#2 one\n#2 two\n\n#3 three\n#5 turn 1 completed\n");
  });

  it("neutralises provider text in streamed output and in event lines", () => {
    sequence = 0;
    const text = rendered([
      stored("message_streamed", { delta: "\u001b[2J\u001b]0;title\u0007hi\n", stream: "stderr" }),
      stored("tool_call_failed", { toolCallId: "t1", toolName: "bash", errorMessage: "bad \u001b[31mred" }),
    ]);
    expect(text).toBe("#1 \\x1b[2J\\x1b]0;title\\x07hi\n#2 ⚙ bash failed: bad \\x1b[31mred\n");
  });

  it("prints no line for an empty message", () => {
    sequence = 0;
    expect(rendered([stored("message_received", { role: "tool", content: "  \n" })])).toBe("");
  });
});

describe("costLine", () => {
  const usage = { inputTokens: 10, outputTokens: 5 };
  const line = (costUsd: number | null, metadata: Record<string, unknown>, tokenUsage = usage) =>
    costLine(makeRun("ses_1", { status: "failed", costUsd, metadata, tokenUsage }), { color: false });

  it("says the figure, its source and any warning", () => {
    expect(line(0.0123, { costSource: "provider" })).toBe("cost $0.0123 · reported by the provider");
    expect(line(0.5, { costSource: "priced" })).toBe("cost $0.5000 · priced from token usage");
    expect(line(0.01, { costSource: "provider", costWarning: 'model "x" is not in the pricing table' })).toBe(
      'cost $0.0100 · reported by the provider · warning: model "x" is not in the pricing table',
    );
    expect(line(null, { costSource: "unknown", costWarning: "no price" })).toBe(
      "cost unknown · warning: no price",
    );
  });

  it("has nothing to say for a run nobody priced, or one that spent nothing", () => {
    expect(line(null, {})).toBeUndefined();
    expect(line(0, { costSource: "priced" }, { inputTokens: 0, outputTokens: 0 })).toBeUndefined();
  });
});
