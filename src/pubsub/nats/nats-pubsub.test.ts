import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import { uniqueId } from "../../testing/fixtures.js";
import { definePubSubConformance } from "../../testing/pubsub-conformance.js";
import { runTopic } from "../topics.js";
import { createNatsPubSub, subjectOf } from "./nats-pubsub.js";

// The real nats-server on 127.0.0.1:4222 (.ci/run starts it).
definePubSubConformance(
  { name: "nats", open: () => createNatsPubSub({ onError: () => {} }) },
  { describe, it },
);

describe("NatsPubSub subjects", () => {
  it("publishes on asm.session.<id>.run.<id>, which a plain NATS client can match with wildcards", async () => {
    const pubsub = await createNatsPubSub();
    const raw = await connect({ servers: "127.0.0.1:4222" });
    try {
      const sessionId = `${uniqueId("ses")}.with dots`;
      const subscription = raw.subscribe(
        `asm.session.${sessionId.replaceAll(".", "%2E").replaceAll(" ", "%20")}.>`,
        {
          max: 1,
        },
      );
      await raw.flush();
      const topic = runTopic(sessionId, "run_1");
      expect(subjectOf(topic)).toBe(`asm.session.${sessionId.split(".")[0]}%2Ewith%20dots.run.run_1`);
      const event = {
        id: "evt_1",
        type: "run_started",
        sessionId,
        runId: "run_1",
        sequence: 4,
        timestamp: new Date(0).toISOString(),
        data: {},
        metadata: {},
      } as const;
      await pubsub.publish(topic, event);
      for await (const message of subscription) {
        expect(message.subject).toBe(subjectOf(topic));
        expect(message.json()).toEqual(event);
      }
    } finally {
      await Promise.all([pubsub.close(), raw.close()]);
    }
  });
});

describe("NatsPubSub without a server", () => {
  it("fails to connect with storage_connection_failed, without hanging", async () => {
    const error = await createNatsPubSub({ servers: "127.0.0.1:1", connectTimeoutMs: 2000 }).catch(
      (caught: unknown) => caught,
    );
    expect(AsmError.is(error, "storage_connection_failed")).toBe(true);
    expect((error as AsmError).details).toMatchObject({ adapter: "nats", operation: "connect" });
  });
});
