import type { AsmEvent } from "../../core/events.js";
import {
  PUBSUB_SPECIFICATION,
  type PubSub,
  type PubSubHandler,
  type PubSubSubscription,
} from "../../ports/pubsub.js";
import {
  closedError,
  encodeEvent,
  type PubSubErrorReporter,
  TopicHandlers,
  warnPubSubError,
} from "../handlers.js";
import { assertTopic } from "../topics.js";

/** The in-process broker several `MemoryPubSub` clients share. */
export class MemoryBus {
  private readonly clients = new Set<TopicHandlers>();

  /** @internal */
  attach(client: TopicHandlers): void {
    this.clients.add(client);
  }

  /** @internal */
  detach(client: TopicHandlers): void {
    this.clients.delete(client);
  }

  /** @internal Delivers on a later microtask, as a broker would: a publish never runs handlers inline. */
  send(topic: string, payload: string): void {
    const clients = [...this.clients];
    queueMicrotask(() => {
      for (const client of clients) client.dispatch(topic, payload);
    });
  }
}

export interface MemoryPubSubOptions {
  /** The broker shared with other clients. Default: a private one (this client talks to itself). */
  bus?: MemoryBus;
  /** Receives a handler's throw or an unreadable message. Default: a process warning. */
  onError?: PubSubErrorReporter;
}

/**
 * In-process PubSub, for one process and for tests. Messages go through the same JSON wire form
 * as on a broker (a subscriber gets its own copy) and are delivered on a later microtask.
 */
export class MemoryPubSub implements PubSub {
  readonly specificationVersion = PUBSUB_SPECIFICATION;
  readonly name = "memory";
  private readonly bus: MemoryBus;
  private readonly handlers: TopicHandlers;
  private closed = false;

  constructor(options: MemoryPubSubOptions = {}) {
    this.bus = options.bus ?? new MemoryBus();
    this.handlers = new TopicHandlers(this.name, options.onError ?? warnPubSubError);
    this.bus.attach(this.handlers);
  }

  async publish(topic: string, event: AsmEvent): Promise<void> {
    if (this.closed) throw closedError(this.name);
    assertTopic(topic);
    this.bus.send(topic, encodeEvent(event));
  }

  async subscribe(topic: string, handler: PubSubHandler): Promise<PubSubSubscription> {
    if (this.closed) throw closedError(this.name);
    assertTopic(topic);
    return this.handlers.subscribe(
      topic,
      handler,
      async () => {},
      async () => {},
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.bus.detach(this.handlers);
  }
}
