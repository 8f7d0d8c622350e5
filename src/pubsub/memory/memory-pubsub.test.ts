import { describe, it } from "vitest";
import { definePubSubConformance } from "../../testing/pubsub-conformance.js";
import { MemoryBus, MemoryPubSub } from "./memory-pubsub.js";

const bus = new MemoryBus();
definePubSubConformance(
  { name: "memory", open: async () => new MemoryPubSub({ bus, onError: () => {} }) },
  { describe, it },
);
