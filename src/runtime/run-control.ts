import { AsmError } from "../core/errors.js";
import { isTerminalRunStatus, type Run } from "../core/run.js";
import type { SessionStore } from "../ports/session-store.js";

/**
 * What `RunControl` drives: a `SessionManager`, or a `SessionServer` (which also takes a cancelled
 * run out of its queue). Both have these.
 */
export interface RunControlTarget {
  readonly store: SessionStore;
  cancelRun(runId: string, reason?: string): Promise<Run>;
  interruptRun(runId: string, reason?: string): Promise<Run>;
}

export type RunControlOperation = "interrupt" | "cancel" | "pause" | "resume";

/**
 * Where a run stands for run control: its stored status, with a cancel that came from an
 * interrupt told apart (`interrupted`).
 */
export type RunControlState =
  | "pending"
  | "running"
  | "interrupted"
  | "cancelled"
  | "completed"
  | "failed"
  | "timeout";

/** One operation asked of a run, and what came of it. */
export interface RunControlRecord {
  operation: RunControlOperation;
  /** When it was asked, ISO 8601. */
  at: string;
  /** `applied`; `no_op` (the run already was where the operation leads, or ended first); `refused` (`errorCode`). */
  outcome: "applied" | "no_op" | "refused";
  /** The run's state after the operation. */
  state: RunControlState;
  errorCode?: string;
}

export interface RunControlStatus {
  runId: string;
  state: RunControlState;
  lastOperation?: RunControlOperation;
  /** The operations asked of the run through this object, oldest first. */
  history: RunControlRecord[];
}

/** The outcome of one run's operation within `cancelAll` / `interruptSession`. */
export type RunControlResult = { ok: true; status: RunControlStatus } | { ok: false; error: AsmError };

/**
 * Run control operations (the seed's ControlOperations) over a manager or a session server:
 * `interrupt` (stop the current turn, keep the provider's session resumable: its native interrupt
 * where it has one, else a cancel), `cancel`, `pause` / `resume` (no provider supports them:
 * `capability_not_supported`), `cancelAll` and `interruptSession`, each with a per-run status and
 * history. Every operation is idempotent: asking again for where the run already is changes
 * nothing (`no_op`). A run that ended otherwise refuses it with `invalid_operation` (cancelling an
 * interrupted or completed run, interrupting a cancelled one, pausing an ended one); an unknown
 * run is `run_not_found`.
 */
export class RunControl {
  readonly #target: RunControlTarget;
  readonly #history = new Map<string, RunControlRecord[]>();

  constructor(target: RunControlTarget) {
    this.#target = target;
  }

  /** Interrupts the run; resolves with its status once it ended (`interrupted`, or how it ended first). */
  interrupt(runId: string, reason = "interrupted by caller"): Promise<RunControlStatus> {
    return this.#stop(runId, "interrupt", "interrupted", () => this.#target.interruptRun(runId, reason));
  }

  /** Cancels the run; resolves with its status once it ended (`cancelled`, or how it ended first). */
  cancel(runId: string, reason = "cancelled by caller"): Promise<RunControlStatus> {
    return this.#stop(runId, "cancel", "cancelled", () => this.#target.cancelRun(runId, reason));
  }

  /** No provider can pause a run: `capability_not_supported` (after `run_not_found` / `invalid_operation`). */
  pause(runId: string): Promise<RunControlStatus> {
    return this.#unsupported(runId, "pause");
  }

  /** No provider can resume a paused run: `capability_not_supported`, as `pause`. */
  resume(runId: string): Promise<RunControlStatus> {
    return this.#unsupported(runId, "resume");
  }

  /** Cancels every run of the session that has not ended (pending or running); by run id. */
  async cancelAll(
    sessionId: string,
    reason = "cancelled by caller",
  ): Promise<Record<string, RunControlResult>> {
    const runs = await this.#target.store.listRuns(sessionId, { limit: 1000 });
    return settleEach(
      runs.filter((run) => !isTerminalRunStatus(run.status)),
      (run) => this.cancel(run.id, reason),
    );
  }

  /** Interrupts every running run of the session (queued runs stay queued); by run id. */
  async interruptSession(
    sessionId: string,
    reason = "interrupted by caller",
  ): Promise<Record<string, RunControlResult>> {
    const runs = await this.#target.store.listRuns(sessionId, { status: "running", limit: 1000 });
    return settleEach(runs, (run) => this.interrupt(run.id, reason));
  }

  /** The run's state, last operation and history. */
  async status(runId: string): Promise<RunControlStatus> {
    return this.#status(runId, await this.#stateOf(await this.#target.store.getRun(runId)));
  }

  async #stop(
    runId: string,
    operation: "interrupt" | "cancel",
    leadsTo: RunControlState,
    stop: () => Promise<Run>,
  ): Promise<RunControlStatus> {
    const at = new Date().toISOString();
    const before = await this.#stateOf(await this.#target.store.getRun(runId));
    if (before === leadsTo) return this.#record(runId, { operation, at, outcome: "no_op", state: before });
    if (isEnded(before)) throw this.#refuse(runId, operation, at, before);
    const state = await this.#stateOf(await stop());
    return this.#record(runId, { operation, at, outcome: state === leadsTo ? "applied" : "no_op", state });
  }

  async #unsupported(runId: string, operation: "pause" | "resume"): Promise<RunControlStatus> {
    const at = new Date().toISOString();
    const state = await this.#stateOf(await this.#target.store.getRun(runId));
    if (isEnded(state)) throw this.#refuse(runId, operation, at, state);
    this.#record(runId, { operation, at, outcome: "refused", state, errorCode: "capability_not_supported" });
    throw new AsmError("capability_not_supported", `no provider can ${operation} a run (run ${runId})`, {
      details: { runId, operation },
      hint: "interrupt the run instead: the provider's session stays resumable for the next run",
    });
  }

  #refuse(runId: string, operation: RunControlOperation, at: string, state: RunControlState): AsmError {
    this.#record(runId, { operation, at, outcome: "refused", state, errorCode: "invalid_operation" });
    return new AsmError("invalid_operation", `cannot ${operation} run ${runId}: it has ended (${state})`, {
      details: { runId, operation, state },
    });
  }

  #record(runId: string, record: RunControlRecord): RunControlStatus {
    const history = this.#history.get(runId) ?? [];
    history.push(record);
    this.#history.set(runId, history);
    return this.#status(runId, record.state);
  }

  #status(runId: string, state: RunControlState): RunControlStatus {
    const history = [...(this.#history.get(runId) ?? [])];
    const last = history.at(-1);
    return { runId, state, ...(last ? { lastOperation: last.operation } : {}), history };
  }

  /** The run's state: its status, a cancel by interrupt told apart by its `run_cancelled` event. */
  async #stateOf(run: Run): Promise<RunControlState> {
    if (run.status !== "cancelled") return run.status;
    const [cancel] = await this.#target.store.getEvents(run.sessionId, {
      runId: run.id,
      types: ["run_cancelled"],
      limit: 1,
    });
    return cancel?.data.interrupted === true ? "interrupted" : "cancelled";
  }
}

function isEnded(state: RunControlState): boolean {
  return state !== "pending" && state !== "running";
}

async function settleEach(
  runs: readonly Run[],
  operate: (run: Run) => Promise<RunControlStatus>,
): Promise<Record<string, RunControlResult>> {
  const results = await Promise.all(
    runs.map(async (run): Promise<[string, RunControlResult]> => {
      try {
        return [run.id, { ok: true, status: await operate(run) }];
      } catch (error) {
        return [run.id, { ok: false, error: AsmError.from(error) }];
      }
    }),
  );
  return Object.fromEntries(results);
}
