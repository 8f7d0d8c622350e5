import type { AsmEvent, EventType } from "../core/events.js";
import type { SessionStore } from "../ports/session-store.js";
import { parseOptions, streamEventsSchema } from "./options.js";

export interface StreamEventsOptions {
  /** Start after this sequence. Default 0 (from the beginning). */
  after?: number;
  /** Keep waiting for new events instead of ending at the end of the log. Default false. */
  follow?: boolean;
  runId?: string;
  types?: EventType[];
  /** Events read per store call. Default 100. */
  pageSize?: number;
  /** Ends a follow promptly. */
  signal?: AbortSignal;
}

/** How long one long-poll waits before asking again; bounded so nothing waits unseen for long. */
const FOLLOW_WAIT_MS = 30_000;

/**
 * A session's events in order, from `after`. With `follow`, waits for new events (a long-poll
 * on the store, woken by appends, not a sleep loop) until the signal aborts or the loop is left.
 */
export async function* streamSessionEvents(
  store: SessionStore,
  sessionId: string,
  options: StreamEventsOptions = {},
): AsyncGenerator<AsmEvent> {
  const opts = parseOptions(streamEventsSchema, options, "stream options");
  const pageSize = opts.pageSize ?? 100;
  let cursor = opts.after ?? 0;
  while (!opts.signal?.aborted) {
    const page = await store.getEvents(sessionId, {
      after: cursor,
      limit: pageSize,
      ...(opts.runId ? { runId: opts.runId } : {}),
      ...(opts.types ? { types: opts.types as EventType[] } : {}),
      ...(opts.follow ? { waitTimeoutMs: FOLLOW_WAIT_MS } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    for (const event of page) {
      cursor = event.sequence;
      yield event;
    }
    if (!opts.follow && page.length < pageSize) return;
  }
}
