import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AsmEvent } from "../core/events.js";
import { SessionManagerBase } from "../manager/session-manager.js";
import { type Script, ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import type { PubSub, PubSubHandler } from "../ports/pubsub.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { joinEventStream } from "./join.js";
import { MemoryPubSub } from "./memory/index.js";
import { createNatsPubSub, type NatsPubSub } from "./nats/index.js";
import { publishExtension } from "./publish-extension.js";
import { createRedisPubSub, type RedisPubSub } from "./redis/index.js";
import { runTopic, sessionTopic } from "./topics.js";

/** A provider streaming `chunks` deltas, yielding to the event loop between groups of ten. */
function streaming(chunks: number): Script {
  return async (_request, sink) => {
    sink.emit({ type: "run_started", data: {} });
    for (let index = 0; index < chunks; index++) {
      sink.emit({ type: "message_streamed", data: { delta: `d${index} ` } });
      if (index % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
    }
    sink.emit({ type: "message_received", data: { role: "assistant", content: "done" } });
    return { output: { content: "done" }, tokenUsage: { inputTokens: 1, outputTokens: chunks } };
  };
}

async function setup(pubsub: PubSub, script: Script = streaming(30)) {
  const store = new MemorySessionStore();
  const manager = new SessionManagerBase({
    store,
    adapter: new ScriptedAdapter(script),
    extensions: [publishExtension({ pubsub })],
  });
  const session = await manager.startSession({ agentId: "agent" });
  await manager.activateSession(session.id);
  return { store, manager, sessionId: session.id };
}

/** Every stored event of a run (or session), in order. */
async function logOf(store: MemorySessionStore, sessionId: string, runId?: string): Promise<AsmEvent[]> {
  return store.getEvents(sessionId, { limit: 1000, ...(runId ? { runId } : {}) });
}

/** A real client whose subscribers lose every `nth` message, as a slow or reconnecting one would. */
function dropping(inner: PubSub, nth: number): PubSub {
  let seen = 0;
  return {
    ...inner,
    publish: (topic, event) => inner.publish(topic, event),
    subscribe: (topic, handler: PubSubHandler) =>
      inner.subscribe(topic, (event, on) => {
        seen += 1;
        if (seen % nth !== 0) handler(event, on);
      }),
    close: () => inner.close(),
  };
}

async function collect(stream: AsyncIterable<AsmEvent>): Promise<AsmEvent[]> {
  const events: AsmEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

let redis: RedisPubSub;
let nats: NatsPubSub;
beforeAll(async () => {
  [redis, nats] = await Promise.all([createRedisPubSub(), createNatsPubSub()]);
});
afterAll(async () => {
  await Promise.all([redis?.close(), nats?.close()]);
});

describe("publishExtension", () => {
  for (const broker of ["redis", "nats", "memory"] as const) {
    it(`publishes each event of a run once it is stored, with its sequence, on its session and run topics (${broker})`, async () => {
      const pubsub = broker === "redis" ? redis : broker === "nats" ? nats : new MemoryPubSub();
      const { store, manager, sessionId } = await setup(pubsub);
      const run = await manager.startRun(sessionId, "go");
      const onSession: AsmEvent[] = [];
      const onRun: AsmEvent[] = [];
      const storedWhenReceived: Promise<boolean>[] = [];
      await pubsub.subscribe(sessionTopic(sessionId), (event) => {
        onSession.push(event);
        storedWhenReceived.push(
          store
            .getEvents(sessionId, { after: event.sequence - 1, limit: 1 })
            .then(([stored]) => stored?.id === event.id),
        );
      });
      await pubsub.subscribe(runTopic(sessionId, run.id), (event) => onRun.push(event));
      const result = await manager.executeRun(run.id);

      // executeRun resolves once the run's publishes were handed over; the last may still be in flight.
      const expected = await logOf(store, sessionId, run.id);
      expect(result.events).toEqual(expected);
      await waitFor(() => onSession.length >= expected.length && onRun.length >= expected.length);
      expect(onSession).toEqual(expected);
      expect(onRun).toEqual(expected);
      expect(expected.at(-1)?.type).toBe("run_completed");
      expect(await Promise.all(storedWhenReceived)).toEqual(expected.map(() => true));
    });
  }

  it("never fails the run when publishing fails: one non-fatal error_occurred, the count in metadata", async () => {
    const closed = new MemoryPubSub();
    await closed.close(); // every publish now rejects with stream_closed
    const { store, manager, sessionId } = await setup(closed, streaming(5));
    const run = await manager.startRun(sessionId, "go");
    const result = await manager.executeRun(run.id);
    expect(result.output).toEqual({ content: "done" });
    const log = await logOf(store, sessionId, run.id);
    const errors = log.filter((event) => event.type === "error_occurred");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.data).toMatchObject({
      errorCode: "stream_closed",
      fatal: false,
      details: { extension: "pubsub", topic: sessionTopic(sessionId), sequence: log[0]?.sequence },
    });
    const stored = await store.getRun(run.id);
    expect(stored.status).toBe("completed");
    // Two topics per event, for every event before the terminal one (finish counts before it is written).
    const beforeTerminal = log.filter((event) => event.type !== "run_completed").length;
    expect(stored.metadata).toEqual({ pubsub: { failedPublishes: 2 * beforeTerminal } });
  });
});

describe("joinEventStream", () => {
  it("gives a late subscriber the whole run from the log and ends at its terminal event", async () => {
    const { store, manager, sessionId } = await setup(redis);
    const run = await manager.startRun(sessionId, "go");
    await manager.executeRun(run.id);
    const joined = await collect(joinEventStream({ store, pubsub: redis, sessionId, runId: run.id }));
    expect(joined).toEqual(await logOf(store, sessionId, run.id));
  });

  for (const broker of ["redis", "nats"] as const) {
    it(`joins mid-run over a feed that drops every 3rd message: no gap, no duplicate (${broker})`, async () => {
      const inner = broker === "redis" ? redis : nats;
      const { store, manager, sessionId } = await setup(inner, streaming(400));
      const run = await manager.startRun(sessionId, "go");
      // Join once part of the run is stored: the log backfill and the live feed overlap.
      let joining: Promise<AsmEvent[]> | undefined;
      const started = new Promise<void>((resolve) => {
        void inner.subscribe(runTopic(sessionId, run.id), (event) => {
          if (event.sequence === 50 && !joining) {
            joining = collect(
              joinEventStream({ store, pubsub: dropping(inner, 3), sessionId, runId: run.id }),
            );
            resolve();
          }
        });
      });
      const running = manager.executeRun(run.id);
      await started;
      await running;
      const joined = await (joining as Promise<AsmEvent[]>);
      const log = await logOf(store, sessionId, run.id);
      expect(joined.map((event) => event.sequence)).toEqual(log.map((event) => event.sequence));
      expect(joined).toEqual(log);
    });
  }

  it("keeps a slow consumer whole with a tiny buffer: what overflows is read back from the log", async () => {
    const { store, manager, sessionId } = await setup(redis, streaming(300));
    const run = await manager.startRun(sessionId, "go");
    const joined: AsmEvent[] = [];
    const following = (async () => {
      for await (const event of joinEventStream({
        store,
        pubsub: redis,
        sessionId,
        runId: run.id,
        maxBuffered: 2,
      })) {
        joined.push(event);
        await new Promise((resolve) => setTimeout(resolve, 0)); // a consumer slower than the feed
      }
    })();
    await manager.executeRun(run.id);
    await following;
    expect(joined).toEqual(await logOf(store, sessionId, run.id));
  });

  it("follows a session from a cursor across runs and events never published (session events), filtered by type", async () => {
    const { store, manager, sessionId } = await setup(nats, streaming(20));
    const first = await manager.startRun(sessionId, "one");
    await manager.executeRun(first.id);
    const cursor =
      (await logOf(store, sessionId)).find((event) => event.type === "message_streamed")?.sequence ?? 0;
    const controller = new AbortController();
    const joined: AsmEvent[] = [];
    let completedRuns = 0;
    const following = (async () => {
      for await (const event of joinEventStream({
        store,
        pubsub: nats,
        sessionId,
        after: cursor,
        types: ["run_started", "run_completed", "message_sent"],
        signal: controller.signal,
      })) {
        joined.push(event);
        if (event.type === "run_completed" && ++completedRuns === 2) controller.abort();
      }
    })();
    const second = await manager.startRun(sessionId, "two");
    await manager.executeRun(second.id);
    await following;
    const expected = (await store.getEvents(sessionId, { after: cursor, limit: 1000 })).filter((event) =>
      ["run_started", "run_completed", "message_sent"].includes(event.type),
    );
    expect(joined).toEqual(expected);
    expect(joined.map((event) => event.runId)).toEqual([first.id, second.id, second.id, second.id]);
  });
});

/** Waits (bounded) for a condition on delivered messages. */
async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
