import { AsmError } from "../core/errors.js";
import type { AdapterEvent, AsmEvent, EventDraft } from "../core/events.js";
import type { Redactor } from "../core/redaction.js";
import { StreamRedactionWindow } from "../core/stream-redaction.js";
import type { EventSink } from "../ports/provider-adapter.js";
import type { SessionStore } from "../ports/session-store.js";
import { buildEventDraft, type EventContext, type EventSource } from "./event-builder.js";
import { DEFAULT_STORAGE_RETRY, type StorageRetryPolicy, withStorageRetry } from "./storage-retry.js";

/**
 * How events are grouped into store transactions. A commit has a fixed cost (SQLite writes the
 * session row and the last page of the table and of each index again on every commit), so a
 * provider that streams a burst of events per stdout chunk, chunk after chunk, is written in a
 * few large transactions rather than one per chunk (bench `ingest`, all else equal: one commit
 * per 64-event tick gave 0.66 of raw inserts, groups of up to 256 gave 0.74, up to 512 no more).
 * A lone event is never held back. The price is paid only under a saturating stream: an event
 * waits for its group and its group's commit (follower delay p50 about 2.5–3 ms at 256 events,
 * against 0.7–1 ms at 64).
 */
export interface GroupCommitOptions {
  /** Most events in one transaction. Default 256. */
  maxEvents?: number;
  /**
   * Longest a transaction waits, from its first event, for more to join it (ms). It waits only
   * while events keep arriving: each turn of the event loop that brought none ends the wait.
   * 0 writes at the first turn, whatever arrives. Default 1.
   */
  maxWaitMs?: number;
}

const DEFAULT_GROUP_COMMIT: Readonly<Required<GroupCommitOptions>> = Object.freeze({
  maxEvents: 256,
  maxWaitMs: 1,
});
/**
 * Events kept in memory, in order, once writing has halted; later ones are only counted. The
 * provider is being stopped by then, so this bounds memory against one that floods on its way out.
 */
const MAX_HELD_EVENTS = 10_000;

export type EventListener = (event: AsmEvent) => void;

interface Pending {
  draft: EventDraft;
  settle?: { resolve(event: AsmEvent): void; reject(error: unknown): void };
}

/**
 * The ordered path of one run's events: build → validate → redact → sequence + persist →
 * listeners. Adapters `emit` synchronously; events are queued and written in batches, one
 * transaction per batch, in emission order (grouped: see `GroupCommitOptions`).
 *
 * The log never has a hole: event N+1 is never written without event N. A batch that fails
 * with a retryable code is tried again (`storageRetry`). If it still cannot be written, writing
 * halts: that batch and every later event are held in memory, in order, and nothing more is
 * written; the failure is kept in `failure` and reported to `onFailure`, so the manager stops
 * the provider and fails the run. When the run ends, `settle` tries the held events once more
 * (the store may be back) and gives up on what still cannot be written; the run's terminal
 * event then carries their count in `details.unwrittenEvents`.
 *
 * Why fail with a count rather than keep the events and write them whenever the store is back:
 * a provider that goes on while nothing can be logged works (and bills) unobserved, and its
 * events would live only in this process's memory, lost with it. Stopping the run bounds both;
 * the held events still get their chance at the end, and what is lost is stated, never silent.
 */
export class RunEventPipeline implements EventSink {
  /** Every event of this run persisted so far, in sequence order. */
  readonly events: AsmEvent[] = [];
  /**
   * The write failure that halted the log, if any. Its `details.unwrittenEvents` counts the
   * events held (or dropped) since; final once `settle` has run.
   */
  failure: AsmError | undefined;

  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  /** Events queued so far: a write that sees it grow while it waits keeps waiting for more. */
  private arrivals = 0;
  private readonly groupCommit: Readonly<Required<GroupCommitOptions>>;
  /** Writing stopped at a batch that could not be written: events are held, not written. */
  private halted = false;
  /** `settle` gave up on the held events: nothing of this run is written any more. */
  private abandoned = false;
  /** Events emitted while halted beyond `MAX_HELD_EVENTS`, or given up by `settle`. */
  private dropped = 0;
  /** With redaction, streamed deltas pass through it so a secret split in two is seen whole. */
  private readonly window: StreamRedactionWindow<AdapterEvent> | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly context: EventContext,
    private readonly options: {
      redactor?: Redactor | undefined;
      listeners: readonly EventListener[];
      onFailure?: (error: AsmError) => void;
      /** Default: `DEFAULT_STORAGE_RETRY`. */
      storageRetry?: StorageRetryPolicy;
      /** Defaults: see `GroupCommitOptions`. */
      groupCommit?: GroupCommitOptions;
    },
  ) {
    this.groupCommit = resolveGroupCommit(options.groupCommit);
    if (options.redactor) {
      this.window = new StreamRedactionWindow((event, emittedAt) =>
        this.enqueue({ draft: this.build(event, "adapter", emittedAt) }),
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
  build(event: AdapterEvent, source: EventSource, emittedAt?: Date): EventDraft {
    return buildEventDraft(event, this.context, source, this.options.redactor, emittedAt);
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

  /** Events of this run that were not written: held while halted, or given up by `settle`. */
  get unwrittenEvents(): number {
    return this.dropped + (this.halted ? this.queue.length : 0);
  }

  /**
   * At the run's end, after the last `drain`: if writing halted on a retryable failure, tries the
   * held events once more, in order, with the same retries; whatever still cannot be written is
   * given up (and so is everything emitted later). Resolves with the number of events of the
   * run that were never written, also set as `failure.details.unwrittenEvents`.
   */
  async settle(): Promise<number> {
    await this.drain();
    if (this.halted && !this.abandoned && this.failure?.retryable) {
      this.halted = false;
      this.flushing = this.flush();
      await this.drain();
    }
    if (this.halted && !this.abandoned) {
      this.abandoned = true;
      this.dropped += this.queue.length;
      this.queue = [];
    }
    if (this.failure) this.failure.details.unwrittenEvents = this.unwrittenEvents;
    return this.unwrittenEvents;
  }

  private enqueue(pending: Pending): void {
    if (this.halted) {
      // Held in order for `settle`, not written now: nothing may follow the batch that failed.
      pending.settle?.reject(this.failure);
      if (this.abandoned || this.queue.length >= MAX_HELD_EVENTS) this.dropped += 1;
      else this.queue.push({ draft: pending.draft });
      return;
    }
    this.queue.push(pending);
    this.arrivals += 1;
    this.flushing ??= this.groupThenFlush();
  }

  /**
   * Writes once the group is complete; see `GroupCommitOptions`. setImmediate rather than a
   * microtask: the events of every I/O callback (stdout chunk) of the turn join the group. When
   * the turn brought more events than the one that opened the group, a stream may be under
   * way: the group waits another turn, and so on while events keep coming, up to `maxEvents`
   * or `maxWaitMs`. A lone event is written at the first turn.
   */
  private groupThenFlush(): Promise<void> {
    const { maxEvents, maxWaitMs } = this.groupCommit;
    const openedAt = performance.now();
    let seen = this.arrivals;
    return new Promise<void>((resolve) => {
      const due = (): void => {
        const growing = this.arrivals !== seen;
        seen = this.arrivals;
        if (growing && this.queue.length < maxEvents && performance.now() - openedAt < maxWaitMs) {
          setImmediate(due);
        } else {
          resolve();
        }
      };
      setImmediate(due);
    }).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // The batch stays at the head of the queue until it is written: if it cannot be, it and
        // everything after it are held, in order.
        const batch = this.queue.slice(0, this.groupCommit.maxEvents);
        let stored: AsmEvent[];
        try {
          stored = await withStorageRetry(
            () => this.store.appendEvents(batch.map((pending) => pending.draft)),
            this.options.storageRetry ?? DEFAULT_STORAGE_RETRY,
          );
        } catch (error) {
          this.halt(AsmError.from(error, "storage_write_failed"));
          return;
        }
        this.queue.splice(0, batch.length);
        stored.forEach((event, index) => {
          this.deliver(event);
          batch[index]?.settle?.resolve(event);
        });
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Stops writing at a batch that cannot be written; see the class comment. */
  private halt(error: AsmError): void {
    this.halted = true;
    for (const pending of this.queue) {
      pending.settle?.reject(this.failure ?? error);
      delete pending.settle;
    }
    if (this.failure) return; // settle's second try failed too: the run already knows
    this.failure = new AsmError(error.code, error.message, {
      details: { ...error.details, unwrittenEvents: this.queue.length },
      ...(error.providerError ? { providerError: error.providerError } : {}),
      ...(error.hint ? { hint: error.hint } : {}),
      cause: error,
    });
    this.options.onFailure?.(this.failure);
  }

  private deliver(event: AsmEvent): void {
    this.events.push(event);
    for (const listener of this.options.listeners) notifyListener(listener, event);
  }
}

/** The group-commit bounds with their defaults; throws `validation_error` for bounds that could not write. */
export function resolveGroupCommit(
  options: GroupCommitOptions | undefined,
): Readonly<Required<GroupCommitOptions>> {
  const resolved = { ...DEFAULT_GROUP_COMMIT, ...options };
  if (!Number.isInteger(resolved.maxEvents) || resolved.maxEvents < 1) {
    throw new AsmError("validation_error", "groupCommit.maxEvents must be a positive integer", {
      details: { field: "groupCommit.maxEvents", value: resolved.maxEvents },
    });
  }
  if (!(resolved.maxWaitMs >= 0 && Number.isFinite(resolved.maxWaitMs))) {
    throw new AsmError("validation_error", "groupCommit.maxWaitMs must be a finite number >= 0", {
      details: { field: "groupCommit.maxWaitMs", value: resolved.maxWaitMs },
    });
  }
  return resolved;
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
