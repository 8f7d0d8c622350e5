import type { AsmEvent } from "../../core/events.js";
import type { Sink } from "../types.js";

/** What the PubSub sink publishes through: any broker client with this method (the PubSub port satisfies it). */
export interface EventPublisher {
  publish(topic: string, event: AsmEvent): Promise<void> | void;
}

/** Which topic an event goes to: its session's, its run's, or its session's for its type. */
export type TopicScope = "session" | "run" | "type";

export interface TopicOptions {
  /** Default `asm`. */
  prefix?: string;
  /** Default `session`. */
  scope?: TopicScope;
}

/**
 * The topic of an event: `asm:session:<sessionId>`, `asm:session:<sessionId>:run:<runId>` (the
 * session's topic for an event of no run), `asm:session:<sessionId>:type:<type>`.
 */
export function eventTopic(event: AsmEvent, options: TopicOptions = {}): string {
  const session = `${options.prefix ?? "asm"}:session:${event.sessionId}`;
  switch (options.scope ?? "session") {
    case "session":
      return session;
    case "run":
      return event.runId === undefined ? session : `${session}:run:${event.runId}`;
    case "type":
      return `${session}:type:${event.type}`;
  }
}

export interface PubSubSinkOptions extends TopicOptions {
  publisher: EventPublisher;
  /** A fixed topic, or the topics of each event; overrides `prefix` and `scope`. */
  topic?: string | ((event: AsmEvent) => string | readonly string[]);
}

/** Publishes each event (the rendered text is ignored) to its topic, or topics. */
export class PubSubSink implements Sink {
  readonly name = "pubsub";

  constructor(private readonly options: PubSubSinkOptions) {}

  write(): void {}

  async writeEvent(event: AsmEvent): Promise<void> {
    const { topic } = this.options;
    const topics =
      typeof topic === "string" ? [topic] : topic ? [topic(event)].flat() : [eventTopic(event, this.options)];
    for (const name of topics) await this.options.publisher.publish(name, event);
  }
}
