import type { AsmEvent } from "../../core/events.js";
import type { ApprovalRequest } from "../../policy/approvals.js";
import { cost, duration, json } from "./format.js";

export interface ApprovalActions {
  /** Open requests by approval id: only these get buttons. */
  pending: ReadonlyMap<string, ApprovalRequest>;
  decide(approvalId: string, decision: "approve" | "deny"): void;
}

/** One `<li>` per stored event, in sequence order; `data-sequence` is the event's place in the log. */
export function Timeline({ events, approvals }: { events: readonly AsmEvent[]; approvals: ApprovalActions }) {
  return (
    <ol class="timeline" aria-label="Event timeline">
      {events.map((event) => (
        <li
          key={event.sequence}
          data-sequence={event.sequence}
          data-type={event.type}
          class={`event kind-${kindOf(event)}`}
        >
          <span class="seq">
            <span class="sr-only">sequence </span>#{event.sequence}
          </span>
          <span class="type">{event.type.replaceAll("_", " ")}</span>
          <span class="run-ref">{event.runId?.slice(0, 12) ?? ""}</span>
          <time dateTime={event.timestamp}>{new Date(event.timestamp).toLocaleTimeString()}</time>
          <div class="body">
            <EventBody event={event} approvals={approvals} />
          </div>
        </li>
      ))}
    </ol>
  );
}

function kindOf(event: AsmEvent): string {
  if (event.type === "error_occurred" || event.type === "run_failed" || event.type === "tool_call_failed")
    return "error";
  if (event.type === "policy_violation" || event.type === "tool_approval_denied") return "warning";
  if (event.type.startsWith("tool_")) return "tool";
  if (event.type.startsWith("message_")) return "message";
  return "info";
}

function EventBody({ event, approvals }: { event: AsmEvent; approvals: ApprovalActions }) {
  switch (event.type) {
    case "message_streamed":
      return (
        <pre class={`text ${event.data.stream === "stderr" ? "stderr" : ""}`}>
          {event.data.stream ? <span class="stream">{event.data.stream}: </span> : null}
          {event.data.delta}
        </pre>
      );
    case "message_sent":
    case "message_received":
      return (
        <pre class="text">
          <span class="stream">{event.data.role}: </span>
          {json(event.data.content)}
        </pre>
      );
    case "tool_call_started":
      return (
        <details>
          <summary>
            <strong>{event.data.toolName}</strong> input
          </summary>
          <pre>{json(event.data.toolInput)}</pre>
        </details>
      );
    case "tool_call_completed":
      return (
        <details>
          <summary>
            <strong>{event.data.toolName}</strong> output
          </summary>
          <pre>{json(event.data.toolOutput)}</pre>
        </details>
      );
    case "tool_call_failed":
    case "error_occurred":
    case "run_failed":
      return <pre class="text">{json(event.data)}</pre>;
    case "token_usage_updated":
      return (
        <span>
          in {event.data.inputTokens} · out {event.data.outputTokens}
        </span>
      );
    case "run_completed":
      return (
        <span>
          {event.data.stopReason} · {duration(event.data.durationMs)} · {cost(event.data.costUsd)}
        </span>
      );
    case "policy_violation":
      return (
        <span>
          <strong>{event.data.policy}</strong>: {event.data.kind} → {event.data.action}
        </span>
      );
    case "workspace_diff_computed":
      return (
        <span>
          {event.data.filesChanged} files, +{event.data.insertions} −{event.data.deletions}
        </span>
      );
    case "tool_approval_requested": {
      const approvalId = event.data.approvalId;
      const open = approvalId ? approvals.pending.get(approvalId) : undefined;
      return (
        <div>
          <strong>{event.data.toolName}</strong> needs approval ({event.data.policyName})
          {event.data.toolInput ? <pre>{json(event.data.toolInput)}</pre> : null}
          {open && approvalId ? (
            <DecisionButtons approvalId={approvalId} toolName={event.data.toolName} approvals={approvals} />
          ) : null}
        </div>
      );
    }
    case "tool_approval_granted":
    case "tool_approval_denied":
      return <span>{json(event.data, 300)}</span>;
    default:
      return Object.keys(event.data).length > 0 ? <span class="data">{json(event.data, 300)}</span> : null;
  }
}

export function DecisionButtons({
  approvalId,
  toolName,
  approvals,
}: {
  approvalId: string;
  toolName: string;
  approvals: ApprovalActions;
}) {
  return (
    <span class="decision">
      <button type="button" class="approve" onClick={() => approvals.decide(approvalId, "approve")}>
        Approve <span class="sr-only">{toolName}</span>
      </button>
      <button type="button" class="deny" onClick={() => approvals.decide(approvalId, "deny")}>
        Deny <span class="sr-only">{toolName}</span>
      </button>
    </span>
  );
}
