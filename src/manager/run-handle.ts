import type { AsmEvent } from "../core/events.js";
import { isTerminalRunEventType } from "../core/events.js";
import type { Run } from "../core/run.js";
import type { SessionStore } from "../ports/session-store.js";
import { streamSessionEvents } from "./stream-events.js";

/**
 * A run started in a session, returned at once: its id, its stored events as they are written,
 * its result, and a way to cancel it. The base the run server, SSE and renderers build on.
 */
export interface RunHandle<Result> {
  readonly runId: string;
  readonly sessionId: string;
  /**
   * The run's events as stored, in sequence order from its first (`message_sent`) to its terminal
   * event, read from the log — never an in-memory copy — so there is no gap and no duplicate,
   * however late iteration starts. Each iteration starts again from the run's first event. Ends
   * after the terminal event, or when the run ended without one (its options were refused and
   * it stayed pending).
   */
  readonly events: AsyncIterable<AsmEvent>;
  /** Resolves with the result when the run completes; rejects with its `AsmError` otherwise. */
  readonly result: Promise<Result>;
  /** Cancels the run (see `cancelRun`); resolves with the run as finally stored. */
  cancel(reason?: string): Promise<Run>;
}

/** The run's stored events: followed while it executes, then read to the end once it settled. */
export async function* runEvents(
  store: SessionStore,
  run: Pick<Run, "id" | "sessionId">,
  settled: Promise<unknown>,
): AsyncGenerator<AsmEvent> {
  const stop = new AbortController();
  const onSettled = () => stop.abort();
  settled.then(onSettled, onSettled);
  const scope = { runId: run.id };
  let after = 0;
  for await (const event of streamSessionEvents(store, run.sessionId, {
    ...scope,
    follow: true,
    signal: stop.signal,
  })) {
    after = event.sequence;
    yield event;
    if (isTerminalRunEventType(event.type)) return;
  }
  // The run settled while we followed: what it stored last is read without waiting.
  for await (const event of streamSessionEvents(store, run.sessionId, { ...scope, after })) {
    yield event;
    if (isTerminalRunEventType(event.type)) return;
  }
}
