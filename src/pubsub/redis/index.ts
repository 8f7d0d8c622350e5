export { createRedisPubSub, RedisPubSub, type RedisPubSubOptions } from "./redis-pubsub.js";
