import type { AsmEvent, EventType } from "../core/events.js";
import { isTerminalRunEventType } from "../core/events.js";
import type { PubSub } from "../ports/pubsub.js";
import { MAX_EVENT_PAGE, type SessionStore } from "../ports/session-store.js";
import { runTopic, sessionTopic, type TopicOptions } from "./topics.js";

export interface JoinEventStreamOptions extends TopicOptions {
  /** The log: backfill and gaps are read from it. */
  store: Pick<SessionStore, "getEvents">;
  /** The live feed; the publisher must publish on the topic joined (`run` scope for `runId`). */
  pubsub: Pick<PubSub, "subscribe">;
  sessionId: string;
  /** Only this run's events, live from its run topic. Default: the whole session, from its session topic. */
  runId?: string;
  /** Only events of these types (filtered here: the live topic carries them all). Default: all. */
  types?: readonly EventType[];
  /** Cursor: start after this sequence. Default 0 (the whole log). */
  after?: number;
  /** With `runId`: end after the run's terminal event. Default true. */
  untilRunEnds?: boolean;
  /**
   * While the feed is quiet, the log is read again this often (ms): a last message that was
   * dropped (a run's terminal event, say) is otherwise noticed only when a later one arrives.
   * Default 1000.
   */
  catchUpIntervalMs?: number;
  /** Ends the stream (it then returns). */
  signal?: AbortSignal;
  /**
   * Live messages held while the consumer is behind; beyond it they are dropped and read back
   * from the log instead. Default 10,000.
   */
  maxBuffered?: number;
}

/**
 * The events of a session (or run) from a cursor, then live: the log up to now, then the
 * PubSub feed, with no gap and no duplicate, in sequence order.
 *
 * How: it subscribes first (so nothing published from then on is lost), reads the log from
 * `after` to its end, then takes live messages. A live event at or below the last one delivered
 * is a duplicate (already read from the log) and skipped; one past a gap (its sequence is not
 * the next: a message was dropped, the subscriber was slow, or the event was never published,
 * like session events) makes it read the gap from the log first. Live messages are trusted to
 * be stored events (the publishing extension publishes after the commit). A gap at the very end
 * (the last messages of a run dropped) has no later message to reveal it: the log is read again
 * whenever the feed has been quiet for `catchUpIntervalMs`.
 */
export async function* joinEventStream(options: JoinEventStreamOptions): AsyncGenerator<AsmEvent> {
  const { store, sessionId, runId, signal } = options;
  const untilRunEnds = runId !== undefined && (options.untilRunEnds ?? true);
  const maxBuffered = options.maxBuffered ?? 10_000;
  const catchUpIntervalMs = options.catchUpIntervalMs ?? 1000;
  const wanted = options.types ? new Set<string>(options.types) : undefined;
  let cursor = options.after ?? 0;

  const buffer: AsmEvent[] = [];
  /** Live messages were dropped for want of room: catch up from the log once the buffer is empty. */
  let overflowed = false;
  /** The feed was quiet for `catchUpIntervalMs`: read the log for a dropped tail. */
  let quiet = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  const topic = runId ? runTopic(sessionId, runId, options) : sessionTopic(sessionId, options);
  const subscription = await options.pubsub.subscribe(topic, (event) => {
    if (event.sessionId !== sessionId || (runId && event.runId !== runId)) return;
    if (buffer.length >= maxBuffered) overflowed = true;
    else buffer.push(event);
    notify();
  });
  signal?.addEventListener("abort", notify, { once: true });

  /** Log events in (cursor, before), in pages; advances the cursor. */
  async function* fromLog(before?: number): AsyncGenerator<AsmEvent> {
    for (;;) {
      const page = await store.getEvents(sessionId, {
        after: cursor,
        limit: MAX_EVENT_PAGE,
        ...(before !== undefined ? { before } : {}),
        ...(runId ? { runId } : {}),
      });
      for (const event of page) {
        cursor = event.sequence;
        yield event;
      }
      if (page.length < MAX_EVENT_PAGE) return;
    }
  }

  try {
    let ended = false;
    const emit = (event: AsmEvent): boolean => {
      if (untilRunEnds && isTerminalRunEventType(event.type)) ended = true;
      return !wanted || wanted.has(event.type);
    };
    for await (const event of fromLog()) {
      if (emit(event)) yield event;
      if (ended) return;
    }
    while (!signal?.aborted) {
      const live = buffer.shift();
      if (!live) {
        if (overflowed || quiet) {
          overflowed = false;
          quiet = false;
          for await (const event of fromLog()) {
            if (emit(event)) yield event;
            if (ended) return;
          }
          continue;
        }
        quiet = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), catchUpIntervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        continue;
      }
      if (live.sequence <= cursor) continue; // already delivered from the log
      if (live.sequence > cursor + 1) {
        for await (const event of fromLog(live.sequence)) {
          if (emit(event)) yield event;
          if (ended) return;
        }
      }
      cursor = live.sequence;
      if (emit(live)) yield live;
      if (ended) return;
    }
  } finally {
    signal?.removeEventListener("abort", notify);
    await subscription.unsubscribe();
  }
}
