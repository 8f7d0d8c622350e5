import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { ActiveRuns } from "./active-runs.js";

describe("ActiveRuns", () => {
  it("aborts the tracked signal when the caller's signal aborts, passing the reason on", () => {
    const runs = new ActiveRuns();
    const caller = new AbortController();
    const tracked = runs.track("run_1", caller.signal);
    expect(tracked.signal.aborted).toBe(false);

    caller.abort("user pressed stop");
    expect(tracked.signal.aborted).toBe(true);
    expect(tracked.signal.reason).toBe("user pressed stop");
  });

  it("aborts the tracked signal on cancel(runId) with a cancelled AsmError, not the caller's", () => {
    const runs = new ActiveRuns();
    const caller = new AbortController();
    const tracked = runs.track("run_1", caller.signal);

    expect(runs.cancel("run_1")).toBe(true);
    expect(tracked.signal.aborted).toBe(true);
    expect(AsmError.is(tracked.signal.reason, "cancelled")).toBe(true);
    expect(caller.signal.aborted).toBe(false);
    // Still executing until released: a second cancel is not "unknown run".
    expect(runs.cancel("run_1")).toBe(true);
  });

  it("returns false for runs it does not track", () => {
    const runs = new ActiveRuns();
    expect(runs.cancel("run_unknown")).toBe(false);
  });

  it("forgets a run on release and stops listening to the caller's signal", () => {
    const runs = new ActiveRuns();
    const caller = new AbortController();
    const tracked = runs.track("run_1", caller.signal);
    tracked.release();
    tracked.release();

    expect(runs.has("run_1")).toBe(false);
    expect(runs.size).toBe(0);
    expect(runs.cancel("run_1")).toBe(false);
    caller.abort();
    expect(tracked.signal.aborted).toBe(false);
  });

  it("starts aborted when the caller's signal already is", () => {
    const runs = new ActiveRuns();
    const tracked = runs.track("run_1", AbortSignal.abort("too late"));
    expect(tracked.signal.aborted).toBe(true);
    expect(tracked.signal.reason).toBe("too late");
  });

  it("refuses to track one run twice, and tracks it again after release", () => {
    const runs = new ActiveRuns();
    const first = runs.track("run_1", new AbortController().signal);
    let error: unknown;
    try {
      runs.track("run_1", new AbortController().signal);
    } catch (caught) {
      error = caught;
    }
    expect(AsmError.is(error, "invalid_operation")).toBe(true);

    first.release();
    const second = runs.track("run_1", new AbortController().signal);
    expect(runs.cancel("run_1")).toBe(true);
    expect(second.signal.aborted).toBe(true);
    expect(first.signal.aborted).toBe(false);
  });

  it("keeps runs independent", () => {
    const runs = new ActiveRuns();
    const a = runs.track("run_a", new AbortController().signal);
    const b = runs.track("run_b", new AbortController().signal);
    runs.cancel("run_a");
    expect(a.signal.aborted).toBe(true);
    expect(b.signal.aborted).toBe(false);
    expect(runs.size).toBe(2);
  });
});
