import type { AsmEvent } from "../../core/events.js";
import type { EventPublisher } from "../../ports/pubsub.js";
import { type TopicOptions, type TopicScope, topicsForEvent } from "../../pubsub/topics.js";
import type { Sink } from "../types.js";

export interface PubSubSinkOptions extends TopicOptions {
  /** Any `PubSub` (in-process, Redis, NATS) or anything with its `publish(topic, event)`. */
  publisher: EventPublisher;
  /**
   * The topics of each event by scope (`asm:session:<id>`, `…:run:<id>`, `…:type:<type>`; see
   * `topicsForEvent`). Default `["session"]`.
   */
  scopes?: readonly TopicScope[];
  /** A fixed topic, or the topics of each event; overrides `prefix` and `scopes`. */
  topic?: string | ((event: AsmEvent) => string | readonly string[]);
}

/** Publishes each event (the rendered text is ignored) to its topics, in order. */
export class PubSubSink implements Sink {
  readonly name = "pubsub";

  constructor(private readonly options: PubSubSinkOptions) {}

  write(): void {}

  async writeEvent(event: AsmEvent): Promise<void> {
    const { topic } = this.options;
    const topics =
      typeof topic === "string"
        ? [topic]
        : topic
          ? [topic(event)].flat()
          : topicsForEvent(event, this.options.scopes ?? ["session"], this.options);
    for (const name of topics) await this.options.publisher.publish(name, event);
  }
}
