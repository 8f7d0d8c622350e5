import { describe, expect, it } from "vitest";
import type { AsmEvent } from "../core/events.js";
import { ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { expectCode } from "../stores/test-support/fixtures.js";
import { until } from "../testing/wait.js";
import { SessionServer, type SessionServerOptions } from "./session-server.js";
import { GatedAdapter } from "./test-support/gated-adapter.js";

async function setup(options: Partial<SessionServerOptions> & { deltas?: number; perTick?: number } = {}) {
  const { deltas, perTick, ...serverOptions } = options;
  const store = new MemorySessionStore();
  const adapter = new GatedAdapter({ ...(deltas ? { deltas } : {}), ...(perTick ? { perTick } : {}) });
  const manager = new SessionManager({ store, adapter });
  const server = await SessionServer.start({ manager, session: { agentId: "agent" }, ...serverOptions });
  const log = async () => {
    const events: AsmEvent[] = [];
    for await (const event of manager.streamSessionEvents(server.sessionId)) events.push(event);
    return events;
  };
  return { store, adapter, manager, server, log };
}

const sequences = (events: readonly AsmEvent[]) => events.map((event) => event.sequence);

describe("SessionServer.subscribe", () => {
  it("backfills the log, then delivers live events, with no gap and no duplicate", async () => {
    const { adapter, server, log } = await setup();
    adapter.release("before");
    await server.executeRun("before");

    const seen: AsmEvent[] = [];
    const subscription = await server.subscribe((event) => {
      seen.push(event);
    });
    expect(server.status().subscribers).toBe(1);
    const runId = await server.submitRun("after");
    adapter.release("after");
    await server.awaitRun(runId);
    const all = await log();
    await until(() => seen.length === all.length, "every event delivered");

    expect(seen).toEqual(all);
    expect(sequences(seen)).toEqual(all.map((_, index) => index + 1));
    expect(subscription.cursor).toBe(all.length);
    subscription.unsubscribe();
    expect(await subscription.ended).toEqual({ reason: "unsubscribed" });
    expect(server.status().subscribers).toBe(0);
    await server.close();
  });

  it("switches from backfill to live without a gap or a duplicate while a run is streaming", async () => {
    const { adapter, server, store, log } = await setup({
      deltas: 2000,
      perTick: 10,
      subscriberBufferSize: 64,
    });
    const runId = await server.submitRun("stream");
    const received: AsmEvent[][] = [];
    // Subscribers join at different points of the stream, each from the start of the log.
    for (const atLeast of [5, 400, 1200]) {
      await until(
        async () => (await store.getLatestSequence(server.sessionId)) >= atLeast || undefined,
        `${atLeast} events stored`,
      );
      const seen: AsmEvent[] = [];
      received.push(seen);
      await server.subscribe((event) => void seen.push(event));
    }
    adapter.release("stream");
    await server.awaitRun(runId);
    const all = await log();
    expect(all.length).toBeGreaterThan(2000);
    await until(() => received.every((seen) => seen.length >= all.length), "every subscriber caught up");
    for (const seen of received) expect(seen).toEqual(all);
    await server.close();
  });

  it("resumes from a cursor and filters by run and type", async () => {
    const { adapter, server, log } = await setup();
    adapter.release("one");
    adapter.release("two");
    const first = await server.executeRun("one");
    const second = await server.executeRun("two");
    const all = await log();
    const middle = all[5]?.sequence ?? 0;

    const resumed: AsmEvent[] = [];
    const fromCursor = await server.subscribe((event) => void resumed.push(event), { fromSequence: middle });
    const deltas: AsmEvent[] = [];
    const filtered = await server.subscribe((event) => void deltas.push(event), {
      runId: second.runId,
      types: ["message_streamed", "run_completed"],
    });
    await until(() => resumed.length === all.length - middle + 1 && deltas.length === 2, "both backfills");

    expect(resumed).toEqual(all.filter((event) => event.sequence >= middle));
    expect(deltas.map((event) => [event.runId, event.type])).toEqual([
      [second.runId, "message_streamed"],
      [second.runId, "run_completed"],
    ]);
    expect(first.runId).not.toBe(second.runId);
    await expectCode(server.subscribe({ fromSequence: all.length + 2 }), "invalid_cursor");
    await expectCode(server.subscribe({ fromSequence: -1 }), "validation_error");
    fromCursor.unsubscribe();
    filtered.unsubscribe();
    await server.close();
  });

  it("never lets a slow subscriber stall a run: it drops its buffer and catches up from the log", async () => {
    const { adapter, server, log } = await setup({ subscriberBufferSize: 4, deltas: 300 });
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    const slow: AsmEvent[] = [];
    const subscription = await server.subscribe(async (event) => {
      slow.push(event);
      if (slow.length === 1) await blocked;
    });
    const fast: AsmEvent[] = [];
    await server.subscribe((event) => void fast.push(event));

    adapter.release("stream");
    // The run completes while the slow listener still sits on its first event.
    const result = await server.executeRun("stream");
    expect(slow).toHaveLength(1);
    unblock();
    const all = await log();
    await until(() => slow.length === all.length && fast.length === all.length, "both caught up");

    expect(result.events.length).toBeGreaterThan(300);
    expect(slow).toEqual(all);
    expect(fast).toEqual(all);
    expect(subscription.cursor).toBe(all.length);
    await server.close();
    expect(await subscription.ended).toEqual({ reason: "closed" });
  });

  it("removes a listener that throws, reports it, and keeps the runs and the other subscribers going", async () => {
    const { adapter, server, log } = await setup();
    const broken = await server.subscribe((event) => {
      if (event.type === "run_started") throw new Error("listener bug");
    });
    const healthy: AsmEvent[] = [];
    await server.subscribe((event) => void healthy.push(event));

    adapter.release("a");
    const result = await server.executeRun("a");
    const end = await broken.ended;
    expect(end.reason).toBe("listener_failed");
    expect(end.error?.message).toContain("listener bug");
    expect(server.status().subscribers).toBe(1);
    expect(result.output.content).toBe("done a");
    const all = await log();
    await until(() => healthy.length === all.length, "the healthy subscriber caught up");
    expect(healthy).toEqual(all);
    await server.close();
  });

  it("can be iterated; leaving the loop unsubscribes", async () => {
    const { adapter, server, log } = await setup();
    const subscription = await server.subscribe({ types: ["run_completed"] });
    const runIds: string[] = [];
    for (const prompt of ["a", "b"]) adapter.release(prompt);
    const submitted = [await server.submitRun("a"), await server.submitRun("b")];
    for await (const event of subscription) {
      runIds.push(event.runId ?? "");
      if (runIds.length === 2) break;
    }
    expect(runIds).toEqual(submitted);
    expect(await subscription.ended).toEqual({ reason: "unsubscribed" });
    expect(server.status().subscribers).toBe(0);
    expect((await log()).at(-1)?.type).toBe("run_completed");
    await server.close();
  });

  it("delivers events other writers append to the session, not only its own runs'", async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async () => ({ output: { content: "direct" } })),
    });
    const server = await SessionServer.start({ manager, session: { agentId: "agent" } });
    const seen: AsmEvent[] = [];
    await server.subscribe((event) => void seen.push(event), { types: ["run_completed"] });
    // A run started and executed on the manager directly, bypassing the server.
    const run = await manager.startRun(server.sessionId, "direct");
    await manager.executeRun(run.id);
    await until(() => seen.length === 1, "the direct run's end");
    expect(seen[0]?.runId).toBe(run.id);
    await server.close();
  });

  it("ends subscriptions with store_failed when the log cannot be read, and an iteration throws it", async () => {
    const { server, store } = await setup();
    const subscription = await server.subscribe();
    const iterated = (async () => {
      for await (const _event of subscription) {
        // backfill only
      }
    })();
    await store.close();
    const end = await subscription.ended;
    expect(end.reason).toBe("store_failed");
    expect(end.error?.code).toBe("storage_error");
    await expectCode(iterated, "storage_error");
  });
});
