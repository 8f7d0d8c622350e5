import { isUtf8 } from "node:buffer";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  createJsonlFilter,
  type FrameCheck,
  type JsonLine,
  type LineProblem,
  LineSplitter,
  readJsonLines,
  utf8Preview,
} from "./jsonl-reader.js";

async function readAll(chunks: (string | Buffer)[], options = {}): Promise<JsonLine[]> {
  const out: JsonLine[] = [];
  for await (const item of readJsonLines(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), options)) {
    out.push(item);
  }
  return out;
}

describe("readJsonLines", () => {
  it("parses lines split anywhere across chunks, skips blank lines, strips CR, flushes a last line without newline", async () => {
    const items = await readAll(['{"a":', '1}\n\n{"b"', ":2}\r\n", '{"c":3}']);
    expect(items).toEqual([
      { kind: "value", value: { a: 1 }, lineNumber: 1 },
      { kind: "value", value: { b: 2 }, lineNumber: 3 },
      { kind: "value", value: { c: 3 }, lineNumber: 4 },
    ]);
  });

  it("reports a malformed line with a truncated preview and goes on", async () => {
    const bad = `not json ${"y".repeat(100)}`;
    const items = await readAll([`{"ok":1}\n${bad}\n{"ok":2}\n`], { previewBytes: 16 });
    expect(items[0]).toEqual({ kind: "value", value: { ok: 1 }, lineNumber: 1 });
    expect(items[1]).toMatchObject({
      kind: "problem",
      problem: {
        reason: "malformed_json",
        lineNumber: 2,
        bytes: bad.length,
        preview: "not json yyyyyyy",
        truncated: true,
      },
    });
    expect(items[2]).toEqual({ kind: "value", value: { ok: 2 }, lineNumber: 3 });
  });

  it("skips an oversized line without buffering it, then reads the next line", async () => {
    const huge = `{"pad":"${"x".repeat(5000)}"}`;
    // Fed in small chunks: the limit must hold across chunks, not only within one.
    const text = `${huge}\n{"after":true}\n`;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 700) chunks.push(text.slice(i, i + 700));
    const items = await readAll(chunks, { maxLineBytes: 1000, previewBytes: 10 });
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      kind: "problem",
      problem: {
        reason: "oversized_line",
        bytes: huge.length,
        preview: '{"pad":"xx',
        truncated: true,
        lineNumber: 1,
      },
    });
    expect(items[1]).toEqual({ kind: "value", value: { after: true }, lineNumber: 2 });
  });

  it("rejects non-objects only when asked", async () => {
    expect(await readAll(["42\n"])).toEqual([{ kind: "value", value: 42, lineNumber: 1 }]);
    const [item] = await readAll(["42\n"], { requireObject: true });
    expect(item).toMatchObject({ kind: "problem", problem: { reason: "not_an_object" } });
  });
});

describe("LineSplitter", () => {
  it("never holds more than the limit of one line", () => {
    const lines: number[] = [];
    const oversized: number[] = [];
    const splitter = new LineSplitter(
      { line: (line) => lines.push(line.length), oversized: (_head, bytes) => oversized.push(bytes) },
      { maxLineBytes: 10, previewBytes: 4 },
    );
    splitter.push(Buffer.from("0123456789"));
    splitter.push(Buffer.from("abc"));
    splitter.push(Buffer.from("def\nok\n"));
    splitter.end();
    expect(oversized).toEqual([16]);
    expect(lines).toEqual([2]);
  });
});

describe("utf8Preview", () => {
  it("never cuts inside a character", () => {
    expect(utf8Preview(Buffer.from("aé"), 2)).toEqual({ text: "a", truncated: true });
    expect(utf8Preview(Buffer.from("aé"), 3)).toEqual({ text: "aé", truncated: false });
  });
});

describe("createJsonlFilter", () => {
  it("passes object lines through and reports the rest", async () => {
    const problems: LineProblem[] = [];
    const filter = createJsonlFilter(
      (problem) => {
        problems.push(problem);
        return undefined;
      },
      { maxLineBytes: 50 },
    );
    const source = Readable.from([Buffer.from(`{"a":1}\nnope\n[1]\n{"pad":"${"z".repeat(80)}"}\n{"b":2}`)]);
    let out = "";
    for await (const chunk of source.pipe(filter)) out += String(chunk);
    expect(out).toBe('{"a":1}\n{"b":2}\n');
    expect(problems.map((problem) => problem.reason)).toEqual([
      "malformed_json",
      "not_an_object",
      "oversized_line",
    ]);
  });

  it("puts the line onProblem returns in the bad line's place", async () => {
    const filter = createJsonlFilter((problem) => JSON.stringify({ problem: problem.lineNumber }));
    let out = "";
    for await (const chunk of Readable.from([Buffer.from('{"a":1}\nnope\n{"b":2}\n')]).pipe(filter)) {
      out += String(chunk);
    }
    expect(out).toBe('{"a":1}\n{"problem":2}\n{"b":2}\n');
  });
});

describe("frame checks while reading", () => {
  const frames: FrameCheck<{ type: "ping"; n: number }> = (value) =>
    value.type === "ping" && typeof value.n === "number"
      ? { ok: true, frame: { type: "ping", n: value.n } }
      : value.type === "ping"
        ? {
            ok: false,
            problem: {
              reason: "invalid_frame",
              message: "n: expected number",
              frameType: "ping",
              issues: [{ path: "n", message: "expected number" }],
            },
          }
        : { ok: false, problem: { reason: "unknown_frame", message: "unknown" } };

  it("readJsonLines yields checked frames and reports refused objects with the raw line", async () => {
    const out: JsonLine[] = [];
    const text = '{"type":"ping","n":1}\n{"type":"ping","n":"x"}\n{"type":"pong"}\n[1]\n';
    for await (const item of readJsonLines(Readable.from([Buffer.from(text)]), { frames })) out.push(item);
    expect(out).toEqual([
      { kind: "value", value: { type: "ping", n: 1 }, lineNumber: 1 },
      {
        kind: "problem",
        problem: {
          reason: "invalid_frame",
          message: "n: expected number",
          lineNumber: 2,
          bytes: 23,
          preview: '{"type":"ping","n":"x"}',
          truncated: false,
          frameType: "ping",
          issues: [{ path: "n", message: "expected number" }],
        },
      },
      expect.objectContaining({
        kind: "problem",
        problem: expect.objectContaining({ reason: "unknown_frame", lineNumber: 3 }),
      }),
      expect.objectContaining({
        kind: "problem",
        problem: expect.objectContaining({ reason: "not_an_object", lineNumber: 4 }),
      }),
    ]);
  });

  it("createJsonlFilter lets only accepted frames through, in place of the others what onProblem returns", async () => {
    const filter = createJsonlFilter((problem) => JSON.stringify({ bad: problem.reason }), { frames });
    let out = "";
    const text = '{"type":"ping","n":1}\n{"type":"ping"}\n{"type":"other"}\n{"type":"ping","n":2}\n';
    for await (const chunk of Readable.from([Buffer.from(text)]).pipe(filter)) out += String(chunk);
    expect(out).toBe(
      '{"type":"ping","n":1}\n{"bad":"invalid_frame"}\n{"bad":"unknown_frame"}\n{"type":"ping","n":2}\n',
    );
  });

  it("createJsonlFilter passes lines a readline-based reader reads back whole: no CR, valid UTF-8", async () => {
    const filter = createJsonlFilter(() => undefined);
    const chunks: Buffer[] = [];
    const input = Buffer.concat([
      Buffer.from('{"a":\r1,\r"b":2}\r\n'),
      Buffer.from('{"s":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"}\n'),
    ]);
    for await (const chunk of Readable.from([input]).pipe(filter)) chunks.push(chunk as Buffer);
    const out = Buffer.concat(chunks);
    expect(out.includes(0x0d)).toBe(false);
    expect(isUtf8(out)).toBe(true);
    // What node:readline (which the SDKs use) makes of it: the same two objects.
    const lines: string[] = [];
    for await (const line of createInterface({ input: Readable.from([out]) })) lines.push(line);
    expect(lines.map((line) => JSON.parse(line))).toEqual([{ a: 1, b: 2 }, { s: "\uFFFD\uFFFD\uFFFD" }]);
  });
});
