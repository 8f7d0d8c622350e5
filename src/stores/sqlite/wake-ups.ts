import { AppendNotifier, type WaitWatcher } from "../shared/append-notifier.js";

/**
 * How a long-poll on a SQLite store learns that events were appended.
 *
 * Appends in this process: every store open on the same file shares one notifier channel
 * (a module-level registry keyed by the file's real path), and each append notifies it after
 * its transaction commits, so parked readers wake at once with no polling.
 *
 * Appends by other processes: SQLite has no cross-process notification. While at least one
 * long-poll of a store is parked, one timer per store reads `PRAGMA data_version` (it changes
 * when another connection commits to the file) after 5 ms, doubling to a 200 ms cap and going
 * back to 5 ms after each change. A change wakes every parked long-poll of the store — the
 * changed session is unknown — and each re-reads its page. The timer is unref'd and stops
 * when the last long-poll ends, so an idle store costs nothing.
 */

const channels = new Map<string, { notifier: AppendNotifier; stores: number }>();

/**
 * The notifier of a store on the file `key` (its real path), sharing wake-ups with every other
 * store open on that file; `undefined` (an in-memory database) shares with nothing.
 * `detach` when the store closes.
 */
export function attachNotifier(key: string | undefined): { notifier: AppendNotifier; detach(): void } {
  if (key === undefined) return { notifier: new AppendNotifier(), detach: () => {} };
  let channel = channels.get(key);
  if (channel === undefined) {
    channel = { notifier: new AppendNotifier(), stores: 0 };
    channels.set(key, channel);
  }
  channel.stores += 1;
  const shared = channel;
  return {
    notifier: shared.notifier.share(),
    detach: () => {
      shared.stores -= 1;
      if (shared.stores === 0 && channels.get(key) === shared) channels.delete(key);
    },
  };
}

export const MIN_CHECK_DELAY_MS = 5;
export const MAX_CHECK_DELAY_MS = 200;

/** Watches `PRAGMA data_version` while retained; see the module comment. */
export class DataVersionWatcher implements WaitWatcher {
  readonly #readVersion: () => number;
  readonly #onChange: () => void;
  #holders = 0;
  #timer: NodeJS.Timeout | undefined;
  #delayMs = MIN_CHECK_DELAY_MS;
  #lastVersion = 0;

  constructor(readVersion: () => number, onChange: () => void) {
    this.#readVersion = readVersion;
    this.#onChange = onChange;
  }

  retain(): void {
    this.#holders += 1;
    if (this.#holders > 1) return;
    this.#lastVersion = this.#poll();
    this.#delayMs = MIN_CHECK_DELAY_MS;
    this.#schedule();
  }

  release(): void {
    this.#holders -= 1;
    if (this.#holders === 0) this.stop();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => this.#check(), this.#delayMs);
    // Never what keeps a process alive: each parked long-poll has its own deadline timer for that.
    this.#timer.unref();
  }

  #check(): void {
    this.#timer = undefined;
    const version = this.#poll();
    if (version === this.#lastVersion) {
      this.#delayMs = Math.min(this.#delayMs * 2, MAX_CHECK_DELAY_MS);
    } else {
      this.#lastVersion = version;
      this.#delayMs = MIN_CHECK_DELAY_MS;
      this.#onChange();
    }
    if (this.#holders > 0) this.#schedule();
  }

  #poll(): number {
    try {
      return this.#readVersion();
    } catch {
      // A failed check (say, a transient I/O error) counts as "no change": the next one retries,
      // and every parked long-poll still ends by its own deadline.
      return this.#lastVersion;
    }
  }
}
