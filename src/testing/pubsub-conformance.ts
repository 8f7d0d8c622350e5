import assert from "node:assert/strict";
import type { AsmEvent } from "../core/events.js";
import type { PubSub } from "../ports/pubsub.js";
import { runTopic, sessionTopic, typeTopic } from "../pubsub/topics.js";
import { rejectsWith } from "./assertions.js";
import { uniqueId } from "./fixtures.js";
import type { TestFramework } from "./session-store-conformance.js";

/** How the suite gets PubSub clients to test. */
export interface PubSubHarness {
  /** Names the suite's top-level `describe`. */
  name: string;
  /**
   * A new client on the broker shared by every client `open` returns (another connection for a
   * network broker; another `MemoryPubSub` on one `MemoryBus` in process). Cases use fresh ids,
   * so clients of other cases may share the broker.
   */
  open(): Promise<PubSub>;
}

/** Longest a case waits for a message that must arrive: a bound, not a measurement. */
const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Defines the `PubSub` contract as test cases in the caller's framework, against the clients
 * `harness` opens: delivery across clients, in publish order, per-topic isolation, several
 * handlers on one topic, unsubscribe, a throwing handler, the wire form (an event arrives equal
 * to what was published), topic validation and close. Give each test at least 30 s.
 */
export function definePubSubConformance(harness: PubSubHarness, framework: TestFramework): void {
  const { describe, it } = framework;

  /** Runs `body` with two clients (publisher, subscriber) and closes them after. */
  const withClients = async (body: (publisher: PubSub, subscriber: PubSub) => Promise<void>) => {
    const publisher = await harness.open();
    const subscriber = await harness.open();
    try {
      await body(publisher, subscriber);
    } finally {
      await Promise.all([publisher.close(), subscriber.close()]);
    }
  };

  describe(`PubSub conformance: ${harness.name}`, () => {
    it("delivers events published by another client, in publish order, equal to what was sent", async () => {
      await withClients(async (publisher, subscriber) => {
        const sessionId = uniqueId("ses");
        const topic = sessionTopic(sessionId);
        const received = collect(subscriber, topic);
        await received.ready;
        const sent = Array.from({ length: 200 }, (_, index) => makeEvent(sessionId, index + 1));
        await Promise.all(sent.map((event) => publisher.publish(topic, event)));
        assert.deepEqual(await received.until(sent.length), sent);
        assert.deepEqual(received.topics(), [topic]);
      });
    });

    it("keeps topics apart: session, run and type topics, other sessions", async () => {
      await withClients(async (publisher, subscriber) => {
        const sessionId = uniqueId("ses");
        const other = uniqueId("ses");
        const runId = uniqueId("run");
        const onRun = collect(subscriber, runTopic(sessionId, runId));
        const onType = collect(subscriber, typeTopic(sessionId, "run_failed"));
        const onSession = collect(subscriber, sessionTopic(sessionId));
        await Promise.all([onRun.ready, onType.ready, onSession.ready]);
        const first = makeEvent(other, 1);
        const second = makeEvent(sessionId, 1, { runId, type: "run_failed" });
        await publisher.publish(sessionTopic(other), first);
        await publisher.publish(runTopic(other, runId), first);
        await publisher.publish(typeTopic(sessionId, "run_failed"), second);
        await publisher.publish(runTopic(sessionId, runId), second);
        await publisher.publish(sessionTopic(sessionId), second);
        assert.deepEqual(await onSession.until(1), [second]);
        assert.deepEqual(await onRun.until(1), [second]);
        assert.deepEqual(await onType.until(1), [second]);
        // The session topic's message was published last: the others had their chance to arrive.
        assert.equal(onRun.events.length + onType.events.length + onSession.events.length, 3);
      });
    });

    it("gives every handler of a topic each event; unsubscribing one leaves the others", async () => {
      await withClients(async (publisher, subscriber) => {
        const sessionId = uniqueId("ses");
        const topic = sessionTopic(sessionId);
        const first = collect(subscriber, topic);
        const second = collect(subscriber, topic);
        await Promise.all([first.ready, second.ready]);
        await publisher.publish(topic, makeEvent(sessionId, 1));
        await Promise.all([first.until(1), second.until(1)]);
        await (await first.ready).unsubscribe();
        await (await first.ready).unsubscribe(); // idempotent
        await publisher.publish(topic, makeEvent(sessionId, 2));
        await publisher.publish(topic, makeEvent(sessionId, 3));
        assert.deepEqual(
          (await second.until(3)).map((event) => event.sequence),
          [1, 2, 3],
        );
        assert.deepEqual(
          first.events.map((event) => event.sequence),
          [1],
        );
      });
    });

    it("stops delivery once the last handler of a topic unsubscribed, and can subscribe again", async () => {
      await withClients(async (publisher, subscriber) => {
        const sessionId = uniqueId("ses");
        const topic = sessionTopic(sessionId);
        const marker = runTopic(sessionId, "marker");
        const gone = collect(subscriber, topic);
        await (await gone.ready).unsubscribe();
        const markers = collect(subscriber, marker);
        await markers.ready;
        await publisher.publish(topic, makeEvent(sessionId, 1));
        await publisher.publish(marker, makeEvent(sessionId, 2));
        await markers.until(1);
        assert.deepEqual(gone.events, []);
        const again = collect(subscriber, topic);
        await again.ready;
        await publisher.publish(topic, makeEvent(sessionId, 3));
        assert.deepEqual(
          (await again.until(1)).map((event) => event.sequence),
          [3],
        );
      });
    });

    it("keeps delivering after a handler throws, to it and to the others", async () => {
      await withClients(async (publisher, subscriber) => {
        const sessionId = uniqueId("ses");
        const topic = sessionTopic(sessionId);
        const thrownOn: number[] = [];
        await subscriber.subscribe(topic, (event) => {
          thrownOn.push(event.sequence);
          throw new Error("handler bug");
        });
        const healthy = collect(subscriber, topic);
        await healthy.ready;
        await publisher.publish(topic, makeEvent(sessionId, 1));
        await publisher.publish(topic, makeEvent(sessionId, 2));
        assert.deepEqual(
          (await healthy.until(2)).map((event) => event.sequence),
          [1, 2],
        );
        assert.deepEqual(thrownOn, [1, 2]);
      });
    });

    it("round-trips any JSON event data: unicode, nesting, ids that need escaping in topics", async () => {
      await withClients(async (publisher, subscriber) => {
        const sessionId = `${uniqueId("ses")}:odd.id *>é`;
        const topic = sessionTopic(sessionId);
        assert.match(topic, /^asm:session:[A-Za-z0-9_%-]+$/);
        const received = collect(subscriber, topic);
        await received.ready;
        const event = makeEvent(sessionId, 7, {
          type: "message_received",
          data: {
            role: "assistant",
            content: `héllo ✓ 🎉 ${"x".repeat(64 * 1024)}`,
            nested: { list: [1, null, "two"] },
          },
        });
        await publisher.publish(topic, event);
        assert.deepEqual(await received.until(1), [event]);
      });
    });

    it("refuses topics outside the grammar with validation_error", async () => {
      await withClients(async (publisher, subscriber) => {
        const event = makeEvent(uniqueId("ses"), 1);
        for (const topic of ["", "asm:session:a b", "asm.session.x", "asm:session:*", "asm::x", "asm:>"]) {
          await rejectsWith(publisher.publish(topic, event), "validation_error", {}, `publish ${topic}`);
          await rejectsWith(
            subscriber.subscribe(topic, () => {}),
            "validation_error",
            {},
            `subscribe ${topic}`,
          );
        }
      });
    });

    it("is closed after close(): calls reject with stream_closed, close is idempotent", async () => {
      const pubsub = await harness.open();
      await pubsub.close();
      await pubsub.close();
      const sessionId = uniqueId("ses");
      await rejectsWith(pubsub.publish(sessionTopic(sessionId), makeEvent(sessionId, 1)), "stream_closed");
      await rejectsWith(
        pubsub.subscribe(sessionTopic(sessionId), () => {}),
        "stream_closed",
      );
    });
  });
}

/** A stored-looking event for the suite: the wire carries whatever a store returned. */
function makeEvent(
  sessionId: string,
  sequence: number,
  fields: { runId?: string; type?: AsmEvent["type"]; data?: Record<string, unknown> } = {},
): AsmEvent {
  return {
    id: `evt_${sessionId.length}_${sequence}_${Math.random().toString(36).slice(2)}`,
    type: fields.type ?? "message_streamed",
    sessionId,
    ...(fields.runId ? { runId: fields.runId } : {}),
    sequence,
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)).toISOString(),
    provider: "conformance",
    data: fields.data ?? { delta: `chunk ${sequence}` },
    metadata: {},
  } as AsmEvent;
}

/** Subscribes and gathers what arrives; `until(n)` waits (bounded) for the first n. */
function collect(pubsub: PubSub, topic: string) {
  const events: AsmEvent[] = [];
  const topics = new Set<string>();
  let waiter: (() => void) | undefined;
  const ready = pubsub.subscribe(topic, (event, on) => {
    events.push(event);
    topics.add(on);
    waiter?.();
  });
  return {
    events,
    ready,
    topics: () => [...topics],
    async until(count: number): Promise<AsmEvent[]> {
      const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
      while (events.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) {
          assert.fail(
            `${events.length} of ${count} events arrived on ${topic} within ${DELIVERY_TIMEOUT_MS} ms`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return events.slice(0, count);
    },
  };
}
