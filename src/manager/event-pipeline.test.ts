import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { EVENT_LIMITS } from "../core/storable.js";
import type { EventSink } from "../ports/provider-adapter.js";
import type { SessionStore } from "../ports/session-store.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { makeSession } from "../testing/fixtures.js";
import { RunEventPipeline } from "./event-pipeline.js";
import { resolveStorageRetry, retryDelays, type StorageRetryOptions } from "./storage-retry.js";
import { deltaOf, faultyStore } from "./test-support/faulty-store.js";
import { aborted, type Script, ScriptedAdapter } from "./test-support/scripted-adapter.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "asm-pipeline-"));
  dirs.push(dir);
  return join(dir, "asm.db");
}

/** Fast retries, so a test that exhausts them stays short. */
const quickRetry: StorageRetryOptions = { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 };

const busy = () => new AsmError("storage_busy", "database is locked (test)");

/** Resolves when a listener has seen a `message_streamed` with this delta. */
class Seen {
  private readonly waiters = new Map<string, () => void>();
  private readonly seen = new Set<string>();
  readonly onEvent = (event: AsmEvent): void => {
    if (event.type !== "message_streamed") return;
    this.seen.add(event.data.delta);
    this.waiters.get(event.data.delta)?.();
  };
  delta(text: string): Promise<void> {
    if (this.seen.has(text)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(text, resolve));
  }
}

/** Emits `t<from>`…`t<to>`, one per timer tick, so each lands in its own batch. */
async function stream(sink: EventSink, from: number, to: number): Promise<void> {
  for (let index = from; index <= to; index++) {
    sink.emit({ type: "message_streamed", data: { delta: `t${index}` } });
    await sleep(5);
  }
}

/** What a buggy adapter emits, beyond what the types allow. */
function emitRaw(sink: EventSink, event: unknown): void {
  (sink.emit as (event: unknown) => void)(event);
}

async function runToEnd(manager: SessionManager, seen?: Seen) {
  const session = await manager.startSession({ agentId: "agent" });
  await manager.activateSession(session.id);
  const run = await manager.startRun(session.id, "go");
  const outcome = await manager.executeRun(run.id, seen ? { onEvent: seen.onEvent } : {}).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error: error as AsmError }),
  );
  const events = await manager.store.getEvents(session.id, { runId: run.id, limit: 1000 });
  return { ...outcome, run: await manager.store.getRun(run.id), events };
}

function deltas(events: readonly AsmEvent[]): string[] {
  return events.flatMap((event) => (event.type === "message_streamed" ? [event.data.delta] : []));
}

function expectContiguous(events: readonly AsmEvent[]): void {
  const sequences = events.map((event) => event.sequence);
  const first = sequences[0] ?? 1;
  expect(sequences).toEqual(sequences.map((_, index) => first + index));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `t${from + i}`);

describe("the event log never has a hole: a SQLite write lock held by another connection", () => {
  it("is waited out: a lock held past the busy timeout costs retries, not events", async () => {
    const path = tempDbPath();
    const store = await openSqliteStore({ path, busyTimeoutMs: 50 });
    const blocker = new Database(path);
    const seen = new Seen();
    const script: Script = async (_request, sink) => {
      await stream(sink, 1, 4);
      await seen.delta("t4");
      // Another process's long transaction, as `sqlite3 asm.db 'BEGIN IMMEDIATE; …'` would hold it.
      blocker.exec("BEGIN IMMEDIATE");
      setTimeout(() => blocker.exec("COMMIT"), 400);
      await stream(sink, 5, 12);
      return { output: { content: "done" } };
    };
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(script),
      storageRetry: { attempts: 10, initialDelayMs: 20, maxDelayMs: 200 },
    });
    try {
      const { error, run, events } = await runToEnd(manager, seen);
      expect(error).toBeUndefined();
      expect(run.status).toBe("completed");
      expect(deltas(events)).toEqual(range(1, 12));
      expectContiguous(events);
      expect(events.at(-1)?.type).toBe("run_completed");
    } finally {
      blocker.close();
      await store.close();
    }
  });

  it("outlasting the retries halts the log: later events wait behind the failed batch and follow it in order", async () => {
    const path = tempDbPath();
    const store = await openSqliteStore({ path, busyTimeoutMs: 20 });
    const blocker = new Database(path);
    const seen = new Seen();
    let sawAbort = false;
    const script: Script = async (_request, sink, signal) => {
      await stream(sink, 1, 4);
      await seen.delta("t4");
      blocker.exec("BEGIN IMMEDIATE");
      await stream(sink, 5, 8);
      // t5's batch has failed all its tries: the manager stops the provider.
      await aborted(signal);
      sawAbort = true;
      sink.emit({ type: "message_streamed", data: { delta: "t9" } });
      blocker.exec("COMMIT");
      throw new AsmError("cancelled", "stopped");
    };
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(script),
      storageRetry: quickRetry,
    });
    try {
      const { error, run, events } = await runToEnd(manager, seen);
      expect(sawAbort).toBe(true);
      expect(error?.code).toBe("storage_busy");
      expect(error?.details.unwrittenEvents).toBe(0);
      expect(run.status).toBe("failed");
      // Nothing was written past the failure while the lock was held; afterwards, all of it, in order.
      expect(deltas(events)).toEqual(range(1, 9));
      expectContiguous(events);
      const terminal = events.at(-1);
      expect(terminal?.type).toBe("run_failed");
      expect(terminal?.data).toMatchObject({ errorCode: "storage_busy", details: { unwrittenEvents: 0 } });
    } finally {
      blocker.close();
      await store.close();
    }
  });
});

describe("the event log never has a hole: a batch that cannot be written", () => {
  /** A SQLite store whose appends fail while a batch holds `t5` (always, or the first `times` tries). */
  async function storeFailingOn(delta: string, error: () => Error, times = Number.POSITIVE_INFINITY) {
    const real = await openSqliteStore({ path: tempDbPath() });
    const tries = { count: 0 };
    const store = faultyStore(real, {
      appendEvents: (drafts) => {
        if (!drafts.some((draft) => deltaOf(draft) === delta)) return undefined;
        tries.count += 1;
        return tries.count <= times ? error() : undefined;
      },
    });
    return { real, store, tries };
  }

  const emitsThrough12: Script = async (_request, sink, signal) => {
    await stream(sink, 1, 12);
    await aborted(signal);
    throw new AsmError("cancelled", "stopped");
  };

  it("writes nothing after it, and the run ends failed with the count of unwritten events", async () => {
    const { real, store, tries } = await storeFailingOn("t5", busy);
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(emitsThrough12),
      storageRetry: quickRetry,
    });
    try {
      const { error, run, events } = await runToEnd(manager);
      // Never t6…t12 without t5.
      expect(deltas(events)).toEqual(range(1, 4));
      expectContiguous(events);
      const terminal = events.at(-1);
      expect(terminal?.type).toBe("run_failed");
      expect(terminal?.data).toMatchObject({ errorCode: "storage_busy", details: { unwrittenEvents: 8 } });
      expect(run.status).toBe("failed");
      expect(run.error).toMatchObject({ code: "storage_busy", details: { unwrittenEvents: 8 } });
      expect(error?.code).toBe("storage_busy");
      expect(error?.details.unwrittenEvents).toBe(8);
      // All its tries while the run went on, and all of them again when it ended.
      expect(tries.count).toBe(2 * (quickRetry.attempts ?? 0));
    } finally {
      await real.close();
    }
  });

  it("is tried once when the error is not retryable, and still nothing follows it", async () => {
    const corrupt = () => new AsmError("storage_corrupt", "not a database (test)");
    const { real, store, tries } = await storeFailingOn("t5", corrupt);
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(emitsThrough12),
      storageRetry: quickRetry,
    });
    try {
      const { error, events } = await runToEnd(manager);
      expect(tries.count).toBe(1);
      expect(deltas(events)).toEqual(range(1, 4));
      expect(error?.code).toBe("storage_corrupt");
      expect(events.at(-1)?.data).toMatchObject({ details: { unwrittenEvents: 8 } });
    } finally {
      await real.close();
    }
  });

  it("is invisible when the store recovers within the retries: every event once, the run completed", async () => {
    const { real, store, tries } = await storeFailingOn("t5", busy, 2);
    const script: Script = async (_request, sink) => {
      await stream(sink, 1, 12);
      return { output: { content: "done" } };
    };
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(script),
      storageRetry: quickRetry,
    });
    try {
      const { error, run, events } = await runToEnd(manager);
      expect(error).toBeUndefined();
      expect(run.status).toBe("completed");
      expect(tries.count).toBe(3);
      expect(deltas(events)).toEqual(range(1, 12));
      expectContiguous(events);
    } finally {
      await real.close();
    }
  });

  it("retries the run's end too: a busy store when the terminal event is written", async () => {
    const real = new MemorySessionStore();
    let terminalTries = 0;
    const store = faultyStore(real, {
      saveRun: (_run, options) => {
        if (!options?.events?.length) return undefined;
        terminalTries += 1;
        return terminalTries <= 2 ? busy() : undefined;
      },
    });
    const script: Script = async (_request, sink) => {
      await stream(sink, 1, 2);
      return { output: { content: "done" } };
    };
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(script),
      storageRetry: quickRetry,
    });
    const { error, run, events } = await runToEnd(manager);
    expect(error).toBeUndefined();
    expect(terminalTries).toBe(3);
    expect(run.status).toBe("completed");
    expect(events.filter((event) => event.type === "run_completed")).toHaveLength(1);
  });

  it("surfaces the error when even the run's end cannot be written", async () => {
    const real = new MemorySessionStore();
    const store = faultyStore(real, {
      appendEvents: (drafts) => (drafts.some((draft) => deltaOf(draft) === "t2") ? busy() : undefined),
      saveRun: (_run, options) => (options?.events?.length ? busy() : undefined),
    });
    const script: Script = async (_request, sink, signal) => {
      await stream(sink, 1, 3);
      await aborted(signal);
      throw new AsmError("cancelled", "stopped");
    };
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(script),
      storageRetry: quickRetry,
    });
    const { error, run, events } = await runToEnd(manager);
    expect(error?.code).toBe("storage_busy");
    // The log stops at t1; the run is left running for recovery to end.
    expect(deltas(events)).toEqual(["t1"]);
    expect(run.status).toBe("running");
  });
});

describe("RunEventPipeline while halted", () => {
  it("rejects the manager's appends at once, holds them in order, and counts what it gives up", async () => {
    const real = new MemorySessionStore();
    await real.saveSession(makeSession({ id: "ses_p", status: "pending" }));
    let failing = true;
    const store = faultyStore(real, { appendEvents: () => (failing ? busy() : undefined) });
    const failures: AsmError[] = [];
    const pipeline = new RunEventPipeline(
      store,
      { sessionId: "ses_p" },
      {
        listeners: [],
        onFailure: (error) => failures.push(error),
        storageRetry: resolveStorageRetry(quickRetry),
      },
    );
    pipeline.emit({ type: "message_streamed", data: { delta: "a" } });
    await pipeline.drain();
    expect(failures).toHaveLength(1);
    expect(pipeline.unwrittenEvents).toBe(1);
    await expect(pipeline.append({ type: "message_streamed", data: { delta: "b" } })).rejects.toMatchObject({
      code: "storage_busy",
    });
    pipeline.emit({ type: "message_streamed", data: { delta: "c" } });
    await pipeline.drain();
    expect(await real.getLatestSequence("ses_p")).toBe(0);
    expect(pipeline.unwrittenEvents).toBe(3);

    failing = false;
    expect(await pipeline.settle()).toBe(0);
    expect(pipeline.events.map((event) => (event.data as { delta: string }).delta)).toEqual(["a", "b", "c"]);
    expect(pipeline.failure?.details.unwrittenEvents).toBe(0);
    expect(failures).toHaveLength(1);
  });

  it("gives up for good when the store is still failing at the end", async () => {
    const real = new MemorySessionStore();
    const store = faultyStore(real, { appendEvents: () => busy() });
    const pipeline = new RunEventPipeline(
      store,
      { sessionId: "ses_missing" },
      { listeners: [], storageRetry: resolveStorageRetry(quickRetry) },
    );
    pipeline.emit({ type: "message_streamed", data: { delta: "a" } });
    pipeline.emit({ type: "message_streamed", data: { delta: "b" } });
    expect(await pipeline.settle()).toBe(2);
    pipeline.emit({ type: "message_streamed", data: { delta: "late" } });
    await pipeline.drain();
    expect(pipeline.unwrittenEvents).toBe(3);
    expect(pipeline.failure?.details.unwrittenEvents).toBe(2);
  });
});

describe("storage retry policy", () => {
  it("doubles its waits up to maxDelayMs, one fewer than its tries", () => {
    expect(retryDelays(resolveStorageRetry(undefined))).toEqual([100, 200, 400, 800, 1600]);
    expect(retryDelays(resolveStorageRetry({ attempts: 6, initialDelayMs: 100, maxDelayMs: 500 }))).toEqual([
      100, 200, 400, 500, 500,
    ]);
    expect(retryDelays(resolveStorageRetry({ attempts: 1 }))).toEqual([]);
  });

  it("refuses a bad policy with validation_error", () => {
    const store = new MemorySessionStore();
    const adapter = new ScriptedAdapter(async () => ({ output: { content: "" } }));
    for (const storageRetry of [
      { attempts: 0 },
      { initialDelayMs: -1 },
      { maxDelayMs: 1.5 },
      { retries: 3 },
    ]) {
      expect(
        () => new SessionManager({ store, adapter, storageRetry: storageRetry as StorageRetryOptions }),
      ).toThrow(expect.objectContaining({ code: "validation_error" }));
    }
  });
});

describe("every event is storable", () => {
  const stores: [string, () => Promise<SessionStore>][] = [
    ["memory", async () => new MemorySessionStore()],
    ["SQLite", () => openSqliteStore({ path: tempDbPath() })],
  ];

  for (const [name, open] of stores) {
    it(`${name}: data that is not an object is kept, flagged, and the events around it stay`, async () => {
      const store = await open();
      const script: Script = async (_request, sink) => {
        // One tick: all three in one batch, which a bad event used to take down whole.
        sink.emit({ type: "message_streamed", data: { delta: "before" } });
        emitRaw(sink, { type: "message_received", data: "not an object" });
        sink.emit({ type: "message_streamed", data: { delta: "after" } });
        return { output: { content: "done" } };
      };
      const manager = new SessionManager({ store, adapter: new ScriptedAdapter(script) });
      try {
        const { error, events } = await runToEnd(manager);
        expect(error).toBeUndefined();
        expect(events.map((event) => event.type)).toEqual([
          "message_sent",
          "message_streamed",
          "message_received",
          "message_streamed",
          "run_completed",
        ]);
        const bad = events[2];
        expect(bad?.data).toEqual({ value: "not an object" });
        expect(bad?.metadata.validationIssues?.[0]?.message).toMatch(
          /received a string: kept as data\.value/,
        );
      } finally {
        await store.close();
      }
    });

    it(`${name}: a tool input nested 6,000 levels is cut at the depth cap, the run goes on`, async () => {
      const store = await open();
      let toolInput: Record<string, unknown> = { command: "ls" };
      for (let level = 0; level < 6000; level++) toolInput = { nested: toolInput };
      const script: Script = async (_request, sink) => {
        sink.emit({ type: "message_streamed", data: { delta: "before" } });
        sink.emit({ type: "tool_call_started", data: { toolCallId: "c1", toolName: "Bash", toolInput } });
        sink.emit({ type: "message_streamed", data: { delta: "after" } });
        return { output: { content: "done" } };
      };
      const manager = new SessionManager({ store, adapter: new ScriptedAdapter(script) });
      try {
        const { error, events } = await runToEnd(manager);
        expect(error).toBeUndefined();
        expect(deltas(events)).toEqual(["before", "after"]);
        const tool = events.find((event) => event.type === "tool_call_started");
        expect(tool?.metadata.truncated).toMatchObject({ depth: 1 });
        expect(JSON.stringify(tool?.data)).toContain(`"[truncated: depth > ${EVENT_LIMITS.maxDepth}]"`);
        expect(tool?.data).toMatchObject({ toolCallId: "c1", toolName: "Bash" });
      } finally {
        await store.close();
      }
    });
  }
});

describe("group commit: a stream's events share transactions, a lone event waits for nothing", () => {
  /** A memory store that records the size of every batch written through `appendEvents`. */
  async function countingStore() {
    const real = new MemorySessionStore();
    await real.saveSession(makeSession({ id: "ses_g", status: "pending" }));
    const batches: number[] = [];
    const store = faultyStore(real, {
      appendEvents: (drafts) => {
        batches.push(drafts.length);
        return undefined;
      },
    });
    return { real, store, batches };
  }

  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  /** Emits `perTurn` events per turn of the event loop for `turns` turns, as a stream parser does per stdout chunk. */
  async function streamTurns(pipeline: RunEventPipeline, turns: number, perTurn: number): Promise<void> {
    let index = 0;
    for (let turn = 0; turn < turns; turn++) {
      for (let event = 0; event < perTurn; event++) {
        pipeline.emit({ type: "message_streamed", data: { delta: `d${index++}` } });
      }
      await nextTurn();
    }
  }

  const streamedDeltas = (pipeline: RunEventPipeline) =>
    pipeline.events.map((event) => (event.data as { delta: string }).delta);

  it("groups events emitted turn after turn into transactions of up to maxEvents, in order", async () => {
    const { real, store, batches } = await countingStore();
    // No time bound here, so the grouping does not depend on the machine's speed.
    const pipeline = new RunEventPipeline(
      store,
      { sessionId: "ses_g" },
      { listeners: [], groupCommit: { maxEvents: 256, maxWaitMs: 60_000 } },
    );
    await streamTurns(pipeline, 10, 64);
    await pipeline.drain();
    expect(batches).toEqual([256, 256, 128]);
    expect(streamedDeltas(pipeline)).toEqual(Array.from({ length: 640 }, (_, index) => `d${index}`));
    expectContiguous(await real.getEvents("ses_g", { limit: 1000 }));
  });

  it("writes a lone event at the first turn of the event loop", async () => {
    const { store, batches } = await countingStore();
    const seen: string[] = [];
    const pipeline = new RunEventPipeline(
      store,
      { sessionId: "ses_g" },
      {
        listeners: [(event) => seen.push(event.type)],
        groupCommit: { maxEvents: 256, maxWaitMs: 60_000 },
      },
    );
    pipeline.emit({ type: "message_streamed", data: { delta: "alone" } });
    await nextTurn();
    expect(batches).toEqual([1]);
    expect(seen).toEqual(["message_streamed"]);
  });

  it("with maxWaitMs 0, writes each turn's events at that turn", async () => {
    const { store, batches } = await countingStore();
    const pipeline = new RunEventPipeline(
      store,
      { sessionId: "ses_g" },
      { listeners: [], groupCommit: { maxWaitMs: 0 } },
    );
    await streamTurns(pipeline, 3, 4);
    await pipeline.drain();
    expect(batches).toEqual([4, 4, 4]);
  });

  it("splits a burst larger than maxEvents into full transactions, in order", async () => {
    const { store, batches } = await countingStore();
    const pipeline = new RunEventPipeline(
      store,
      { sessionId: "ses_g" },
      { listeners: [], groupCommit: { maxEvents: 256 } },
    );
    await streamTurns(pipeline, 1, 600);
    await pipeline.drain();
    expect(batches).toEqual([256, 256, 88]);
    expect(streamedDeltas(pipeline)).toEqual(Array.from({ length: 600 }, (_, index) => `d${index}`));
  });

  it("stops waiting after maxWaitMs while a stream keeps coming", async () => {
    // The pipeline's clock, held still and then moved past the bound: what the group does is
    // decided by the turns and the clock, not by how fast this machine runs the test.
    let now = 0;
    const clock = vi.spyOn(performance, "now").mockImplementation(() => now);
    try {
      const { store, batches } = await countingStore();
      const pipeline = new RunEventPipeline(
        store,
        { sessionId: "ses_g" },
        { listeners: [], groupCommit: { maxEvents: 1_000_000, maxWaitMs: 5 } },
      );
      let emitted = 0;
      const streamTurn = async (): Promise<void> => {
        for (const _ of [1, 2]) pipeline.emit({ type: "message_streamed", data: { delta: `d${emitted++}` } });
        await nextTurn();
      };
      // Ten turns of a stream within the bound: the group waits while the stream goes on.
      for (let turn = 0; turn < 10; turn++) await streamTurn();
      expect(batches).toEqual([]);
      // The bound passes while the stream still comes: the group is written at that turn.
      now = 5;
      await streamTurn();
      await streamTurn();
      await pipeline.drain();
      expect(batches).toEqual([22, 2]);
      expect(streamedDeltas(pipeline)).toEqual(Array.from({ length: emitted }, (_, index) => `d${index}`));
    } finally {
      clock.mockRestore();
    }
  });

  it("refuses bounds that could not write anything with validation_error", () => {
    const store = new MemorySessionStore();
    for (const groupCommit of [
      { maxEvents: 0 },
      { maxEvents: 1.5 },
      { maxWaitMs: -1 },
      { maxWaitMs: Number.NaN },
    ]) {
      expect(
        () => new RunEventPipeline(store, { sessionId: "ses_g" }, { listeners: [], groupCommit }),
      ).toThrow(expect.objectContaining({ code: "validation_error" }));
    }
  });
});
