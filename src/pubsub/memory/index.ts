export { MemoryBus, MemoryPubSub, type MemoryPubSubOptions } from "./memory-pubsub.js";
