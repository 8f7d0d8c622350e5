import type { Run } from "../core/run.js";
import type { RunOutcome } from "../ports/run-extension.js";

/**
 * The in-process state of one executing run: its abort controller and a one-shot latch that
 * settles the race between the provider finishing, a cancel, a timeout and a storage failure.
 * The store's compare-and-set on the run's status settles the same race across processes.
 */
export class RunExecution {
  readonly controller = new AbortController();
  readonly decided: Promise<RunOutcome>;
  /** Resolves with the run as finally stored. */
  readonly finished: Promise<Run>;
  private outcomeValue: RunOutcome | undefined;
  private resolveDecided!: (outcome: RunOutcome) => void;
  private resolveFinished!: (run: Run) => void;

  constructor(readonly sessionId: string) {
    this.decided = new Promise((resolve) => {
      this.resolveDecided = resolve;
    });
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  get outcome(): RunOutcome | undefined {
    return this.outcomeValue;
  }

  /** Records the outcome if none was decided yet; stops the provider unless it completed. */
  decide(outcome: RunOutcome): boolean {
    if (this.outcomeValue) return false;
    this.outcomeValue = outcome;
    if (outcome.status !== "completed") this.controller.abort(outcome);
    this.resolveDecided(outcome);
    return true;
  }

  finish(run: Run): void {
    this.resolveFinished(run);
  }
}
