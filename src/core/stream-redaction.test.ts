import { describe, expect, it } from "vitest";
import type { AdapterEvent } from "./events.js";
import { Redactor } from "./redaction.js";
import { carryStart, StreamRedactionWindow } from "./stream-redaction.js";

const PEM = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "QyNTUxOQAAACDk2lD9o0Ly3nW8nLw1cQ1Fz3o6nE2L0O0RkzQjC7wXvwAAAJhO3n0+Tt59",
  "-----END OPENSSH PRIVATE KEY-----",
].join("\n");

function delta(text: string, stream?: string): AdapterEvent {
  return { type: "message_streamed", data: { delta: text, ...(stream ? { stream } : {}) } };
}

/** Feeds events through a window; returns what it forwarded, each delta redacted as the pipeline would. */
function pass(events: readonly AdapterEvent[]): AdapterEvent[] {
  const forwarded: AdapterEvent[] = [];
  const window = new StreamRedactionWindow<AdapterEvent>((event) => forwarded.push(event));
  for (const event of events) window.accept(event);
  window.release();
  return forwarded;
}

function deltas(events: readonly AdapterEvent[]): string[] {
  return events.map((event) => (event.type === "message_streamed" ? event.data.delta : `<${event.type}>`));
}

describe("StreamRedactionWindow", () => {
  const redactor = new Redactor();

  it.each([
    ["an AWS key", ["key AKIAIOSF", "ODNN7EXAMPLE done\n"], "AKIAIOSFODNN7EXAMPLE"],
    [
      "a bearer token cut after the scheme",
      ["Authorization: Bearer ", "abcdefghijklmnopqrstuvwxyz\n"],
      "abcdefghijklmnopqrstuvwxyz",
    ],
    [
      "a password field cut after its key",
      ['{"password": "', 'hunter2-correct-horse"}'],
      "hunter2-correct-horse",
    ],
    ["a URL password", ["clone https://admin:S3cr", "etPassw0rd@git.example.com/x\n"], "S3cretPassw0rd"],
    [
      "a token cut in three",
      ["ghp_aaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "aaaaaaaa now\n"],
      `ghp_${"a".repeat(36)}`,
    ],
  ])("lets the redactor see %s split across deltas whole", (_name, parts, secret) => {
    const forwarded = pass(parts.map((part) => delta(part)));
    expect(forwarded).toHaveLength(parts.length);
    const texts = deltas(forwarded);
    expect(texts.join("")).toBe(parts.join(""));
    const stored = texts.map((text) => redactor.redactText(text).text).join("");
    expect(stored).not.toContain(secret);
    for (const fragment of [secret.slice(0, 8), secret.slice(-8)]) expect(stored).not.toContain(fragment);
  });

  it("carries an open private key block until it closes, over several deltas", () => {
    const parts = [
      `here: ${PEM.slice(0, 20)}`,
      PEM.slice(20, 60),
      PEM.slice(60, 120),
      `${PEM.slice(120)}\nok\n`,
    ];
    const texts = deltas(pass(parts.map((part) => delta(part))));
    // The first delta's last words are carried too: they could be the start of a header.
    expect(texts).toEqual(["", "here: ", "", `${PEM}\nok\n`]);
    expect(redactor.redactText(texts.join("")).text).toBe("here: [REDACTED]\nok\n");
  });

  it("forwards every event once, in order; a delta ending a line is not held", () => {
    const forwarded: AdapterEvent[] = [];
    const window = new StreamRedactionWindow<AdapterEvent>((event) => forwarded.push(event));
    window.accept(delta("line one\n"));
    expect(deltas(forwarded)).toEqual(["line one\n"]);
    window.accept(delta("half a li"));
    expect(forwarded).toHaveLength(1);
    window.accept({ type: "tool_call_started", data: { toolCallId: "1", toolName: "Bash", toolInput: {} } });
    expect(deltas(forwarded)).toEqual(["line one\n", "half a li", "<tool_call_started>"]);
    window.accept(delta("tail"));
    window.release();
    window.release();
    expect(deltas(forwarded)).toEqual(["line one\n", "half a li", "<tool_call_started>", "tail"]);
  });

  it("keeps streams apart: stdout's end is not carried into stderr", () => {
    const texts = deltas(
      pass([delta("out AKIAIOSF", "stdout"), delta("err text\n", "stderr"), delta("x\n", "stdout")]),
    );
    expect(texts).toEqual(["out AKIAIOSF", "err text\n", "x\n"]);
  });

  it("gives a held delta the time it was emitted, unless it carries its own timestamp", () => {
    const forwarded: [AdapterEvent, Date | undefined][] = [];
    const window = new StreamRedactionWindow<AdapterEvent>((event, at) => forwarded.push([event, at]));
    const before = Date.now();
    window.accept(delta("held"));
    window.accept({ ...delta("own"), timestamp: "2026-01-01T00:00:00.000Z" });
    window.release();
    const [[, heldAt] = [], [own, ownAt] = []] = forwarded;
    expect(heldAt?.getTime()).toBeGreaterThanOrEqual(before);
    expect(heldAt?.getTime()).toBeLessThanOrEqual(Date.now());
    expect([own?.timestamp, ownAt]).toEqual(["2026-01-01T00:00:00.000Z", undefined]);
  });

  it("passes events that are not deltas of text untouched", () => {
    const odd = { type: "message_streamed", data: { delta: 42 } } as unknown as AdapterEvent;
    const forwarded = pass([odd, null as unknown as AdapterEvent]);
    expect(forwarded).toEqual([odd, null]);
  });
});

describe("carryStart", () => {
  it.each([
    ["nothing", "", 0],
    ["a finished line", "done\n", 5],
    ["the last four words", "one two three four five six", 8],
    ["all of a short text", "a b", 0],
    ["words of the last line only", "first line\nsecond part", 11],
    ["words before trailing spaces", "ends with spaces:   ", 0],
    [
      "an open key block, even after a line break",
      `intro ${"-".repeat(5)}BEGIN RSA PRIVATE KEY-----\nMII\n`,
      6,
    ],
    ["at most 4096 characters of one long word", "x".repeat(10_000), 10_000 - 4096],
  ])("carries %s", (_what, text, expected) => {
    expect(carryStart(text)).toBe(expected);
  });
});
