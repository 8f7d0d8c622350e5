/**
 * Wake-ups for long-polls: a reader parks on a session until an append to it, its deadline,
 * its abort signal or the store's close — whichever comes first — with no polling loop.
 */

interface Waiter {
  readonly sessionId: string;
  wake(): void;
}

/** State shared by every notifier of one log (one memory store, or one SQLite file in this process). */
class Channel {
  /**
   * One counter for all sessions rather than one per session: a per-session map would grow with
   * every session ever written. The price is that an append to another session between a read
   * and its wait makes the wait return at once, costing one extra read.
   */
  version = 0;
  readonly waiters = new Map<string, Set<Waiter>>();

  add(waiter: Waiter): void {
    let set = this.waiters.get(waiter.sessionId);
    if (set === undefined) {
      set = new Set();
      this.waiters.set(waiter.sessionId, set);
    }
    set.add(waiter);
  }

  remove(waiter: Waiter): void {
    const set = this.waiters.get(waiter.sessionId);
    if (set?.delete(waiter) && set.size === 0) this.waiters.delete(waiter.sessionId);
  }
}

export class AppendNotifier {
  #channel = new Channel();
  readonly #own = new Set<Waiter>();
  #closed = false;

  /**
   * A notifier on the same channel — appends notified through either wake waiters of both —
   * that is closed on its own. Stores on the same SQLite file share a channel this way.
   */
  share(): AppendNotifier {
    const shared = new AppendNotifier();
    shared.#channel = this.#channel;
    return shared;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Read this before reading the log, and hand it to `wait`: it closes the read-then-wait race. */
  version(): number {
    return this.#channel.version;
  }

  /** Wakes the waiters on `sessionId`. Call it after the append is durable and visible to readers. */
  notify(sessionId: string): void {
    this.#channel.version += 1;
    const set = this.#channel.waiters.get(sessionId);
    if (set !== undefined) for (const waiter of [...set]) waiter.wake();
  }

  /** `notify` for the sessions of freshly appended events, each once. */
  notifyAppended(events: readonly { sessionId: string }[]): void {
    const first = events[0]?.sessionId;
    if (first === undefined) return;
    // Nearly every batch is one session's: no set to build for it.
    if (events.every((event) => event.sessionId === first)) this.notify(first);
    else for (const sessionId of new Set(events.map((event) => event.sessionId))) this.notify(sessionId);
  }

  /** Wakes every waiter, for changes whose sessions are unknown (another process wrote). */
  notifyAll(): void {
    this.#channel.version += 1;
    for (const set of [...this.#channel.waiters.values()]) for (const waiter of [...set]) waiter.wake();
  }

  /**
   * Resolves on the first notification for `sessionId`, after `timeoutMs`, on `signal`'s abort or
   * on `close()`. Resolves at once when any of those already happened, including a notification
   * since `sinceVersion`. Never rejects; the caller re-reads to learn what happened.
   */
  wait(sessionId: string, sinceVersion: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted || timeoutMs <= 0 || this.#channel.version !== sinceVersion) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", wake);
        this.#channel.remove(waiter);
        this.#own.delete(waiter);
        resolve();
      };
      const waiter: Waiter = { sessionId, wake };
      const timer = setTimeout(wake, timeoutMs);
      signal?.addEventListener("abort", wake, { once: true });
      this.#channel.add(waiter);
      this.#own.add(waiter);
    });
  }

  /** Wakes this notifier's waiters and makes later waits return at once. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#own]) waiter.wake();
  }
}

/** Kept retained while a long-poll may park, e.g. to watch for other processes' writes. */
export interface WaitWatcher {
  retain(): void;
  release(): void;
}

export interface LongPollOptions<T> {
  notifier: AppendNotifier;
  sessionId: string;
  /** 0 reads once and answers. */
  waitTimeoutMs: number;
  signal: AbortSignal | undefined;
  /** Reads one page. It may throw (`invalid_cursor`, `session_not_found`), which ends the poll. */
  read(): T[] | Promise<T[]>;
  watcher?: WaitWatcher;
}

/**
 * Reads until the page is non-empty, then answers with it; answers `[]` at the deadline, on
 * abort or when the notifier closes. Every read but the first follows a wake-up, never a timer.
 */
export async function longPoll<T>(options: LongPollOptions<T>): Promise<T[]> {
  const { notifier, sessionId, waitTimeoutMs, signal, watcher } = options;
  if (waitTimeoutMs <= 0) return options.read();
  const deadline = performance.now() + waitTimeoutMs;
  // Retained before the first read, so a write the watcher could miss cannot fall in between.
  watcher?.retain();
  try {
    for (;;) {
      const version = notifier.version();
      const page = await options.read();
      if (page.length > 0) return page;
      const remaining = deadline - performance.now();
      if (remaining <= 0 || signal?.aborted) return [];
      await notifier.wait(sessionId, version, remaining, signal);
      if (notifier.closed || signal?.aborted) return [];
    }
  } finally {
    watcher?.release();
  }
}
