import type { AdapterEvent } from "../core/events.js";
import type { EventSink } from "../ports/provider-adapter.js";

/** Which provider and attempt an event came from; stored in the event's `metadata.routing`. */
export interface AttemptStamp {
  provider: string;
  attempt: number;
}

/** Event types that show a reader something of the run's output. */
const OUTPUT_EVENT_TYPES: ReadonlySet<AdapterEvent["type"]> = new Set([
  "message_streamed",
  "message_received",
  "tool_call_started",
  "tool_call_completed",
  "tool_call_failed",
]);

/**
 * The sink one attempt writes through. It stamps `metadata.routing` on every event (metadata, so
 * `data` stays canonical) and watches what the attempt has already put in the log: whether any
 * output went out, the assistant text so far and the tools it started, which is what a failover
 * after a mid-stream failure has to be honest about.
 */
export class AttemptSink implements EventSink {
  readonly #target: EventSink;
  readonly #stamp: AttemptStamp;
  #streamed = false;
  /** Assistant messages received whole. */
  readonly #messages: string[] = [];
  /** Text streamed since the last whole assistant message (which repeats it when it comes). */
  #pending = "";
  readonly #tools: string[] = [];

  constructor(target: EventSink, stamp: AttemptStamp) {
    this.#target = target;
    this.#stamp = stamp;
  }

  emit(event: AdapterEvent): void {
    this.#observe(event);
    this.#target.emit({ ...event, metadata: { ...event.metadata, routing: { ...this.#stamp } } });
  }

  /** True once the attempt has emitted any output event (text or tool activity). */
  get streamedOutput(): boolean {
    return this.#streamed;
  }

  /** The assistant text the attempt produced before it ended. */
  get partialText(): string {
    return [...this.#messages, this.#pending].filter((text) => text.length > 0).join("\n\n");
  }

  /** Names of the tools the attempt started, in order. */
  get toolCalls(): readonly string[] {
    return this.#tools;
  }

  #observe(event: AdapterEvent): void {
    if (!OUTPUT_EVENT_TYPES.has(event.type)) return;
    this.#streamed = true;
    // Adapters' data is validated downstream, not here: read defensively.
    switch (event.type) {
      case "message_streamed":
        // stderr of a process is diagnostics, not the answer.
        if (typeof event.data.delta === "string" && event.data.stream !== "stderr") {
          this.#pending += event.data.delta;
        }
        break;
      case "message_received":
        if (event.data.role === "assistant" && typeof event.data.content === "string") {
          this.#messages.push(event.data.content);
          this.#pending = "";
        }
        break;
      case "tool_call_started":
        if (typeof event.data.toolName === "string") this.#tools.push(event.data.toolName);
        break;
    }
  }
}
