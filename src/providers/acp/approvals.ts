import { setTimeout as sleep } from "node:timers/promises";
import type { ApprovalGate } from "../../policy/approvals.js";

/** One permission request an agent made, as the adapter hands it on. */
export interface AcpApprovalRequest {
  sessionId: string;
  runId: string;
  /** Canonical tool name (from the call's kind). */
  toolName: string;
  toolCallId: string;
  toolInput: Record<string, unknown>;
}

/** Decides permission requests the run's rules leave open: true to allow. */
export interface AcpApprovals {
  decide(request: AcpApprovalRequest, signal: AbortSignal): Promise<boolean>;
}

/** Options of `approvalGateApprovals`. */
export interface ApprovalGateApprovalsOptions {
  /** The `policyName` the requests carry. Default `"acp"`. */
  policyName?: string;
  /** How long a request stays open; then it counts as denied. Default: the gate's (`DEFAULT_APPROVAL_TTL_MS`). */
  ttlMs?: number;
  /** How often the log is read for the decision. Default 250 ms. */
  pollMs?: number;
}

/**
 * Durable approvals through an `ApprovalGate`: each open request is logged as a
 * `tool_approval_requested` event of the run, and the agent waits until a person (or a
 * dashboard) decides it with `gate.approve`/`gate.deny`, from any process, or it expires
 * (denied). A cancelled run stops waiting and the request is refused.
 */
export function approvalGateApprovals(
  gate: Pick<ApprovalGate, "request" | "get">,
  options: ApprovalGateApprovalsOptions = {},
): AcpApprovals {
  const pollMs = options.pollMs ?? 250;
  return {
    async decide(request, signal) {
      const opened = await gate.request(
        { sessionId: request.sessionId, runId: request.runId },
        {
          toolName: request.toolName,
          toolCallId: request.toolCallId,
          toolInput: request.toolInput,
          policyName: options.policyName ?? "acp",
          ...(options.ttlMs !== undefined ? { ttlMs: options.ttlMs } : {}),
        },
      );
      while (!signal.aborted) {
        const { state } = await gate.get(request.sessionId, opened.approvalId);
        if (state !== "pending") return state === "granted";
        await sleep(pollMs, undefined, { signal }).catch(() => undefined);
      }
      return false;
    },
  };
}
