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
import { AmpAdapter, type AmpAdapterOptions } from "./index.js";

const workDir = tempWorkDir("asm-amp-frames-");
const scripted = scriptedAdapterFactory({
  cli: "amp",
  transcripts: workDir,
  workDir,
  create: (options: AmpAdapterOptions) =>
    new AmpAdapter({ ...options, env: { AMP_API_KEY: "amp-test-key", ...options.env } }),
});

function assistant(text: string): TranscriptLine {
  return {
    type: "assistant",
    message: {
      type: "message",
      role: "assistant",
      content: [{ type: "text", text }],
      stop_reason: "end_turn",
    },
    parent_tool_use_id: null,
    session_id: "{{threadId}}",
  };
}

function result(text: string): TranscriptLine {
  return {
    type: "result",
    subtype: "success",
    is_error: false,
    result: text,
    num_turns: 1,
    session_id: "{{threadId}}",
  };
}

let transcripts = 0;
/** A scripted Amp run: init, `body`, then `end` (a valid result by default). */
function transcript(body: TranscriptLine[], end: TranscriptLine[] = [result("Still here")]): string {
  transcripts += 1;
  const name = `frames-${transcripts}.jsonl`;
  writeTranscript(path.join(workDir, name), [
    {
      type: "system",
      subtype: "init",
      cwd: "{{cwd}}",
      session_id: "{{threadId}}",
      tools: [],
      mcp_servers: [],
    },
    ...body,
    ...end,
  ]);
  return name;
}

const WRONG_FRAMES: [string, Record<string, unknown>][] = [
  ["assistant without message", { type: "assistant" }],
  ["assistant with message null", { type: "assistant", message: null }],
  ["user content a number", { type: "user", message: { content: 5 } }],
  [
    "tool_result without tool_use_id",
    { type: "user", message: { content: [{ type: "tool_result", content: "x" }] } },
  ],
  ["result without subtype", { type: "result", is_error: false, result: "x" }],
  ["result with is_error a string", { type: "result", subtype: "success", is_error: "no" }],
  ["init without session_id", { type: "system", subtype: "init" }],
];

describe("AmpAdapter: frames of the wrong shape or of an unknown type", () => {
  it.each(WRONG_FRAMES)(
    "%s: one parse_error event with the raw frame, in stream order; the run completes",
    async (_name, frame) => {
      const raw = JSON.stringify(frame);
      const { adapter } = scripted(transcript([{ $raw: raw }, assistant("After it")]));
      await expectWrongFrameReported(adapter, raw, "Still here");
    },
  );

  it("a frame of a type Amp does not send, or with no type, is reported (unknown_frame), not dropped", async () => {
    const frames = [{ type: "stream_event", event: {} }, { message: {} }, { type: ["assistant"] }];
    const { adapter } = scripted(transcript(frames.map((frame) => ({ $raw: JSON.stringify(frame) }))));
    await expectUnknownFramesReported(adapter, frames);
  });

  it("other system subtypes, other block kinds and unknown fields pass without a report", async () => {
    const { adapter } = scripted(
      transcript([
        { type: "system", subtype: "status", status: "thinking" },
        {
          ...assistant("Fine"),
          message: {
            content: [
              { type: "image", source: {} },
              { type: "text", text: "Fine" },
            ],
            extra: [1],
          },
        },
      ]),
    );
    const { sink } = await succeeds(run(adapter));
    expect(sink.of("error_occurred")).toEqual([]);
    expect(sink.of("message_received").map((event) => event.data.content)).toEqual(["Fine"]);
  });

  it("a wrongly shaped result is reported and a later valid result ends the run", async () => {
    const { adapter } = scripted(
      transcript([{ $raw: '{"type":"result","subtype":"success","is_error":7}' }], [result("The real one")]),
    );
    const { result: outcome, sink } = await succeeds(run(adapter));
    expect(outcome.output.content).toBe("The real one");
    expect(sink.of("error_occurred").map((event) => event.data.errorCode)).toEqual(["parse_error"]);
  });

  it("only wrongly shaped results: provider_error 'exited without a result', the parse_error logged before it", async () => {
    const { adapter } = scripted(transcript([assistant("Partial")], [{ $raw: '{"type":"result"}' }]));
    const { error, sink } = await fails(run(adapter), "provider_error");
    expect(error.message).toBe("Amp exited without a result");
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

  it("an unusable line after the result is still reported", async () => {
    const { adapter } = scripted(transcript([], [result("Done"), { $raw: "trailing garbage" }]));
    const { result: outcome, sink } = await succeeds(run(adapter));
    expect(outcome.output.content).toBe("Done");
    expect(sink.of("error_occurred").map((event) => event.data.details?.line)).toEqual(["trailing garbage"]);
  });
});
