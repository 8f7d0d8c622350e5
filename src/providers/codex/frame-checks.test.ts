import path from "node:path";
import { describe, expect, it } from "vitest";
import { type TranscriptLine, writeTranscript } from "../../testing/scripted-cli/index.js";
import { expectUnknownFramesReported, expectWrongFrameReported } from "../test-support/frame-check-cases.js";
import {
  fails,
  run,
  scriptedAdapterFactory,
  succeeds,
  tempWorkDir,
} from "../test-support/scripted-adapter.js";
import { CodexAdapter, type CodexAdapterOptions } from "./index.js";

const workDir = tempWorkDir("asm-codex-frames-");
const scripted = scriptedAdapterFactory({
  cli: "codex",
  transcripts: workDir,
  workDir,
  create: (options: CodexAdapterOptions) => new CodexAdapter(options),
});

function message(id: string, text: string): TranscriptLine {
  return { type: "item.completed", item: { id, type: "agent_message", text } };
}

const TURN_COMPLETED: TranscriptLine = {
  type: "turn.completed",
  usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 3 },
};

let transcripts = 0;
/** A scripted Codex run: thread and turn started, `body`, then `end` (the turn completed by default). */
function transcript(body: TranscriptLine[], end: TranscriptLine[] = [TURN_COMPLETED]): string {
  transcripts += 1;
  const name = `frames-${transcripts}.jsonl`;
  writeTranscript(path.join(workDir, name), [
    { type: "thread.started", thread_id: "{{threadId}}" },
    { type: "turn.started" },
    ...body,
    ...end,
  ]);
  return name;
}

/**
 * Wrong shapes of every event Codex sends. The first three made the Codex SDK itself throw
 * (it sets `usage.cache_write_input_tokens` on every `turn.completed`), the rest the mapper.
 */
const WRONG_FRAMES: [string, Record<string, unknown>][] = [
  ["turn.completed without usage (the SDK writes into it)", { type: "turn.completed" }],
  ["turn.completed with usage null", { type: "turn.completed", usage: null }],
  ["turn.completed with usage a string", { type: "turn.completed", usage: "lots" }],
  ["item.completed without item", { type: "item.completed" }],
  ["item.started with item null", { type: "item.started", item: null }],
  ["item without id", { type: "item.completed", item: { type: "agent_message", text: "x" } }],
  ["agent_message without text", { type: "item.completed", item: { id: "i", type: "agent_message" } }],
  [
    "mcp_tool_call without server",
    { type: "item.started", item: { id: "i", type: "mcp_tool_call", tool: "t" } },
  ],
  [
    "mcp_tool_call error without message",
    { type: "item.completed", item: { id: "i", type: "mcp_tool_call", server: "s", tool: "t", error: {} } },
  ],
  ["turn.failed without error", { type: "turn.failed" }],
  ["top-level error without message", { type: "error" }],
  ["thread.started without thread_id", { type: "thread.started" }],
];

describe("CodexAdapter: events of the wrong shape or of an unknown type", () => {
  it.each(WRONG_FRAMES)(
    "%s: one parse_error event with the raw frame, in stream order; the run completes",
    async (_name, frame) => {
      const raw = JSON.stringify(frame);
      const { adapter } = scripted(transcript([{ $raw: raw }, message("item_9", "Still here")]));
      await expectWrongFrameReported(adapter, raw, "Still here");
    },
  );

  it("an event of a type Codex does not send, or with no type, is reported (unknown_frame), not dropped", async () => {
    const frames = [{ type: "made.up", x: 1 }, { item: {} }, { type: null }];
    const { adapter } = scripted(transcript(frames.map((frame) => ({ $raw: JSON.stringify(frame) }))));
    await expectUnknownFramesReported(adapter, frames);
  });

  it("a valid event with a CR as whitespace reaches the SDK whole (its readline would split it there)", async () => {
    const { adapter } = scripted(
      transcript([
        {
          $raw: '{"type":"item.completed",\r"item":{"id":"item_1","type":"agent_message","text":"Split? No"}}',
        },
      ]),
    );
    const { result, sink } = await succeeds(run(adapter));
    expect(sink.of("error_occurred")).toEqual([]);
    expect(result.output.content).toBe("Split? No");
  });

  it("item types the SDK does not know and unknown fields pass; an unknown item is a tool call", async () => {
    const { adapter } = scripted(
      transcript([
        {
          type: "item.completed",
          item: { id: "item_c", type: "collab_tool_call", tool: "spawn", status: "completed" },
        },
        { ...message("item_m", "Fine"), extra: { nested: [1, { deep: true }] } },
      ]),
    );
    const { sink } = await succeeds(run(adapter));
    expect(sink.of("error_occurred")).toEqual([]);
    expect(sink.of("tool_call_completed").map((event) => event.data.toolName)).toEqual(["collab_tool_call"]);
    expect(sink.of("message_received").map((event) => event.data.content)).toEqual(["Fine"]);
  });

  it("a wrongly shaped turn.completed is reported; a later valid one completes the turn", async () => {
    const { adapter } = scripted(
      transcript([message("item_1", "Done"), { $raw: '{"type":"turn.completed"}' }]),
    );
    const { result, sink } = await succeeds(run(adapter));
    expect(result.output.content).toBe("Done");
    expect(result.tokenUsage).toEqual({ inputTokens: 10, outputTokens: 3, cacheReadTokens: 0 });
    expect(sink.of("error_occurred").map((event) => event.data.errorCode)).toEqual(["parse_error"]);
  });

  it("only wrongly shaped turn ends: provider_error, the parse_errors logged before it", async () => {
    const { adapter } = scripted(
      transcript([message("item_1", "Partial")], [{ $raw: '{"type":"turn.completed","usage":null}' }]),
    );
    const { error, sink } = await fails(run(adapter), "provider_error");
    expect(error.message).toBe("Codex CLI ended without completing the turn");
    expect(sink.events.map((event) => event.type)).toEqual([
      "run_started",
      "message_received",
      "error_occurred",
    ]);
    expect(sink.of("error_occurred")[0]?.data).toMatchObject({
      errorCode: "parse_error",
      details: { line: '{"type":"turn.completed","usage":null}' },
    });
  });
});
