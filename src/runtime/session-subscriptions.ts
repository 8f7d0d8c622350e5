import { z } from "zod";
import { AsmError } from "../core/errors.js";
import type { AsmEvent, EventType } from "../core/events.js";
import { parseWith } from "../core/validation.js";
import { streamSessionEvents } from "../manager/stream-events.js";
import { MAX_EVENT_PAGE, type SessionStore } from "../ports/session-store.js";

/** What a subscription delivers, and from where. */
export interface SubscribeOptions {
  /**
   * Deliver the events with `sequence >= fromSequence`: the log's earlier events first (backfill),
   * then new ones as they are stored. To resume after a disconnect, give the last sequence seen
   * plus one. A sequence past the log's end + 1 is `invalid_cursor`. Default 0: the whole log.
   */
  fromSequence?: number;
  /** Only this run's events. Default: every run's, and the session's own. */
  runId?: string;
  /** Only events of these types. Default: every type. */
  types?: EventType[];
}

/** Called with each event, in sequence order; the next one waits until a returned promise settles. */
export type SubscriptionListener = (event: AsmEvent) => void | Promise<void>;

/** Why a subscription ended. */
export interface SubscriptionEnd {
  /**
   * `unsubscribed` (its `unsubscribe`, or an iteration left early), `closed` (the server closed),
   * `listener_failed` (the listener threw or rejected: `error`), `store_failed` (reading the log
   * failed: `error`).
   */
  reason: "unsubscribed" | "closed" | "listener_failed" | "store_failed";
  error?: AsmError;
}

/** A live subscription to a session's log. */
export interface Subscription {
  readonly id: string;
  /** Every matching event up to this sequence has been delivered (0 before any): resume from `cursor + 1`. */
  readonly cursor: number;
  /** Resolves (never rejects) when the subscription ends, saying why. */
  readonly ended: Promise<SubscriptionEnd>;
  /** Stops delivery at once. Idempotent. */
  unsubscribe(): void;
}

/**
 * A subscription read by iteration: `for await (const event of subscription)`. Leaving the loop
 * unsubscribes; an iteration ends when the subscription ends, and throws its `error` if the log
 * could not be read.
 */
export interface IterableSubscription extends Subscription, AsyncIterable<AsmEvent> {}

const subscribeSchema = z.strictObject({
  fromSequence: z.number().int().nonnegative().optional(),
  runId: z.string().min(1).optional(),
  types: z.array(z.string().min(1)).optional(),
});

/**
 * Fans a session's log out to its subscribers. One follower reads the log (a long-poll woken by
 * appends, whoever the writer) and offers each event to every subscriber; each subscriber has a
 * bounded buffer and its own delivery loop, so a slow or stuck listener never holds up the
 * follower, the runs writing the log, or the other subscribers. A subscriber whose buffer
 * overflows drops it and reads the log again from its cursor — the log is the source of truth,
 * the buffer only a shortcut — then takes live events again. Sequences decide everything: an
 * event at or below a subscriber's cursor is never delivered again, and the log has no holes, so
 * nothing is missed or repeated across the switch from backfill to live.
 */
export class SessionSubscriptions {
  readonly #store: SessionStore;
  readonly #sessionId: string;
  readonly #bufferSize: number;
  readonly #subscribers = new Set<Subscriber>();
  #subscribed = 0;
  #follower: { stop: AbortController; started: Promise<number> } | undefined;

  constructor(store: SessionStore, sessionId: string, bufferSize: number) {
    this.#store = store;
    this.#sessionId = sessionId;
    this.#bufferSize = bufferSize;
  }

  get count(): number {
    return this.#subscribers.size;
  }

  async subscribe(
    listener: SubscriptionListener | undefined,
    options: SubscribeOptions,
  ): Promise<Subscriber> {
    const opts = parseWith(subscribeSchema, options ?? {}, "subscribe options");
    const cursor = Math.max(0, (opts.fromSequence ?? 0) - 1);
    this.#subscribed += 1;
    const subscriber = new Subscriber(this.#store, this.#sessionId, {
      id: `${this.#sessionId}#${this.#subscribed}`,
      cursor,
      bufferSize: this.#bufferSize,
      ...(opts.runId ? { runId: opts.runId } : {}),
      ...(opts.types ? { types: opts.types as EventType[] } : {}),
      listener,
      onEnd: () => this.#remove(subscriber),
    });
    // Joined before the follower's position is known, so every event it reads from then on is
    // offered; the backfill, read after, covers everything up to that position.
    this.#subscribers.add(subscriber);
    try {
      const position = await this.#follow();
      if (cursor > position) {
        const latest = await this.#store.getLatestSequence(this.#sessionId);
        if (cursor > latest) {
          throw new AsmError(
            "invalid_cursor",
            `fromSequence ${cursor + 1} is past the end of session ${this.#sessionId}'s log (${latest})`,
            { details: { sessionId: this.#sessionId, fromSequence: cursor + 1, latestSequence: latest } },
          );
        }
      }
    } catch (error) {
      this.#remove(subscriber);
      throw AsmError.from(error);
    }
    subscriber.start();
    return subscriber;
  }

  /** Ends every subscription with `closed`. */
  close(): void {
    for (const subscriber of [...this.#subscribers]) subscriber.end({ reason: "closed" });
  }

  #remove(subscriber: Subscriber): void {
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size === 0 && this.#follower) {
      this.#follower.stop.abort();
      this.#follower = undefined;
    }
  }

  /** Starts the follower unless it runs; resolves with the sequence it follows from. */
  #follow(): Promise<number> {
    if (this.#follower) return this.#follower.started;
    const stop = new AbortController();
    const started = this.#store.getLatestSequence(this.#sessionId);
    const follower = { stop, started };
    this.#follower = follower;
    started.then(
      (position) => this.#fanOut(position, stop.signal),
      () => {
        if (this.#follower === follower) this.#follower = undefined;
      },
    );
    return started;
  }

  async #fanOut(position: number, signal: AbortSignal): Promise<void> {
    try {
      for await (const event of streamSessionEvents(this.#store, this.#sessionId, {
        after: position,
        follow: true,
        signal,
        pageSize: MAX_EVENT_PAGE,
      })) {
        if (signal.aborted) return;
        for (const subscriber of this.#subscribers) subscriber.offer(event);
      }
    } catch (error) {
      if (signal.aborted) return;
      const failure = AsmError.from(error, "storage_read_failed");
      for (const subscriber of [...this.#subscribers])
        subscriber.end({ reason: "store_failed", error: failure });
    }
  }
}

interface SubscriberOptions {
  id: string;
  cursor: number;
  bufferSize: number;
  runId?: string;
  types?: EventType[];
  /** Absent: the subscription is iterated. */
  listener: SubscriptionListener | undefined;
  onEnd: () => void;
}

/** One subscription: its cursor, its bounded buffer of live events, and its delivery loop. */
class Subscriber implements IterableSubscription {
  readonly ended: Promise<SubscriptionEnd>;
  #cursor: number;
  #buffer: AsmEvent[] = [];
  /** Live events were dropped (or none taken yet): read the log from the cursor first. */
  #behind = true;
  #end: SubscriptionEnd | undefined;
  #wake: (() => void) | undefined;
  #resolveEnded!: (end: SubscriptionEnd) => void;
  /** For iteration: the event handed over, and the consumer waiting for one. */
  #handoff: { event: AsmEvent; taken: () => void } | undefined;
  #consumer: (() => void) | undefined;

  constructor(
    private readonly store: SessionStore,
    private readonly sessionId: string,
    private readonly options: SubscriberOptions,
  ) {
    this.#cursor = options.cursor;
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
  }

  get id(): string {
    return this.options.id;
  }

  get cursor(): number {
    return this.#cursor;
  }

  start(): void {
    void this.#deliverAll();
  }

  unsubscribe(): void {
    this.end({ reason: "unsubscribed" });
  }

  end(end: SubscriptionEnd): void {
    if (this.#end) return;
    this.#end = end;
    this.#buffer = [];
    this.options.onEnd();
    this.#wake?.();
    this.#consumer?.();
    this.#handoff?.taken();
    this.#resolveEnded(end);
  }

  /** A live event from the follower: buffered, or dropped with the buffer when it is full. */
  offer(event: AsmEvent): void {
    if (this.#end || this.#behind || event.sequence <= this.#cursor) return;
    if (this.#buffer.length >= this.options.bufferSize) {
      this.#buffer = [];
      this.#behind = true;
    } else {
      this.#buffer.push(event);
    }
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<AsmEvent> {
    try {
      for (;;) {
        const handoff = this.#handoff;
        if (handoff) {
          this.#handoff = undefined;
          handoff.taken();
          yield handoff.event;
          continue;
        }
        if (this.#end) {
          if (this.#end.error && this.#end.reason === "store_failed") throw this.#end.error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.#consumer = resolve;
        });
        this.#consumer = undefined;
      }
    } finally {
      this.unsubscribe();
    }
  }

  async #deliverAll(): Promise<void> {
    try {
      while (!this.#end) {
        if (this.#behind) {
          await this.#readLog();
          continue;
        }
        const event = this.#buffer.shift();
        if (!event) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          this.#wake = undefined;
          continue;
        }
        if (event.sequence <= this.#cursor) continue;
        this.#cursor = event.sequence;
        if (this.#matches(event)) await this.#deliver(event);
      }
    } catch (error) {
      this.end({ reason: "store_failed", error: AsmError.from(error, "storage_read_failed") });
    }
  }

  /**
   * One page of the log from the cursor. Live events offered from now on are buffered again: the
   * ones offered before are in the log, so in this page or a later one.
   */
  async #readLog(): Promise<void> {
    this.#behind = false;
    this.#buffer = [];
    const { runId, types } = this.options;
    const page = await this.store.getEvents(this.sessionId, {
      after: this.#cursor,
      limit: MAX_EVENT_PAGE,
      ...(runId ? { runId } : {}),
      ...(types ? { types } : {}),
    });
    for (const event of page) {
      if (this.#end) return;
      if (event.sequence <= this.#cursor) continue;
      this.#cursor = event.sequence;
      await this.#deliver(event);
    }
    if (page.length === MAX_EVENT_PAGE) this.#behind = true;
  }

  #matches(event: AsmEvent): boolean {
    const { runId, types } = this.options;
    return (
      (runId === undefined || event.runId === runId) && (types === undefined || types.includes(event.type))
    );
  }

  async #deliver(event: AsmEvent): Promise<void> {
    const { listener } = this.options;
    if (listener) {
      try {
        await listener(event);
      } catch (error) {
        this.end({ reason: "listener_failed", error: AsmError.from(error) });
      }
      return;
    }
    // Iterated: hand the event over and wait until the consumer takes it (or the end).
    await new Promise<void>((taken) => {
      this.#handoff = { event, taken };
      this.#consumer?.();
    });
  }
}
