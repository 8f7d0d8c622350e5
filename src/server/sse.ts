import { AsmError } from "../core/errors.js";
import type { AsmEvent, EventType } from "../core/events.js";
import { isTerminalSessionStatus } from "../core/session.js";
import type { SessionStore } from "../ports/session-store.js";
import { SessionSubscriptions, type Subscription } from "../runtime/session-subscriptions.js";

export interface EventStreamOptions {
  /** A comment line is sent this often (ms) so proxies keep the stream open and dead peers show. Default 15000. */
  heartbeatMs?: number;
  /**
   * Bytes of events a client may have waiting to be written before the server stops reading the
   * log for it. Default 1048576 (1 MiB).
   */
  maxBufferedBytes?: number;
  /**
   * How long (ms) a client whose buffer is full may take no byte before it is disconnected; it
   * resumes from the last event it received (`Last-Event-ID`). Default 10000.
   */
  slowClientTimeoutMs?: number;
  /** Live events each subscriber may have queued before it reads the log again (see `SubscribeOptions`). Default 1000. */
  subscriberBufferSize?: number;
}

export interface OpenStreamInput {
  sessionId: string;
  /** Send the events with `sequence > after`. */
  after: number;
  types?: readonly string[];
  runId?: string;
  /**
   * Drops the connection at once. Erroring the body alone leaves a socket whose peer reads
   * nothing waiting for a drain that never comes. Default: only the body is errored.
   */
  dropConnection?: () => void;
}

const SESSION_END_TYPES: ReadonlySet<EventType> = new Set([
  "session_completed",
  "session_failed",
  "session_cancelled",
]);

const encoder = new TextEncoder();

/**
 * Frames of the events being fanned out: the follower hands the same event object to every
 * subscriber of a session, so it is serialized once, not once per client.
 */
const frames = new WeakMap<AsmEvent, string>();

/** One event as an SSE frame: its sequence as the id, its type as the event name, the event as JSON. */
export function sseFrame(event: AsmEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = `id: ${event.sequence}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

interface OpenStream {
  finish(comment: string): void;
}

/**
 * The SSE streams of a server. Every stream of a session is a subscriber of one
 * `SessionSubscriptions` (one follower reads the log for all of them), so the log is read once
 * per session whatever the number of clients, and never through a SessionServer: watching a
 * session does not activate it. Each client has a byte-bounded queue; a client that lets it fill
 * and reads nothing for `slowClientTimeoutMs` is disconnected, and resumes with `Last-Event-ID`.
 */
export class EventStreams {
  readonly #store: SessionStore;
  readonly #heartbeatMs: number;
  readonly #maxBufferedBytes: number;
  readonly #slowClientTimeoutMs: number;
  readonly #subscriberBufferSize: number;
  readonly #hubs = new Map<string, SessionSubscriptions>();
  readonly #open = new Set<OpenStream>();
  #closed = false;

  constructor(store: SessionStore, options: EventStreamOptions = {}) {
    this.#store = store;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1_048_576;
    this.#slowClientTimeoutMs = options.slowClientTimeoutMs ?? 10_000;
    this.#subscriberBufferSize = options.subscriberBufferSize ?? 1000;
  }

  /** Streams open now. */
  get count(): number {
    return this.#open.size;
  }

  /**
   * The SSE response of a session's log after `after`: 204 when the session has ended and
   * nothing is left after the cursor; `invalid_cursor` when `after` is past the log's end.
   */
  async open(input: OpenStreamInput): Promise<Response> {
    if (this.#closed) throw new AsmError("invalid_operation", "the server is shutting down");
    const { sessionId, after } = input;
    const session = await this.#store.getSession(sessionId);
    const latest = await this.#store.getLatestSequence(sessionId);
    if (after > latest) {
      throw new AsmError(
        "invalid_cursor",
        `cursor ${after} is past the end of session ${sessionId}'s log (${latest})`,
        {
          details: { sessionId, after, latestSequence: latest },
          hint: "resume from an id this session's stream sent, or from 0",
        },
      );
    }
    if (isTerminalSessionStatus(session.status) && after >= latest)
      return new Response(null, { status: 204 });

    const types = input.types ? new Set(input.types) : undefined;
    const { runId } = input;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let subscription: Subscription | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let pulled: (() => void) | undefined;
    let done = false;

    const end = (how: () => void): void => {
      if (done) return;
      done = true;
      clearInterval(heartbeat);
      this.#open.delete(handle);
      subscription?.unsubscribe();
      pulled?.();
      try {
        how();
      } catch {
        // The stream was cancelled by the peer already.
      }
    };
    // Frames of one burst (a group commit delivers many events at once) go out as one chunk: one
    // socket write per client per burst instead of one per event.
    let pending = "";
    let flushScheduled = false;
    const flush = (): void => {
      flushScheduled = false;
      if (pending === "" || done) return;
      controller.enqueue(encoder.encode(pending));
      pending = "";
    };
    const handle: OpenStream = {
      finish: (comment) => {
        flush();
        end(() => {
          controller.enqueue(encoder.encode(`: ${comment}\n\n`));
          controller.close();
        });
      },
    };
    const write = (text: string): void => {
      if (done) return;
      pending += text;
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    };
    /** Resolves once the client took bytes (the queue is below its bound) or the stream ended. */
    const waitForRoom = async (): Promise<void> => {
      if (done) return;
      // Past the bound with what is not flushed yet: flush, then wait for the client to take bytes.
      if ((controller.desiredSize ?? 0) - pending.length > 0) return;
      flush();
      let timer: NodeJS.Timeout | undefined;
      const room = await new Promise<boolean>((resolve) => {
        pulled = () => resolve(true);
        timer = setTimeout(() => resolve(false), this.#slowClientTimeoutMs);
      });
      clearTimeout(timer);
      pulled = undefined;
      if (room) return;
      // Closed, not errored: an errored body is logged as a failure, and this is a decision.
      // Dropping the connection discards what the client did not take; it resumes from its last id.
      end(() => controller.close());
      input.dropConnection?.();
    };

    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        pull: () => {
          pulled?.();
        },
        cancel: () => end(() => undefined),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: this.#maxBufferedBytes }),
    );

    // First in the stream, ahead of any event: the client's EventSource waits this long before reconnecting.
    write("retry: 1000\n\n");
    const hub = this.#hub(sessionId);
    try {
      subscription = await hub.subscribe(
        async (event) => {
          if (done) return;
          if (
            (types === undefined || types.has(event.type)) &&
            (runId === undefined || event.runId === runId)
          ) {
            write(sseFrame(event));
          }
          if (SESSION_END_TYPES.has(event.type)) return handle.finish("session ended");
          await waitForRoom();
        },
        { fromSequence: after + 1 },
      );
    } catch (error) {
      this.#release(sessionId, hub);
      throw error;
    }
    // The backfill may have reached the session's end before `subscription` was assigned.
    if (done) subscription.unsubscribe();
    void subscription.ended.then((ended) => {
      this.#release(sessionId, hub);
      if (ended.reason === "closed") handle.finish("server closing");
      else if (ended.reason === "store_failed") end(() => controller.error(ended.error));
    });
    if (!done) {
      this.#open.add(handle);
      heartbeat = setInterval(() => {
        if ((controller.desiredSize ?? 0) > 0) write(": heartbeat\n\n");
      }, this.#heartbeatMs);
      heartbeat.unref();
    }
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        // Tells nginx-like proxies not to buffer the stream.
        "x-accel-buffering": "no",
      },
    });
  }

  /** Ends every stream with a final comment line and refuses new ones. Idempotent. */
  closeAll(comment = "server shutting down"): void {
    this.#closed = true;
    for (const stream of [...this.#open]) stream.finish(comment);
    for (const hub of this.#hubs.values()) hub.close();
    this.#hubs.clear();
  }

  #hub(sessionId: string): SessionSubscriptions {
    let hub = this.#hubs.get(sessionId);
    if (!hub) {
      hub = new SessionSubscriptions(this.#store, sessionId, this.#subscriberBufferSize);
      this.#hubs.set(sessionId, hub);
    }
    return hub;
  }

  #release(sessionId: string, hub: SessionSubscriptions): void {
    if (hub.count === 0 && this.#hubs.get(sessionId) === hub) this.#hubs.delete(sessionId);
  }
}
