import type { Run } from "../core/run.js";
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
 * Resolves with the run as finally stored (check `run.status`: a run that had already ended
 * keeps its status) and the request.
 */
export async function cancelForApproval(
  manager: RunCanceller,
  runId: string,
  approval: ApprovalRequestInput,
  options: ApprovalGateOptions = {},
): Promise<{ run: Run; request: ApprovalRequest }> {
  const { sessionId } = await manager.store.getRun(runId);
  const request = await new ApprovalGate(manager.store, options).request({ sessionId, runId }, approval);
  const run = await manager.cancelRun(runId, APPROVAL_REQUESTED_REASON);
  return { run, request };
}
