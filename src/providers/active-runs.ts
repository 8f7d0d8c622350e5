import { AsmError } from "../core/errors.js";

/** One run being executed, as seen by the adapter that executes it. */
export interface TrackedRun {
  /** Aborts when the caller's signal aborts or `cancel(runId)` is called, whichever comes first. */
  readonly signal: AbortSignal;
  /** Stops tracking the run. Idempotent; call it when the run settles (in a `finally`). */
  release(): void;
}

/**
 * The runs an adapter is executing, so that `ProviderAdapter.cancel(runId)` can be built on the
 * same AbortSignal path as the caller's own signal: the adapter only ever watches one signal.
 *
 * ```ts
 * return this.#active.runTracked(request.run.id, signal, (runSignal) => work(runSignal));
 * // and: cancel(runId) { return this.#active.cancelAndWait(runId); }
 * ```
 */
export class ActiveRuns {
  readonly #runs = new Map<string, { controller: AbortController; released: Promise<void> }>();

  /**
   * Starts tracking `runId`. Throws `invalid_operation` if it is already tracked: two executions of
   * one run on one adapter would make `cancel(runId)` ambiguous.
   */
  track(runId: string, callerSignal: AbortSignal): TrackedRun {
    if (this.#runs.has(runId)) {
      throw new AsmError("invalid_operation", `run ${runId} is already executing on this adapter`, {
        details: { runId },
      });
    }
    const controller = new AbortController();
    // A listener removed on release rather than AbortSignal.any(): a long-lived caller signal (one
    // per session or per process) must not collect a dependant for every run it ever saw.
    const onCallerAbort = (): void => controller.abort(callerSignal.reason);
    if (callerSignal.aborted) controller.abort(callerSignal.reason);
    else callerSignal.addEventListener("abort", onCallerAbort, { once: true });
    let markReleased = (): void => {};
    const released = new Promise<void>((resolve) => {
      markReleased = resolve;
    });
    this.#runs.set(runId, { controller, released });

    let done = false;
    return {
      signal: controller.signal,
      release: () => {
        if (done) return;
        done = true;
        callerSignal.removeEventListener("abort", onCallerAbort);
        // Safe without an identity check: the id cannot be tracked again until this release.
        this.#runs.delete(runId);
        markReleased();
      },
    };
  }

  /**
   * `work` with `runId` tracked (see `track`), given the run's signal; released once `work` settles.
   * Call it before anything is awaited, so that `cancel(runId)` works from the first moment.
   */
  async runTracked<T>(
    runId: string,
    callerSignal: AbortSignal,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const tracked = this.track(runId, callerSignal);
    try {
      return await work(tracked.signal);
    } finally {
      tracked.release();
    }
  }

  /**
   * Aborts the tracked run's signal. Returns false when the run is not tracked (never started,
   * or already released). Cancelling twice returns true both times: the run is still executing.
   */
  cancel(runId: string, reason?: unknown): boolean {
    const run = this.#runs.get(runId);
    if (run === undefined) return false;
    run.controller.abort(
      reason ?? new AsmError("cancelled", `run ${runId} was cancelled`, { details: { runId } }),
    );
    return true;
  }

  /**
   * `cancel`, resolving only once the run is released — for an adapter, once its `execute` has
   * settled, which it does only after the run's processes are confirmed gone. What
   * `ProviderAdapter.cancel(runId)` returns: a caller that awaits it may rely on nothing of the
   * run still running.
   */
  async cancelAndWait(runId: string, reason?: unknown): Promise<boolean> {
    const run = this.#runs.get(runId);
    if (run === undefined || !this.cancel(runId, reason)) return false;
    await run.released;
    return true;
  }

  has(runId: string): boolean {
    return this.#runs.has(runId);
  }

  /** How many runs are being tracked. */
  get size(): number {
    return this.#runs.size;
  }
}
