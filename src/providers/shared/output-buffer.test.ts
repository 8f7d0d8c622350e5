import { describe, expect, it } from "vitest";
import { HeadBuffer, TailBuffer } from "./output-buffer.js";

function feed<T extends HeadBuffer | TailBuffer>(buffer: T, text: string, chunkSize: number): T {
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i += chunkSize) buffer.write(bytes.subarray(i, i + chunkSize));
  return buffer;
}

describe("HeadBuffer", () => {
  it("keeps everything under the limit, untouched", () => {
    const buffer = feed(new HeadBuffer(100), "héllo 😀", 3);
    expect(buffer.text()).toBe("héllo 😀");
    expect(buffer.truncated).toBe(false);
  });

  it("keeps exactly the limit when it falls on a character boundary", () => {
    const buffer = feed(new HeadBuffer(6), "abcdef", 4);
    expect(buffer.text()).toBe("abcdef");
    expect(buffer.truncated).toBe(false);
    buffer.write(Buffer.from("g"));
    expect(buffer.text()).toBe("abcdef");
    expect(buffer.truncated).toBe(true);
  });

  it("drops a character the limit would split", () => {
    // "a😀" is 1 + 4 bytes: any limit from 1 to 4 keeps only "a".
    for (const limit of [1, 2, 3, 4]) expect(feed(new HeadBuffer(limit), "a😀b", 1).text()).toBe("a");
    expect(feed(new HeadBuffer(5), "a😀b", 2).text()).toBe("a😀");
  });

  it("keeps nothing with a zero limit but still reports the cut", () => {
    const buffer = feed(new HeadBuffer(0), "x", 1);
    expect(buffer.text()).toBe("");
    expect(buffer.truncated).toBe(true);
  });
});

describe("TailBuffer", () => {
  it("keeps the last bytes, starting on a whole character", () => {
    // "😀xyz" is 4 + 3 bytes; the last 5 start inside the emoji, so only "xyz" is kept.
    const buffer = feed(new TailBuffer(5), "ab😀xyz", 2);
    expect(buffer.text()).toBe("xyz");
    expect(buffer.truncated).toBe(true);
  });

  it("keeps everything under the limit, across many chunks", () => {
    const buffer = feed(new TailBuffer(64), "é".repeat(20), 1);
    expect(buffer.text()).toBe("é".repeat(20));
    expect(buffer.truncated).toBe(false);
  });

  it("keeps only the tail of long input fed in small chunks", () => {
    const buffer = feed(new TailBuffer(10), `${"x".repeat(10_000)}0123456789`, 7);
    expect(buffer.text()).toBe("0123456789");
    expect(buffer.truncated).toBe(true);
  });
});
