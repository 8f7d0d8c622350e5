import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import type { PubSubHandler, PubSubSubscription } from "../ports/pubsub.js";

/** Where an adapter reports what it cannot throw: a handler's throw, a message it cannot read. */
export type PubSubErrorReporter = (error: AsmError) => void;

/** Default reporter: a process warning, so a bad handler is visible without crashing the broker loop. */
export function warnPubSubError(error: AsmError): void {
  process.emitWarning(error.message, { code: "ASM_PUBSUB_ERROR" });
}

/**
 * The handlers of one client, by topic. The broker is subscribed once per topic however many
 * handlers share it: `subscribe`'s `onFirst` runs when a topic gets its first handler and
 * `onLast` when it loses its last one.
 */
export class TopicHandlers {
  private readonly byTopic = new Map<string, Set<PubSubHandler>>();
  /** A topic's broker subscription while it is being made, so concurrent subscribers share it. */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly adapter: string,
    private readonly report: PubSubErrorReporter,
  ) {}

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  async subscribe(
    topic: string,
    handler: PubSubHandler,
    onFirst: () => Promise<void>,
    onLast: () => Promise<void>,
  ): Promise<PubSubSubscription> {
    let handlers = this.byTopic.get(topic);
    if (!handlers) {
      handlers = new Set();
      this.byTopic.set(topic, handlers);
      const made = onFirst().finally(() => this.pending.delete(topic));
      this.pending.set(topic, made);
    }
    handlers.add(handler);
    try {
      await this.pending.get(topic);
    } catch (error) {
      this.remove(topic, handler);
      throw error;
    }
    let active = true;
    return {
      topic,
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        if (this.remove(topic, handler)) await onLast();
      },
    };
  }

  /** Hands a raw message to the topic's handlers; a message that is not an event is reported and dropped. */
  dispatch(topic: string, payload: string | Uint8Array): void {
    const handlers = this.byTopic.get(topic);
    if (!handlers || handlers.size === 0) return;
    let event: AsmEvent;
    try {
      event = decodeEvent(payload);
    } catch (error) {
      this.report(
        new AsmError("parse_error", `${this.adapter} pubsub: a message on ${topic} is not an event`, {
          details: { topic },
          cause: error,
        }),
      );
      return;
    }
    for (const handler of [...handlers]) {
      try {
        handler(event, topic);
      } catch (error) {
        this.report(
          new AsmError(
            "internal_error",
            `${this.adapter} pubsub: a handler on ${topic} threw: ${messageOf(error)}`,
            {
              details: { topic, sequence: event.sequence },
              cause: error,
            },
          ),
        );
      }
    }
  }

  clear(): void {
    this.byTopic.clear();
  }

  /** Removes a handler; true when it was the topic's last. */
  private remove(topic: string, handler: PubSubHandler): boolean {
    const handlers = this.byTopic.get(topic);
    if (!handlers?.delete(handler)) return false;
    if (handlers.size > 0) return false;
    this.byTopic.delete(topic);
    return true;
  }
}

/**
 * Encodings of events still referenced: an event published on several topics (session, run,
 * type) is serialized once. Stored events are never mutated after they are stored.
 */
const encoded = new WeakMap<AsmEvent, string>();

/** The wire form of an event: its JSON. */
export function encodeEvent(event: AsmEvent): string {
  let text = encoded.get(event);
  if (text === undefined) {
    text = JSON.stringify(event);
    encoded.set(event, text);
  }
  return text;
}

function decodeEvent(payload: string | Uint8Array): AsmEvent {
  const text = typeof payload === "string" ? payload : Buffer.from(payload).toString("utf8");
  const value: unknown = JSON.parse(text);
  if (
    typeof value !== "object" ||
    value === null ||
    typeof (value as { sequence?: unknown }).sequence !== "number" ||
    typeof (value as { sessionId?: unknown }).sessionId !== "string" ||
    typeof (value as { type?: unknown }).type !== "string"
  ) {
    throw new Error("not an event: sequence, sessionId and type are required");
  }
  return value as AsmEvent;
}

/** The error for a call on a closed client. */
export function closedError(adapter: string): AsmError {
  return new AsmError("stream_closed", `the ${adapter} pubsub is closed`, { details: { adapter } });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
