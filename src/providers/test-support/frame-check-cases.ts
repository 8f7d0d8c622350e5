/**
 * The frame-check assertions every agent adapter's tests share (Claude, Codex, Amp): what a
 * wrong-shaped or unknown frame must become in the run's events. Test-only.
 */
import { expect } from "vitest";
import type { ProviderAdapter } from "../../ports/provider-adapter.js";
import { run, succeeds } from "./scripted-adapter.js";

/**
 * The adapter plays a transcript of one wrong-shaped frame (`raw`) and then a valid message:
 * the run completes with `output`, and emits exactly one `parse_error` carrying the raw frame,
 * before that message.
 */
export async function expectWrongFrameReported(
  adapter: ProviderAdapter,
  raw: string,
  output: string,
): Promise<void> {
  const { result, sink } = await succeeds(run(adapter));
  expect(result.output.content).toBe(output);
  expect(sink.of("error_occurred").map((event) => event.data)).toEqual([
    expect.objectContaining({
      errorCode: "parse_error",
      fatal: false,
      details: expect.objectContaining({
        reason: "invalid_frame",
        frameType: (JSON.parse(raw) as { type?: unknown }).type,
        line: raw,
        bytes: raw.length,
        truncated: false,
      }),
    }),
  ]);
  const types = sink.events.map((event) => event.type);
  expect(types.indexOf("error_occurred")).toBeLessThan(types.indexOf("message_received"));
}

/** The adapter plays `frames`, of types its CLI never sends: one `unknown_frame` parse_error each, in order. */
export async function expectUnknownFramesReported(
  adapter: ProviderAdapter,
  frames: readonly unknown[],
): Promise<void> {
  const { sink } = await succeeds(run(adapter));
  expect(
    sink
      .of("error_occurred")
      .map((event) => [event.data.errorCode, event.data.details?.reason, event.data.details?.line]),
  ).toEqual(frames.map((frame) => ["parse_error", "unknown_frame", JSON.stringify(frame)]));
}
