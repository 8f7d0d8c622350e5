import { AsmError } from "../core/errors.js";
import type { AdapterEvent, AsmEvent, EventDraft } from "../core/events.js";
import type { Redactor } from "../core/redaction.js";
import { StreamRedactionWindow } from "../core/stream-redaction.js";
import type { EventSink } from "../ports/provider-adapter.js";
import type { SessionStore } from "../ports/session-store.js";
import { buildEventDraft, type EventContext, type EventSource } from "./event-builder.js";

/** Events per store transaction. Large enough to amortize a commit, small enough to stay live. */
const MAX_BATCH = 512;

export type EventListener = (event: AsmEvent) => void;

interface Pending {
  draft: EventDraft;
  settle?: { resolve(event: AsmEvent): void; reject(error: unknown): void };
}

/**
 * The ordered path of one run's events: build → validate → redact → sequence + persist →
 * listeners. Adapters `emit` synchronously; events are queued and written in batches, one
 * transaction per batch, in emission order. A write failure is kept in `failure` (the run then
 * fails with it) and reported to `onFailure` so the manager can stop the provider.
 */
export class RunEventPipeline implements EventSink {
  /** Every event of this run persisted so far, in sequence order. */
  readonly events: AsmEvent[] = [];
  /** The first persistence failure, if any. */
  failure: AsmError | undefined;

  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  /** With redaction, streamed deltas pass through it so a secret split in two is seen whole. */
  private readonly window: StreamRedactionWindow<AdapterEvent> | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly context: EventContext,
    private readonly options: {
      redactor?: Redactor | undefined;
      listeners: readonly EventListener[];
      onFailure?: (error: AsmError) => void;
    },
  ) {
    if (options.redactor) {
      this.window = new StreamRedactionWindow((event) =>
        this.enqueue({ draft: this.build(event, "adapter") }),
      );
    }
  }

  /** The adapter-facing sink: never blocks, never throws. */
  emit(event: AdapterEvent): void {
    if (this.window) this.window.accept(event);
    else this.enqueue({ draft: this.build(event, "adapter") });
  }

  /** Appends an event written by the manager and resolves once it is stored. */
  append(event: AdapterEvent): Promise<AsmEvent> {
    this.window?.release();
    return new Promise((resolve, reject) => {
      this.enqueue({ draft: this.build(event, "manager"), settle: { resolve, reject } });
    });
  }

  /** Builds a manager event without queueing it (for atomic writes such as a run's end). */
  build(event: AdapterEvent, source: EventSource): EventDraft {
    return buildEventDraft(event, this.context, source, this.options.redactor);
  }

  /** Records events that were stored outside the queue and hands them to listeners. */
  delivered(events: readonly AsmEvent[]): void {
    for (const event of events) this.deliver(event);
  }

  /** Resolves when everything emitted so far has been written (or has failed). */
  async drain(): Promise<void> {
    this.window?.release();
    while (this.flushing) await this.flushing;
  }

  private enqueue(pending: Pending): void {
    this.queue.push(pending);
    // setImmediate rather than a microtask: a provider that emits across several I/O callbacks
    // (stdout chunks) gets its events grouped into one transaction.
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        let stored: AsmEvent[];
        try {
          stored = await this.store.appendEvents(batch.map((pending) => pending.draft));
        } catch (error) {
          const failure = AsmError.from(error, "storage_write_failed");
          if (!this.failure) {
            this.failure = failure;
            this.options.onFailure?.(failure);
          }
          for (const pending of batch) pending.settle?.reject(failure);
          continue;
        }
        stored.forEach((event, index) => {
          this.deliver(event);
          batch[index]?.settle?.resolve(event);
        });
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private deliver(event: AsmEvent): void {
    this.events.push(event);
    for (const listener of this.options.listeners) notifyListener(listener, event);
  }
}

/** Calls a listener; its bug must not break the run or the log, so it becomes a visible warning. */
export function notifyListener(listener: EventListener, event: AsmEvent): void {
  try {
    listener(event);
  } catch (error) {
    process.emitWarning(
      `event listener threw on ${event.type} #${event.sequence}: ${error instanceof Error ? error.message : String(error)}`,
      { code: "ASM_LISTENER_ERROR" },
    );
  }
}
