/**
 * WAL checkpoints run after readers are woken, not inside the commit that wakes them.
 *
 * SQLite checkpoints a WAL on its own once a commit takes it past 1000 pages
 * (`wal_autocheckpoint`), inside that commit: the writer stalls for milliseconds (copying the
 * pages into the database file and syncing it) before `appendEvents` returns and a parked
 * follower is woken. That stall was most of the in-process append→follower p99. So the store
 * counts what its appends write and, well before SQLite's own threshold, runs a PASSIVE
 * checkpoint itself on the next turn of the event loop: followers woken by the commit read
 * first. SQLite's auto-checkpoint stays on as the safety net for writes this does not count
 * (imports, retention pruning) or counts low (very large events).
 */

/**
 * Estimated WAL pages after which a checkpoint is scheduled: below SQLite's 1000, so that this
 * one, not SQLite's in a commit, nearly always runs first (measured over a 100k-event ingest:
 * the commits that stalled over 4 ms fell from 25–54 to 0–35, with the same throughput).
 */
export const CHECKPOINT_AFTER_PAGES = 800;
/**
 * WAL pages a commit of `rows` events writes, estimated (measured with ~200-character deltas:
 * 6 pages for one event, 29 for 64, 60 for 256, 102 for 512): the session row and the last
 * leaf of each index every time, then the rows and their index entries. Large events are
 * underestimated; SQLite's own auto-checkpoint then still bounds the WAL.
 */
function estimatePages(rows: number): number {
  return 8 + Math.ceil(rows / 4);
}

export class CheckpointScheduler {
  readonly #checkpoint: () => void;
  #pages = 0;
  #scheduled = false;
  #stopped = false;

  /** `checkpoint` runs `PRAGMA wal_checkpoint(PASSIVE)`; its failure is left to the next one. */
  constructor(checkpoint: () => void) {
    this.#checkpoint = checkpoint;
  }

  /** Counts a committed transaction that wrote `rows` events. */
  committed(rows: number): void {
    this.#pages += estimatePages(rows);
    if (this.#pages < CHECKPOINT_AFTER_PAGES || this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#stopped) return;
      this.#pages = 0;
      try {
        this.#checkpoint();
      } catch {
        // A checkpoint that cannot run now (another connection holds the lock, the disk is
        // full) loses nothing: the WAL keeps the pages, and the next one or SQLite's own
        // auto-checkpoint moves them.
      }
    });
  }

  /** No checkpoint runs after this (the store is closing). */
  stop(): void {
    this.#stopped = true;
  }
}
