import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { ConcurrencyLimiter } from "./concurrency-limiter.js";

/** Settles `promise` into a value to assert on: "granted", or the rejection's code. */
function outcome(promise: Promise<void>): Promise<string> {
  return promise.then(
    () => "granted",
    (error: unknown) => (AsmError.is(error) ? error.code : `not an AsmError: ${String(error)}`),
  );
}

/** Lets every settled promise's callbacks run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("ConcurrencyLimiter", () => {
  it("defaults to 100 sessions and 50 runs, and reports who holds and who waits", async () => {
    const limiter = new ConcurrencyLimiter();
    await limiter.acquireSession("ses_1");
    await limiter.acquireRun("run_1");
    expect(limiter.status()).toEqual({
      sessions: { active: 1, max: 100, waiting: 0 },
      runs: { active: 1, max: 50, waiting: 0 },
    });
  });

  it("refuses limits that are not positive integers (Infinity allowed)", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "2"]) {
      expect(() => new ConcurrencyLimiter({ maxParallelRuns: bad as number })).toThrow(
        expect.objectContaining({ code: "validation_error" }),
      );
      expect(() => new ConcurrencyLimiter({ maxParallelSessions: bad as number })).toThrow(
        expect.objectContaining({ code: "validation_error" }),
      );
    }
    const unlimited = new ConcurrencyLimiter({ maxParallelRuns: Number.POSITIVE_INFINITY });
    expect(unlimited.status().runs.max).toBe(Number.POSITIVE_INFINITY);
  });

  it("fails fast when full: max_sessions_exceeded / max_runs_exceeded with the limit in details", async () => {
    const limiter = new ConcurrencyLimiter({ maxParallelSessions: 1, maxParallelRuns: 2 });
    await limiter.acquireSession("ses_1");
    await limiter.acquireRun("run_1");
    await limiter.acquireRun("run_2");
    const session = await limiter.acquireSession("ses_2").catch((error: unknown) => error);
    expect(session).toMatchObject({
      code: "max_sessions_exceeded",
      details: { sessionId: "ses_2", limit: 1 },
    });
    const run = await limiter.acquireRun("run_3").catch((error: unknown) => error);
    expect(run).toMatchObject({
      code: "max_runs_exceeded",
      details: { runId: "run_3", limit: 2, active: 2 },
    });
    expect(limiter.status().runs).toEqual({ active: 2, max: 2, waiting: 0 });
  });

  it("is idempotent: a second acquire of a holder takes no other slot, a second release frees nothing", async () => {
    const limiter = new ConcurrencyLimiter({ maxParallelRuns: 2 });
    await limiter.acquireRun("run_1");
    await limiter.acquireRun("run_1");
    expect(limiter.status().runs.active).toBe(1);
    await limiter.acquireRun("run_2");
    // Full now, yet the holder's own acquire still succeeds.
    await limiter.acquireRun("run_2");
    limiter.releaseRun("run_1");
    limiter.releaseRun("run_1");
    limiter.releaseRun("never_acquired");
    expect(limiter.status().runs).toEqual({ active: 1, max: 2, waiting: 0 });
  });

  it("gives freed slots to waiters in the order they asked (FIFO)", async () => {
    const limiter = new ConcurrencyLimiter({ maxParallelRuns: 1 });
    await limiter.acquireRun("holder");
    const granted: string[] = [];
    const waits = ["a", "b", "c"].map((id) =>
      limiter.acquireRun(id, { wait: true }).then(() => granted.push(id)),
    );
    expect(limiter.status().runs.waiting).toBe(3);

    // A fail-fast acquire arriving now does not jump the queue.
    expect(await outcome(limiter.acquireRun("late"))).toBe("max_runs_exceeded");

    limiter.releaseRun("holder");
    await flush();
    expect(granted).toEqual(["a"]);
    limiter.releaseRun("a");
    await flush();
    limiter.releaseRun("b");
    await Promise.all(waits);
    expect(granted).toEqual(["a", "b", "c"]);
    expect(limiter.status().runs).toEqual({ active: 1, max: 1, waiting: 0 });
  });

  it("a wait that times out rejects max_runs_exceeded with how long it waited, and never takes a slot later", async () => {
    const limiter = new ConcurrencyLimiter({ maxParallelRuns: 1 });
    await limiter.acquireRun("holder");
    const timedOut = await limiter.acquireRun("slow", { timeoutMs: 5 }).catch((error: unknown) => error);
    expect(timedOut).toMatchObject({
      code: "max_runs_exceeded",
      details: { runId: "slow", limit: 1, timeoutMs: 5, waitedMs: expect.any(Number) },
    });
    expect(limiter.status().runs.waiting).toBe(0);
    limiter.releaseRun("holder");
    expect(limiter.status().runs.active).toBe(0);
  });

  it("an aborted wait rejects cancelled and leaves the queue; the next waiter gets the slot", async () => {
    const limiter = new ConcurrencyLimiter({ maxParallelSessions: 1 });
    await limiter.acquireSession("holder");
    const stop = new AbortController();
    const first = outcome(limiter.acquireSession("first", { wait: true, signal: stop.signal }));
    const second = outcome(limiter.acquireSession("second", { wait: true }));
    stop.abort();
    expect(await first).toBe("cancelled");
    expect(limiter.status().sessions.waiting).toBe(1);
    limiter.releaseSession("holder");
    expect(await second).toBe("granted");
    limiter.releaseSession("first");
    expect(limiter.status().sessions).toEqual({ active: 1, max: 1, waiting: 0 });

    const aborted = AbortSignal.abort();
    expect(await outcome(limiter.acquireSession("late", { signal: aborted }))).toBe("cancelled");
  });

  it("a release of a waiting id withdraws its wait (cancelled) instead of leaking a later slot", async () => {
    const limiter = new ConcurrencyLimiter({ maxParallelRuns: 1 });
    await limiter.acquireRun("holder");
    const waiting = outcome(limiter.acquireRun("queued", { wait: true }));
    limiter.releaseRun("queued");
    expect(await waiting).toBe("cancelled");
    limiter.releaseRun("holder");
    expect(limiter.status().runs).toEqual({ active: 0, max: 1, waiting: 0 });
  });

  it("two waits for one id share the slot it is granted", async () => {
    const limiter = new ConcurrencyLimiter({ maxParallelRuns: 1 });
    await limiter.acquireRun("holder");
    const both = [limiter.acquireRun("twice", { wait: true }), limiter.acquireRun("twice", { wait: true })];
    limiter.releaseRun("holder");
    expect(await Promise.all(both.map(outcome))).toEqual(["granted", "granted"]);
    expect(limiter.status().runs).toEqual({ active: 1, max: 1, waiting: 0 });
  });

  it("refuses bad acquire options and ids with validation_error", async () => {
    const limiter = new ConcurrencyLimiter();
    expect(await outcome(limiter.acquireRun("r", { wait: false, timeoutMs: 10 }))).toBe("validation_error");
    expect(await outcome(limiter.acquireRun("r", { timeoutMs: 0 }))).toBe("validation_error");
    expect(await outcome(limiter.acquireRun("r", { timeoutMs: -5 }))).toBe("validation_error");
    expect(await outcome(limiter.acquireSession(""))).toBe("validation_error");
    expect(limiter.status().runs.active).toBe(0);
  });
});
