import { AsmError } from "../core/errors.js";
import { isTerminalRunStatus, type Run } from "../core/run.js";
import type { SessionStore } from "../ports/session-store.js";
import {
  ApprovalGate,
  type ApprovalGateOptions,
  type ApprovalRequest,
  type ApprovalRequestInput,
} from "./approvals.js";

/** The `run_cancelled` reason of a run stopped to wait for an approval. */
export const APPROVAL_REQUESTED_REASON = "approval_requested";

/** The part of `SessionManager` the helper uses (so this layer does not import the manager). */
export interface RunCanceller {
  readonly store: SessionStore;
  cancelRun(runId: string, reason?: string): Promise<Run>;
}

/**
 * The cancel-and-resume pattern: stops a run to wait for a person's decision. It logs the
 * `tool_approval_requested` first, so whoever sees the run's `run_cancelled` (reason
 * `"approval_requested"`) finds the request already pending, then cancels the run.
 *
 * To resume: once the request is granted (`ApprovalGate.approve`, from any process), start a new
 * run in the same session — the session stays active — with whatever input carries on the work
 * (for instance the approved tool call); a denied or expired request means not resuming.
 *
 * Only a run that has not ended can be paused: for a completed, failed, cancelled or timed-out
 * run it rejects with `invalid_status` and writes nothing (the request is stored only while the
 * run is still pending or running, in one transaction with that check). Resolves with the run as
 * finally stored and the request; the run is `cancelled` unless it ended otherwise between the
 * request and the cancel.
 */
export async function cancelForApproval(
  manager: RunCanceller,
  runId: string,
  approval: ApprovalRequestInput,
  options: ApprovalGateOptions = {},
): Promise<{ run: Run; request: ApprovalRequest }> {
  const gate = new ApprovalGate(manager.store, options);
  const request = await requestWhileRunning(gate, manager.store, runId, approval);
  const run = await manager.cancelRun(runId, APPROVAL_REQUESTED_REASON);
  return { run, request };
}

/** Stores the request if and only if the run has not ended, else `invalid_status`. */
async function requestWhileRunning(
  gate: ApprovalGate,
  store: SessionStore,
  runId: string,
  approval: ApprovalRequestInput,
): Promise<ApprovalRequest> {
  // A run's status only moves forward (pending → running → ended), so this ends within three reads.
  for (;;) {
    const run = await store.getRun(runId);
    if (isTerminalRunStatus(run.status)) {
      throw new AsmError("invalid_status", `run ${runId} has already ended (${run.status})`, {
        details: { runId, status: run.status },
        hint: "only a pending or running run can be paused for an approval",
      });
    }
    try {
      return await gate.requestWhileRunIs(run, approval);
    } catch (error) {
      // The run moved on between the read and the write, and nothing was written: read it again.
      if (!AsmError.is(error, "invalid_transition")) throw error;
    }
  }
}
