import type { WaitWatcher } from "../shared/append-notifier.js";

/** What the listener uses of a pg `Client` (which satisfies it), so tests can hand it a fake. */
export interface ListenerClient {
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: "notification", listener: (message: { payload?: string | undefined }) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "end", listener: () => void): unknown;
}

export interface ChannelListenerOptions {
  /** A new, unconnected client (not from the pool: LISTEN holds its connection for good). */
  createClient(): ListenerClient;
  /** `LISTEN` statement for the channel, identifier already quoted. */
  listenSql: string;
  /** Each notification's payload. */
  onNotification(payload: string): void;
  /**
   * Called each time LISTEN takes effect: the first time, and after every reconnection.
   * Notifications sent before that moment were not seen, so waiters must re-read.
   */
  onListening(): void;
  /** First delay before reconnecting after a failure. Default 50. */
  minRetryDelayMs?: number;
  /** Delays double after each failed attempt up to this. Default 5000. */
  maxRetryDelayMs?: number;
}

const DEFAULT_MIN_RETRY_DELAY_MS = 50;
const DEFAULT_MAX_RETRY_DELAY_MS = 5000;

/**
 * The store's one LISTEN connection, kept while long-polls may park (`retain`/`release`, as
 * `longPoll` calls them).
 *
 * - It connects on the first `retain`, not when the store opens: a store that only writes (a
 *   run's process, a CLI command) never holds a second connection. Once up, it stays until
 *   `close`, so a follow loop (one long-poll after another) does not reconnect between calls.
 * - When it drops (server restart, `pg_terminate_backend`, network), it reconnects while anyone
 *   is parked, after 50 ms, then doubling up to 5 s between failed attempts; with nobody parked,
 *   the next `retain` reconnects.
 * - After every successful LISTEN it calls `onListening`, and the store wakes every parked
 *   long-poll to re-read from its own cursor: whatever was appended while nobody listened (or
 *   before the very first LISTEN took effect) is found by that read, and since each reader
 *   resumes from the last sequence it returned, nothing is delivered twice.
 * - Its socket never keeps the process alive by itself: parked long-polls have their own timers.
 */
export class ChannelListener implements WaitWatcher {
  readonly #options: ChannelListenerOptions;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  #holders = 0;
  #client: ListenerClient | undefined;
  #connecting = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #delayMs: number;
  #closed = false;

  constructor(options: ChannelListenerOptions) {
    this.#options = options;
    this.#minDelayMs = options.minRetryDelayMs ?? DEFAULT_MIN_RETRY_DELAY_MS;
    this.#maxDelayMs = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
    this.#delayMs = this.#minDelayMs;
  }

  /** Whether LISTEN is in effect right now. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  retain(): void {
    this.#holders += 1;
    this.#ensureConnected();
  }

  release(): void {
    this.#holders -= 1;
  }

  /** Ends the connection and stops reconnecting. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client === undefined) return;
    // The connection is unref'd, so nothing else may keep the event loop alive until its end is
    // acknowledged: a process whose last work is closing the store would exit with this await
    // unsettled (exit code 13, `asm run --queue` after following a run).
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await client.end().catch(() => {});
    } finally {
      clearInterval(keepAlive);
    }
  }

  #ensureConnected(): void {
    if (this.#closed || this.#client !== undefined || this.#connecting || this.#retryTimer !== undefined)
      return;
    void this.#connect();
  }

  async #connect(): Promise<void> {
    this.#connecting = true;
    const client = this.#options.createClient();
    client.on("notification", ({ payload }) => {
      if (client === this.#client) this.#options.onNotification(payload ?? "");
    });
    // 'error' must have a listener (or it crashes the process); both mean the connection is gone.
    client.on("error", () => this.#lost(client));
    client.on("end", () => this.#lost(client));
    try {
      await client.connect();
      await client.query(this.#options.listenSql);
    } catch {
      this.#connecting = false;
      client.end().catch(() => {});
      this.#scheduleRetry();
      return;
    }
    this.#connecting = false;
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#delayMs = this.#minDelayMs;
    unref(client);
    this.#options.onListening();
  }

  /** The live connection failed; a failing connection attempt is handled by `#connect`. */
  #lost(client: ListenerClient): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    // With nobody parked there is nothing to wake; the next `retain` connects again.
    if (this.#closed || this.#holders === 0) return;
    const delayMs = this.#delayMs;
    this.#delayMs = Math.min(delayMs * 2, this.#maxDelayMs);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#ensureConnected();
    }, delayMs);
    this.#retryTimer.unref();
  }
}

/**
 * pg clients have `unref()` (it unrefs their socket) but @types/pg does not declare it. An
 * unref'd listener never keeps the process alive, like the pool's idle connections
 * (`allowExitOnIdle`).
 */
function unref(client: ListenerClient): void {
  if ("unref" in client && typeof client.unref === "function") client.unref();
}
