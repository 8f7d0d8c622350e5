import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import { definePubSubConformance } from "../../testing/pubsub-conformance.js";
import { createRedisPubSub } from "./redis-pubsub.js";

// The real Redis on 127.0.0.1:6379 (.ci/run starts it).
definePubSubConformance(
  { name: "redis", open: () => createRedisPubSub({ onError: () => {} }) },
  { describe, it },
);

describe("RedisPubSub without a server", () => {
  it("fails to connect with storage_connection_failed, naming the target, without hanging", async () => {
    // Port 1 refuses at once on loopback; the bound is the connect timeout either way.
    const error = await createRedisPubSub({
      url: "redis://:secret@127.0.0.1:1",
      connectTimeoutMs: 2000,
    }).catch((caught: unknown) => caught);
    expect(AsmError.is(error, "storage_connection_failed")).toBe(true);
    expect((error as AsmError).details).toMatchObject({ adapter: "redis", operation: "connect" });
    expect((error as AsmError).message).toContain("127.0.0.1:1");
    expect((error as AsmError).message).not.toContain("secret");
  });
});
