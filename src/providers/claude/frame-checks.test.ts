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
import { ClaudeAdapter, type ClaudeAdapterOptions } from "./index.js";

const workDir = tempWorkDir("asm-claude-frames-");
const scripted = scriptedAdapterFactory({
  cli: "claude",
  transcripts: workDir,
  workDir,
  create: (options: ClaudeAdapterOptions) => new ClaudeAdapter(options),
});

const INIT = {
  type: "system",
  subtype: "init",
  cwd: "{{cwd}}",
  session_id: "{{sessionId}}",
  tools: ["Bash"],
  model: "claude-sonnet-4-5",
  permissionMode: "default",
};

function assistant(id: string, text: string): TranscriptLine {
  return {
    type: "assistant",
    message: {
      id,
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [{ type: "text", text }],
    },
    parent_tool_use_id: null,
    session_id: "{{sessionId}}",
  };
}

function result(text: string): TranscriptLine {
  return {
    type: "result",
    subtype: "success",
    is_error: false,
    result: text,
    duration_ms: 10,
    duration_api_ms: 5,
    num_turns: 1,
    session_id: "{{sessionId}}",
    total_cost_usd: 0.001,
    usage: { input_tokens: 1, output_tokens: 1 },
    permission_denials: [],
  };
}

let transcripts = 0;
/** A scripted Claude run playing init, `body`, then whatever `end` is (a valid result by default). */
function transcript(body: TranscriptLine[], end: TranscriptLine[] = [result("Still here")]): string {
  transcripts += 1;
  const name = `frames-${transcripts}.jsonl`;
  writeTranscript(path.join(workDir, name), [{ $awaitStdin: "user" }, INIT, ...body, ...end]);
  return name;
}

/** The wrongly shaped frames the issue found fatal, and others the mapper or the SDK would trip on. */
const WRONG_FRAMES: [string, Record<string, unknown>][] = [
  ["assistant without message", { type: "assistant" }],
  ["assistant with message null", { type: "assistant", message: null }],
  ["stream_event with event null", { type: "stream_event", event: null }],
  ["result without anything", { type: "result" }],
  ["assistant content not an array", { type: "assistant", message: { id: "m", content: "text" } }],
  [
    "tool_use block without id",
    { type: "assistant", message: { id: "m", content: [{ type: "tool_use", name: "Bash" }] } },
  ],
  ["user content block null", { type: "user", message: { role: "user", content: [null] } }],
  [
    "error result whose errors are not strings (the SDK maps them)",
    { type: "result", subtype: "error_during_execution", is_error: true, errors: [1] },
  ],
  ["control_response without response (the SDK reads response.request_id)", { type: "control_response" }],
  [
    "permission_denied without tool_use_id",
    { type: "system", subtype: "permission_denied", tool_name: "Bash" },
  ],
  [
    "stream delta with text null",
    {
      type: "stream_event",
      event: { type: "content_block_delta", delta: { type: "text_delta", text: null } },
    },
  ],
];

describe("ClaudeAdapter: frames of the wrong shape or of an unknown type", () => {
  it.each(WRONG_FRAMES)(
    "%s: one parse_error event with the raw frame, in stream order; the run completes",
    async (_name, frame) => {
      const raw = JSON.stringify(frame);
      const { adapter } = scripted(transcript([{ $raw: raw }, assistant("msg_after", "Still here")]));
      await expectWrongFrameReported(adapter, raw, "Still here");
    },
  );

  it("names where a frame is wrong: the issues' paths and the frame type", async () => {
    const raw = JSON.stringify({ type: "assistant", message: { id: "m", content: [{ type: "text" }] } });
    const { adapter } = scripted(transcript([{ $raw: raw }]));
    const { sink } = await succeeds(run(adapter));
    const [event] = sink.of("error_occurred");
    expect(event?.data.details).toMatchObject({
      reason: "invalid_frame",
      frameType: "assistant",
      issues: [expect.objectContaining({ path: "message.content.0.text" })],
    });
    expect(event?.data.errorMessage).toContain("message.content.0.text");
  });

  it("a frame of a type Claude Code does not send, or with no type, is reported (unknown_frame), not dropped", async () => {
    const frames = [{ type: "made_up_frame", payload: 1 }, { no: "type" }, { type: 42 }];
    const { adapter } = scripted(transcript(frames.map((frame) => ({ $raw: JSON.stringify(frame) }))));
    await expectUnknownFramesReported(adapter, frames);
  });

  it("frames the mapper does not read, and fields it does not know, pass without a report", async () => {
    const { adapter } = scripted(
      transcript([
        { type: "system", subtype: "some_future_subtype", anything: [1, 2] },
        { type: "tool_progress", tool_use_id: "t", elapsed_time_seconds: 1 },
        { type: "rate_limit_event", rate_limit_info: {} },
        { ...assistant("msg_x", "Extra fields are fine"), future_field: { deep: [1] } },
      ]),
    );
    const { sink } = await succeeds(run(adapter));
    expect(sink.of("error_occurred")).toEqual([]);
    expect(sink.of("message_received").map((event) => event.data.content)).toEqual(["Extra fields are fine"]);
  });

  it("a wrongly shaped result is reported and a later valid result ends the run", async () => {
    const { adapter } = scripted(
      transcript(
        [{ $raw: JSON.stringify({ type: "result", subtype: "success", is_error: "no" }) }],
        [result("The real one")],
      ),
    );
    const { result: outcome, sink } = await succeeds(run(adapter));
    expect(outcome.output.content).toBe("The real one");
    expect(sink.of("error_occurred").map((event) => event.data.errorCode)).toEqual(["parse_error"]);
  });

  it("only wrongly shaped results: provider_error 'ended without a result', the parse_error logged before it", async () => {
    const { adapter } = scripted(
      transcript([assistant("msg_1", "Partial")], [{ $raw: JSON.stringify({ type: "result" }) }]),
    );
    const { error, sink } = await fails(run(adapter), "provider_error");
    expect(error.message).toBe("Claude Code ended without a result");
    expect(sink.events.map((event) => event.type)).toEqual([
      "run_started",
      "message_received",
      "error_occurred",
    ]);
    expect(sink.of("error_occurred")[0]?.data).toMatchObject({
      errorCode: "parse_error",
      details: { line: '{"type":"result"}' },
    });
  });
});
