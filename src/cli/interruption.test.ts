import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Interruption, TERMINATING_SIGNALS } from "./interruption.js";

function setup() {
  const signals = new EventEmitter();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const repeats: [number, string][] = [];
  const interruption = new Interruption({
    signals,
    stdout,
    stderr,
    onRepeat: (count, signal) => repeats.push([count, signal]),
  });
  return { signals, stdout, stderr, repeats, interruption };
}

function epipe(): Error {
  return Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
}

describe("Interruption", () => {
  it("aborts on the first terminating signal, with that signal's exit code", () => {
    const { signals, repeats, interruption } = setup();
    expect(interruption.signal.aborted).toBe(false);
    expect(interruption.exitCode).toBeUndefined();

    signals.emit("SIGTERM", "SIGTERM");
    expect(interruption.signal.aborted).toBe(true);
    expect(interruption.interrupt).toEqual({ kind: "signal", signal: "SIGTERM" });
    expect(interruption.exitCode).toBe(143);
    expect(repeats).toEqual([]);
  });

  it("reports every later signal as a repeat, keeping the first as the cause", () => {
    const { signals, repeats, interruption } = setup();
    signals.emit("SIGINT", "SIGINT");
    signals.emit("SIGINT", "SIGINT");
    signals.emit("SIGHUP", "SIGHUP");
    expect(repeats).toEqual([
      [2, "SIGINT"],
      [3, "SIGHUP"],
    ]);
    expect(interruption.interrupt).toEqual({ kind: "signal", signal: "SIGINT" });
    expect(interruption.exitCode).toBe(130);
  });

  it("maps each terminating signal to 128 + its number", () => {
    const codes = TERMINATING_SIGNALS.map((name) => {
      const { signals, interruption } = setup();
      signals.emit(name, name);
      return [name, interruption.exitCode];
    });
    expect(codes).toEqual([
      ["SIGINT", 130],
      ["SIGTERM", 143],
      ["SIGHUP", 129],
      ["SIGQUIT", 131],
    ]);
  });

  it("aborts when stdout fails (its reader went away), with SIGPIPE's exit code", () => {
    const { stdout, interruption } = setup();
    stdout.emit("error", epipe());
    expect(interruption.signal.aborted).toBe(true);
    expect(interruption.interrupt).toEqual({ kind: "stdout_closed" });
    expect(interruption.exitCode).toBe(141);
  });

  it("keeps output failures handled after dispose, and gives the signals back", () => {
    const { signals, stdout, stderr, interruption } = setup();
    interruption.dispose();
    for (const name of TERMINATING_SIGNALS) expect(signals.listenerCount(name)).toBe(0);
    // Without a listener an 'error' event throws: a late EPIPE would crash the process.
    expect(() => stdout.emit("error", epipe())).not.toThrow();
    expect(() => stderr.emit("error", epipe())).not.toThrow();
  });
});
