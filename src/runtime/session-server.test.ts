import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { faultyStore } from "../manager/test-support/faulty-store.js";
import { ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import type { SessionStore } from "../ports/session-store.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { expectCode } from "../stores/test-support/fixtures.js";
import { until } from "../testing/wait.js";
import { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { SERVER_QUEUE_KEY, SessionServer, type SessionServerOptions } from "./session-server.js";
import { GatedAdapter } from "./test-support/gated-adapter.js";

function setup(store: SessionStore = new MemorySessionStore()) {
  const adapter = new GatedAdapter();
  const manager = new SessionManager({ store, adapter, cancelGraceMs: 2000 });
  const start = (options: Partial<SessionServerOptions> = {}) =>
    SessionServer.start({ manager, session: { agentId: "agent" }, ...options });
  return { store, adapter, manager, start };
}

describe("SessionServer: queue and slots", () => {
  it("runs submitted runs one after the other, in submit order, by default", async () => {
    const { adapter, start, store } = setup();
    const server = await start();
    const ids = [await server.submitRun("a"), await server.submitRun("b"), await server.submitRun("c")];

    await until(() => adapter.started.length === 1, "the first run");
    expect(server.status()).toMatchObject({
      inFlightRuns: [ids[0]],
      inFlightCount: 1,
      queuedRuns: [ids[1], ids[2]],
      queuedCount: 2,
      maxConcurrentRuns: 1,
      maxQueuedRuns: 100,
      subscribers: 0,
      state: "open",
    });
    // Queued runs are stored pending with their place in the queue.
    const queued = await store.getRun(ids[2] ?? "");
    expect(queued.status).toBe("pending");
    expect(queued.metadata[SERVER_QUEUE_KEY]).toMatchObject({ position: 3 });

    for (const prompt of ["c", "b", "a"]) adapter.release(prompt);
    const results = await Promise.all(ids.map((id) => server.awaitRun(id)));
    expect(adapter.started).toEqual(["a", "b", "c"]);
    expect(results.map((result) => result.output.content)).toEqual(["done a", "done b", "done c"]);
    expect(server.status()).toMatchObject({ inFlightCount: 0, queuedCount: 0 });
    await server.close();
  });

  it("runs as many at once as it has slots, and drain waits for all of them", async () => {
    const { adapter, start } = setup();
    const server = await start({ maxConcurrentRuns: 2 });
    const ids = await Promise.all(["a", "b", "c", "d"].map((prompt) => server.submitRun(prompt)));

    await until(() => adapter.started.length === 2, "two runs started");
    expect(server.status()).toMatchObject({ inFlightCount: 2, queuedRuns: [ids[2], ids[3]] });
    const drained = server.drain({ timeoutMs: 30_000 });
    adapter.release("b");
    await until(() => adapter.started.length === 3, "the third run in b's slot");
    expect(adapter.started).toEqual(["a", "b", "c"]);
    for (const prompt of ["a", "c", "d"]) adapter.release(prompt);
    await drained;
    expect(server.status()).toMatchObject({ inFlightCount: 0, queuedCount: 0 });
    expect(adapter.started).toEqual(["a", "b", "c", "d"]);
    await server.close();
  });

  it("refuses a submit only when the queue is full and every slot busy", async () => {
    const { adapter, start } = setup();
    const server = await start({ maxQueuedRuns: 1 });
    const first = await server.submitRun("a");
    await until(() => adapter.started.length === 1, "the first run");
    await server.submitRun("b");
    const refused = await expectCode(server.submitRun("c"), "max_runs_exceeded");
    expect(refused.details).toMatchObject({ maxQueuedRuns: 1, maxConcurrentRuns: 1 });

    // No queue at all: a free slot still takes a run.
    const direct = await start({ maxQueuedRuns: 0 });
    const only = await direct.submitRun("x");
    adapter.release("x");
    expect((await direct.awaitRun(only)).output.content).toBe("done x");

    adapter.release("a");
    adapter.release("b");
    await server.awaitRun(first);
    await server.drain();
    await Promise.all([server.close(), direct.close()]);
  });

  it("merges its default run options under each run's own", async () => {
    const store = new MemorySessionStore();
    const adapter = new ScriptedAdapter(async () => ({ output: { content: "ok" } }));
    const manager = new SessionManager({ store, adapter });
    const server = await SessionServer.start({
      manager,
      session: { agentId: "agent" },
      defaultRunOptions: {
        metadata: { team: "core", tier: "free" },
        providerOptions: { scripted: { model: "small", effort: "low" }, other: { x: 1 } },
      },
    });
    const runId = await server.submitRun("go", {
      metadata: { tier: "paid" },
      providerOptions: { scripted: { effort: "high" } },
    });
    await server.awaitRun(runId);
    expect(adapter.calls[0]?.providerOptions).toEqual({
      scripted: { model: "small", effort: "high" },
      other: { x: 1 },
    });
    const run = await store.getRun(runId);
    expect(run.metadata).toMatchObject({ team: "core", tier: "paid" });
    await server.close();
  });
});

describe("SessionServer: bad input", () => {
  it("refuses slots that are not a positive integer, and other bad options", async () => {
    const { start, manager } = setup();
    for (const maxConcurrentRuns of [0, -1, 1.5]) {
      const error = await expectCode(start({ maxConcurrentRuns }), "validation_error");
      expect(error.message).toContain("maxConcurrentRuns");
    }
    await expectCode(start({ maxQueuedRuns: -1 }), "validation_error");
    await expectCode(
      SessionServer.start({ manager, sessionId: "ses_x", session: { agentId: "a" } }),
      "validation_error",
    );
    await expectCode(SessionServer.start({ manager }), "validation_error");
  });

  it("answers run_not_found for an id that is not a run of its session, and validation_error for a zero wait", async () => {
    const { start, adapter } = setup();
    const server = await start();
    const other = await start();
    const elsewhere = await other.submitRun("elsewhere");
    adapter.release("elsewhere");
    await other.awaitRun(elsewhere);

    await expectCode(server.awaitRun("run_missing"), "run_not_found");
    await expectCode(server.cancelRun("run_missing"), "run_not_found");
    await expectCode(server.interruptRun("run_missing"), "run_not_found");
    await expectCode(server.awaitRun(elsewhere), "run_not_found");
    await expectCode(server.cancelRun(elsewhere), "run_not_found");
    await expectCode(server.awaitRun(elsewhere, { timeoutMs: 0 }), "validation_error");
    await expectCode(server.drain({ timeoutMs: -5 }), "validation_error");
    await Promise.all([server.close(), other.close()]);
  });

  it("refuses submits and subscriptions once closed; close leaves queued runs pending and cancels runs in flight", async () => {
    const { start, adapter, store } = setup();
    const server = await start();
    const running = await server.submitRun("a");
    const queued = await server.submitRun("b");
    await until(() => adapter.started.length === 1, "the first run");
    const runningResult = server.awaitRun(running);
    const queuedResult = server.awaitRun(queued);

    await server.close();
    await server.close(); // idempotent

    expect((await store.getRun(running)).status).toBe("cancelled");
    await expectCode(runningResult, "cancelled");
    expect((await store.getRun(queued)).status).toBe("pending");
    const closedError = await expectCode(queuedResult, "invalid_operation");
    expect(closedError.details).toMatchObject({ runId: queued, status: "pending" });
    await expectCode(server.submitRun("c"), "invalid_operation");
    await expectCode(server.subscribe(), "invalid_operation");
    expect(server.status().state).toBe("closed");
  });

  it("rejects awaiters with the store's typed error when the store goes away mid-run, and hangs nothing", async () => {
    const memory = new MemorySessionStore();
    let broken = false;
    const gone = () =>
      broken ? new AsmError("storage_connection_failed", "the database went away") : undefined;
    const store = faultyStore(memory, { appendEvents: gone, saveRun: gone });
    const adapter = new GatedAdapter();
    const manager = new SessionManager({
      store,
      adapter,
      storageRetry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 2 },
    });
    const server = await SessionServer.start({ manager, session: { agentId: "agent" } });
    const runId = await server.submitRun("a");
    const next = await server.submitRun("b");
    await until(() => adapter.started.length === 1, "the run");
    broken = true;
    adapter.release("a");
    const error = await expectCode(server.awaitRun(runId), "storage_connection_failed");
    expect(error.message).toContain("went away");
    // The next run cannot start either: it fails typed, and the server is drained.
    adapter.release("b");
    const nextError = await server.awaitRun(next).then(
      () => undefined,
      (caught: unknown) => AsmError.from(caught),
    );
    expect(nextError?.code).toBe("storage_connection_failed");
    await server.drain({ timeoutMs: 30_000 });
    await server.close();
  });
});

describe("SessionServer: runs refused at their start", () => {
  it("cancels in the store a run whose options the manager refuses, so no later server retries it", async () => {
    const { start, store, adapter } = setup();
    const server = await start();
    const refused = await server.submitRun("bad", { timeoutMs: -1 });
    const error = await expectCode(server.awaitRun(refused), "validation_error");
    expect(error.message).toContain("timeoutMs");
    const stored = await store.getRun(refused);
    expect(stored.status).toBe("cancelled");
    const [event] = await store.getEvents(server.sessionId, { runId: refused });
    expect(event?.data.reason).toMatch(/^not started: \[validation_error\]/);
    adapter.release("next");
    expect((await server.executeRun("next")).output.content).toBe("done next");
    expect(adapter.started).toEqual(["next"]);
    await server.close();
  });
});

describe("SessionServer: cancel, interrupt and await", () => {
  it("cancels a queued run: out of the queue, stored cancelled with run_cancelled, awaiters reject cancelled", async () => {
    const { adapter, start, store } = setup();
    const server = await start();
    const first = await server.submitRun("a");
    const second = await server.submitRun("b");
    const third = await server.submitRun("c");
    const awaiting = server.awaitRun(second);

    const cancelled = await server.cancelRun(second, "not needed");
    expect(cancelled.status).toBe("cancelled");
    await expectCode(awaiting, "cancelled");
    expect(server.status().queuedRuns).toEqual([third]);
    const events = await store.getEvents(server.sessionId, { runId: second });
    expect(events.map((event) => [event.type, event.data])).toEqual([
      ["run_cancelled", { reason: "not needed" }],
    ]);

    adapter.release("a");
    adapter.release("c");
    await server.awaitRun(first);
    await server.awaitRun(third);
    expect(adapter.started).toEqual(["a", "c"]);
    // Cancelling it again, or a finished run, changes nothing.
    expect((await server.cancelRun(second)).status).toBe("cancelled");
    expect((await server.cancelRun(first)).status).toBe("completed");
    await expectCode(server.awaitRun(second), "cancelled");
    await server.close();
  });

  it("cancels a queued run whose signal aborts, before it starts", async () => {
    const { adapter, start, store } = setup();
    const server = await start();
    const first = await server.submitRun("a");
    const stop = new AbortController();
    const queued = await server.submitRun("b", { signal: stop.signal });
    stop.abort();
    await expectCode(server.awaitRun(queued), "cancelled");
    expect((await store.getRun(queued)).status).toBe("cancelled");
    expect(server.status().queuedRuns).toEqual([]);
    adapter.release("a");
    await server.awaitRun(first);
    expect(adapter.started).toEqual(["a"]);
    await server.close();
  });

  it("cancels a run in flight: stored cancelled (never failed) and the next run starts", async () => {
    const { adapter, start, store } = setup();
    const server = await start();
    const first = await server.submitRun("a");
    const second = await server.submitRun("b");
    await until(() => adapter.started.length === 1, "the first run");
    const awaiting = server.awaitRun(first);

    const cancelled = await server.cancelRun(first);
    expect(cancelled.status).toBe("cancelled");
    await expectCode(awaiting, "cancelled");
    const stored = await store.getRun(first);
    expect(stored.status).toBe("cancelled");
    expect(stored.error).toBeUndefined();
    const terminal = (await store.getEvents(server.sessionId, { runId: first })).at(-1);
    expect(terminal?.type).toBe("run_cancelled");

    await until(() => adapter.started.length === 2, "the second run");
    adapter.release("b");
    expect((await server.awaitRun(second)).output.content).toBe("done b");
    await server.close();
  });

  it("interrupts a run in flight: it ends cancelled with interrupted, and the session takes the next run", async () => {
    const { adapter, start, store } = setup();
    const server = await start();
    const first = await server.submitRun("a");
    const second = await server.submitRun("b");
    await until(() => adapter.started.length === 1, "the first run");

    expect((await server.interruptRun(first)).status).toBe("cancelled");
    const error = await expectCode(server.awaitRun(first), "cancelled");
    expect(error.details.interrupted).toBe(true);
    expect((await store.getEvents(server.sessionId, { runId: first })).at(-1)?.data).toMatchObject({
      interrupted: true,
    });
    // Interrupting a queued run cancels it the same way.
    expect((await server.interruptRun(second)).status).toBe("cancelled");
    await expectCode(server.awaitRun(second), "cancelled");
    await server.close();
  });

  it("answers an await after the run finished from the store, and a wait that times out leaves the run going", async () => {
    const { adapter, start } = setup();
    const server = await start();
    const runId = await server.submitRun("a");
    const waitError = await expectCode(server.awaitRun(runId, { timeoutMs: 20 }), "timeout");
    expect(waitError.details).toEqual({ runId, timeoutMs: 20 });

    adapter.release("a");
    const live = await server.awaitRun(runId);
    const stored = await server.awaitRun(runId);
    expect(stored).toMatchObject({
      runId,
      sessionId: server.sessionId,
      output: live.output,
      tokenUsage: live.tokenUsage,
      stopReason: live.stopReason,
      durationMs: Math.round(live.durationMs),
      model: "gate-1",
    });
    expect(stored.events).toEqual(live.events);
    await server.close();
  });

  it("executeRun submits and awaits; drain times out while a run goes on", async () => {
    const { adapter, start } = setup();
    const server = await start();
    adapter.release("quick");
    expect((await server.executeRun("quick")).output.content).toBe("done quick");
    const slow = await server.submitRun("slow");
    await expectCode(server.drain({ timeoutMs: 20 }), "timeout");
    expect(server.status().inFlightRuns).toEqual([slow]);
    const unbounded = server.awaitRun(slow, { timeoutMs: Number.POSITIVE_INFINITY });
    adapter.release("slow");
    expect((await unbounded).output.content).toBe("done slow");
    await server.drain({ timeoutMs: Number.POSITIVE_INFINITY });
    await server.close();
  });
});

describe("SessionServer: sessions and the limiter", () => {
  it("attaches to an existing session, activating it; an ended session is invalid_status", async () => {
    const { manager, adapter } = setup();
    const fresh = await manager.startSession({ agentId: "agent" });
    const server = await SessionServer.start({ manager, sessionId: fresh.id });
    expect((await manager.store.getSession(fresh.id)).status).toBe("active");
    adapter.release("x");
    await server.executeRun("x");
    await server.close();

    await manager.completeSession(fresh.id);
    await expectCode(SessionServer.start({ manager, sessionId: fresh.id }), "invalid_status");
    await expectCode(SessionServer.start({ manager, sessionId: "ses_missing" }), "session_not_found");
  });

  it("holds a limiter session slot while open and a run slot per executing run, waiting for one in order", async () => {
    const { adapter, start, manager } = setup();
    const limiter = new ConcurrencyLimiter({ maxParallelSessions: 2, maxParallelRuns: 1 });
    const one = await start({ limiter });
    const two = await start({ limiter });
    await expectCode(start({ limiter }), "max_sessions_exceeded");
    // The session made for the refused server is cancelled, not left pending.
    const sessions = await manager.store.listSessions();
    expect(sessions.map((session) => session.status).sort()).toEqual(["active", "active", "cancelled"]);

    const a = await one.submitRun("a");
    await until(() => adapter.started.length === 1, "the first run");
    const b = await two.submitRun("b");
    // b holds its server's slot but waits for the limiter's run slot.
    await until(() => limiter.status().runs.waiting === 1, "b waiting for a run slot");
    expect(two.status().inFlightRuns).toEqual([b]);
    expect(adapter.started).toEqual(["a"]);

    adapter.release("a");
    await one.awaitRun(a);
    await until(() => adapter.started.length === 2, "b started");
    adapter.release("b");
    await two.awaitRun(b);
    expect(limiter.status().runs.active).toBe(0);

    await one.close();
    const three = await start({ limiter });
    expect(limiter.status().sessions.active).toBe(2);
    await Promise.all([two.close(), three.close()]);
    expect(limiter.status().sessions.active).toBe(0);
  });

  it("cancels a run waiting for the limiter's slot: stored cancelled, never started", async () => {
    const { adapter, start, store } = setup();
    const limiter = new ConcurrencyLimiter({ maxParallelRuns: 1 });
    await limiter.acquireRun("someone-else");
    const server = await start({ limiter });
    const runId = await server.submitRun("a");
    await until(() => limiter.status().runs.waiting === 1, "the run waiting for a slot");
    expect((await server.cancelRun(runId)).status).toBe("cancelled");
    await expectCode(server.awaitRun(runId), "cancelled");
    expect((await store.getRun(runId)).status).toBe("cancelled");
    expect(adapter.started).toEqual([]);
    expect(limiter.status().runs.waiting).toBe(0);
    await server.close();
  });
});
