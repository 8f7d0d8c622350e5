import { describe, expect, it } from "vitest";
import { providerErrorPayload, truncateTail } from "./provider-error.js";

describe("truncateTail", () => {
  it("keeps the last lines, then the last bytes", () => {
    const text = Array.from({ length: 10 }, (_, index) => `line ${index}`).join("\n");
    expect(truncateTail(text, { maxLines: 3 })).toEqual({ text: "line 7\nline 8\nline 9", truncated: true });
    expect(truncateTail("abcdef", { maxBytes: 4 })).toEqual({ text: "cdef", truncated: true });
    expect(truncateTail("short")).toEqual({ text: "short", truncated: false });
  });

  it("never splits a UTF-8 character", () => {
    // "é" is 2 bytes, "€" 3, "😀" 4: a cut at any byte must land on a character boundary.
    const text = "é€😀é€😀";
    for (let maxBytes = 1; maxBytes <= Buffer.byteLength(text); maxBytes += 1) {
      const { text: kept } = truncateTail(text, { maxBytes });
      expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(maxBytes);
      expect(kept).not.toContain("\uFFFD");
      expect(text.endsWith(kept)).toBe(true);
    }
  });
});

describe("providerErrorPayload", () => {
  it("falls back to stderr's last line for the message and marks truncation", () => {
    const stderr = `${"noise\n".repeat(300)}fatal: auth failed\n`;
    const payload = providerErrorPayload({ provider: "codex", kind: "transport_exit", exitCode: 1, stderr });
    expect(payload.message).toBe("fatal: auth failed");
    expect(payload.exitCode).toBe(1);
    expect(payload.truncated).toBe(true);
    expect(payload.stderr?.split("\n").filter(Boolean)).toHaveLength(200);
    expect(payload.stderr?.endsWith("fatal: auth failed\n")).toBe(true);
    expect(providerErrorPayload({ provider: "amp" })).toEqual({
      provider: "amp",
      kind: "unknown",
      message: "Provider execution failed",
    });
  });
});
