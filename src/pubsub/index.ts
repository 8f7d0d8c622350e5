// PubSub: the in-process adapter, topics, publishing as a run extension and the log+live join.
// The Redis and NATS adapters have their own subpaths (agent-session-manager/pubsub/redis, /nats).
export type { PubSubErrorReporter } from "./handlers.js";
export { type JoinEventStreamOptions, joinEventStream } from "./join.js";
export { MemoryBus, MemoryPubSub, type MemoryPubSubOptions } from "./memory/index.js";
export { type PublishExtensionOptions, type PublishReport, publishExtension } from "./publish-extension.js";
export {
  assertTopic,
  DEFAULT_TOPIC_PREFIX,
  encodeTopicSegment,
  runTopic,
  sessionTopic,
  type TopicOptions,
  type TopicScope,
  topicsForEvent,
  typeTopic,
} from "./topics.js";
