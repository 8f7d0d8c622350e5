export { createNatsPubSub, NatsPubSub, type NatsPubSubOptions, subjectOf } from "./nats-pubsub.js";
