import type { AsmEvent } from "../core/events.js";

/** The `PubSub` contract this package drives; an adapter declares the one it implements. */
export const PUBSUB_SPECIFICATION = "v1";

/**
 * Anything events can be published to: the one call the publishing run extension and a
 * renderer's pubsub sink need. Every `PubSub` is one; so is a plain object wrapping another
 * broker or an in-app event bus.
 */
export interface EventPublisher {
  /**
   * Publishes one stored event on a topic (see `sessionTopic`/`runTopic`/`typeTopic`). Resolves
   * once the message is handed to the broker's connection; messages one publisher sends on one
   * topic arrive in the order they were published.
   */
  publish(topic: string, event: AsmEvent): Promise<void> | void;
}

/** Receives the events published on a subscribed topic; it must not block. */
export type PubSubHandler = (event: AsmEvent, topic: string) => void;

export interface PubSubSubscription {
  readonly topic: string;
  /** Stops delivery to this handler; resolves once the broker was told (when it was the last). Idempotent. */
  unsubscribe(): Promise<void>;
}

/**
 * Live fan-out of stored events through a broker: in-process (`MemoryPubSub`), Redis
 * (`agent-session-manager/pubsub/redis`) or NATS (`agent-session-manager/pubsub/nats`).
 *
 * Delivery is at most once: a subscriber that was not connected, or whose broker dropped a
 * message, misses it. Every event carries its `sequence`, so `joinEventStream` recovers what
 * was missed from the store's log, by cursor. Messages are the events' JSON.
 *
 * Errors: a topic outside the grammar (`assertTopic`) is `validation_error`; a broker that
 * cannot be reached is `storage_connection_failed` (never a hang: connections are bounded);
 * a missing client package is `dependency_not_available`; a call after `close` is `stream_closed`.
 */
export interface PubSub extends EventPublisher {
  publish(topic: string, event: AsmEvent): Promise<void>;
  /** `PUBSUB_SPECIFICATION`. */
  readonly specificationVersion: typeof PUBSUB_SPECIFICATION;
  /** The adapter's name in messages: `memory`, `redis`, `nats`. */
  readonly name: string;
  /**
   * Delivers every event published on `topic` from now on to `handler`. Resolves once the
   * broker has the subscription: an event published after that reaches the handler. A handler
   * that throws is reported (the adapter's `onError`) and keeps receiving.
   */
  subscribe(topic: string, handler: PubSubHandler): Promise<PubSubSubscription>;
  /** Sends what is still buffered, ends every subscription and the connections. Idempotent. */
  close(): Promise<void>;
}
