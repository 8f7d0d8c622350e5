import { describe, expect, it } from "vitest";
import { SseParser } from "./sse-parser.js";

describe("SseParser", () => {
  it("dispatches events at blank lines across chunk and line-end boundaries, and comments apart", () => {
    const parser = new SseParser();
    const out = [
      ...parser.push("retry: 1000\n\n: heart"),
      ...parser.push("beat\r\nid: 7\r"),
      ...parser.push('\nevent: message_streamed\ndata: {"a":'),
      ...parser.push("1}\ndata: line2\n\nid: 8\ndata: x\n"),
    ];
    expect(out).toEqual([
      { comment: "heartbeat" },
      { message: { id: "7", event: "message_streamed", data: '{"a":1}\nline2' } },
    ]);
    // The event with id 8 has no blank line yet: a connection cut here never dispatches it.
    expect(parser.push("\n")).toEqual([{ message: { id: "8", event: "message", data: "x" } }]);
  });
});
