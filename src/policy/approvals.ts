import { AsmError } from "../core/errors.js";
import type { AsmEvent, EventData, EventDraft, EventOf, EventType } from "../core/events.js";
import { newId } from "../core/ids.js";
import { createRedactor, type RedactionOptions, type Redactor } from "../core/redaction.js";
import type { Run } from "../core/run.js";
import { MAX_EVENT_PAGE, type SessionStore } from "../ports/session-store.js";
import { DEFAULT_APPROVAL_TTL_MS } from "./policy.js";

/** What a person is asked to approve. */
export interface ApprovalRequestInput {
  /** The tool to approve; `"*"` for a run-wide budget that no single tool call went over. */
  toolName: string;
  toolCallId?: string;
  toolInput?: Record<string, unknown>;
  /** The policy that asks. */
  policyName: string;
  /** The violation's kind (`tool_denied`, `budget_exceeded`), when a violation asks. */
  violationKind?: string;
  /** How long the request stays open; after that it counts as denied. Default `DEFAULT_APPROVAL_TTL_MS`. */
  ttlMs?: number;
}

/** An open or decided request, as read back from its `tool_approval_requested` event. */
export interface ApprovalRequest {
  approvalId: string;
  sessionId: string;
  runId?: string;
  toolName: string;
  toolCallId?: string;
  toolInput?: Record<string, unknown>;
  policyName: string;
  violationKind?: string;
  /** ISO 8601. */
  requestedAt: string;
  /** ISO 8601. Absent on requests other code logged without one: those never expire. */
  expiresAt?: string;
}

/** A stored decision: a `tool_approval_granted` or `tool_approval_denied` event. */
export interface ApprovalDecision {
  approvalId: string;
  status: "granted" | "denied";
  /** Why it was denied: the decider's reason, or `"expired"` when nobody decided in time. */
  reason?: string;
  /** Who decided; absent on an expiry. */
  by?: string;
  note?: string;
  /** ISO 8601. */
  decidedAt: string;
}

export interface DecisionResult {
  /** The decision that stands. */
  decision: ApprovalDecision;
  /**
   * True when this call's decision is the one stored. False when the request had been decided
   * already (here or in another process), or had expired: `decision` then says what stands.
   */
  decidedNow: boolean;
}

/**
 * Where a request stands: `pending` (open), `granted`, `denied`, or `expired` (open past its
 * expiry, which counts as denied; `expire()` logs the denial).
 */
export type ApprovalState = "pending" | "granted" | "denied" | "expired";

export interface ApprovalRecord {
  request: ApprovalRequest;
  decision?: ApprovalDecision;
  state: ApprovalState;
}

export interface ApprovalGateOptions {
  /** The clock expiries are judged by (epoch ms). Default `Date.now`. */
  now?: () => number;
  /**
   * Redact secrets (in a request's tool input, a decision's note or reason) before they are
   * stored, as `SessionManagerOptions.redaction` does: `true` or options. Default: off.
   */
  redaction?: boolean | RedactionOptions;
}

/** The `reason` of a denial written because the request expired. */
export const EXPIRED_REASON = "expired";

const APPROVAL_EVENT_TYPES: readonly EventType[] = [
  "tool_approval_requested",
  "tool_approval_granted",
  "tool_approval_denied",
];

/** A new, unguessable approval id such as `apr_3f0c…`. */
export function newApprovalId(): string {
  return `apr_${globalThis.crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * The id of an approval's decision event. Every decision of one approval (grant, denial, expiry,
 * from any process) is appended under this id, so the store's idempotent append lets exactly
 * one be stored: the first. That is what makes a decision consumed once.
 */
export function decisionEventId(approvalId: string): string {
  return `evt_decision_${approvalId}`;
}

/** The `tool_approval_requested` data of a new request, opened at `now` (epoch ms). */
export function approvalRequestData(
  input: ApprovalRequestInput,
  now: number,
): EventData<"tool_approval_requested"> {
  const {
    toolName,
    toolCallId,
    toolInput,
    policyName,
    violationKind,
    ttlMs = DEFAULT_APPROVAL_TTL_MS,
  } = input;
  return {
    approvalId: newApprovalId(),
    toolName,
    ...(toolCallId !== undefined ? { toolCallId } : {}),
    ...(toolInput !== undefined ? { toolInput } : {}),
    policyName,
    ...(violationKind !== undefined ? { violationKind } : {}),
    expiresAt: new Date(now + ttlMs).toISOString(),
  };
}

/** Reads a request back from its event; `undefined` for one logged without an `approvalId`. */
export function toApprovalRequest(event: EventOf<"tool_approval_requested">): ApprovalRequest | undefined {
  const { approvalId, toolName, toolCallId, toolInput, policyName, violationKind, expiresAt } = event.data;
  if (!approvalId) return undefined;
  return {
    approvalId,
    sessionId: event.sessionId,
    ...(event.runId !== undefined ? { runId: event.runId } : {}),
    toolName,
    ...(toolCallId !== undefined ? { toolCallId } : {}),
    ...(toolInput !== undefined ? { toolInput } : {}),
    policyName,
    ...(violationKind !== undefined ? { violationKind } : {}),
    requestedAt: event.timestamp,
    ...(typeof expiresAt === "string" ? { expiresAt } : {}),
  };
}

/**
 * Human-in-the-loop decisions on approval requests, kept in the session's event log and nowhere
 * else: a request is its `tool_approval_requested` event, a decision its `tool_approval_granted`
 * or `tool_approval_denied` event. So approvals survive restarts and work across processes on
 * any durable store, with no table of their own.
 *
 * A decision is consumed once: the first one stored stands, and later attempts are told so
 * (`decidedNow: false`) rather than failing, because a double click or a second reviewer is an
 * ordinary event, not an error. A request left open past its `expiresAt` counts as denied:
 * `pending` leaves it out, `approve` and `deny` log its denial with reason `"expired"`, and
 * `expire` logs the denials of all of a session's expired requests.
 */
export class ApprovalGate {
  private readonly now: () => number;
  private readonly redactor: Redactor | undefined;

  constructor(
    private readonly store: SessionStore,
    options: ApprovalGateOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.redactor = createRedactor(options.redaction);
  }

  /** Logs a new request (outside any run's pipeline) and returns it. */
  async request(
    target: { sessionId: string; runId?: string },
    input: ApprovalRequestInput,
  ): Promise<ApprovalRequest> {
    return storedRequest(await this.store.appendEvent(this.requestDraft(target, input)));
  }

  /**
   * Logs a new request for `run` only if the stored run still has the status `run` was read
   * with: the request is appended in one transaction with an unchanged save of the run, guarded
   * by that status. A run that moved on meanwhile rejects with `invalid_transition` and nothing
   * is written, so a run that ended cannot get an orphan request.
   */
  async requestWhileRunIs(run: Run, input: ApprovalRequestInput): Promise<ApprovalRequest> {
    const draft = this.requestDraft({ sessionId: run.sessionId, runId: run.id }, input);
    const [stored] = await this.store.saveRun(run, { expectedStatus: run.status, events: [draft] });
    if (!stored) throw new AsmError("internal_error", "the store stored no approval request");
    return storedRequest(stored);
  }

  private requestDraft(
    target: { sessionId: string; runId?: string },
    input: ApprovalRequestInput,
  ): EventDraft {
    const now = this.now();
    return this.redact({
      id: newId("evt"),
      type: "tool_approval_requested",
      sessionId: target.sessionId,
      ...(target.runId !== undefined ? { runId: target.runId } : {}),
      timestamp: new Date(now).toISOString(),
      data: approvalRequestData(input, now),
      metadata: {},
    });
  }

  /** The session's open requests, oldest first; expired ones are left out. */
  async pending(sessionId: string): Promise<ApprovalRequest[]> {
    const now = this.now();
    const { requests, decisions } = await this.readLog(sessionId);
    return [...requests.values()].filter(
      (request) => !decisions.has(request.approvalId) && !isExpired(request, now),
    );
  }

  /** One request and where it stands. Rejects with `not_found` for an unknown id. */
  async get(sessionId: string, approvalId: string): Promise<ApprovalRecord> {
    const { request, decision } = await this.find(sessionId, approvalId);
    if (decision) return { request, decision, state: decision.status };
    return { request, state: isExpired(request, this.now()) ? "expired" : "pending" };
  }

  /** Grants a request, unless it was decided already or has expired (see `DecisionResult`). */
  approve(
    sessionId: string,
    approvalId: string,
    options: { by?: string; note?: string } = {},
  ): Promise<DecisionResult> {
    return this.decide(sessionId, approvalId, { ...options, status: "granted" });
  }

  /** Denies a request, unless it was decided already or has expired. Default reason `"denied"`. */
  deny(
    sessionId: string,
    approvalId: string,
    options: { by?: string; reason?: string; note?: string } = {},
  ): Promise<DecisionResult> {
    return this.decide(sessionId, approvalId, {
      ...options,
      status: "denied",
      reason: options.reason ?? "denied",
    });
  }

  /** Logs the denial of every expired open request of the session; returns the denials this call stored. */
  async expire(sessionId: string): Promise<ApprovalDecision[]> {
    const now = this.now();
    const { requests, decisions } = await this.readLog(sessionId);
    const expired = [...requests.values()].filter(
      (request) => !decisions.has(request.approvalId) && isExpired(request, now),
    );
    const denials: ApprovalDecision[] = [];
    for (const request of expired) {
      const { decision, decidedNow } = await this.write(request, {
        status: "denied",
        reason: EXPIRED_REASON,
      });
      if (decidedNow) denials.push(decision);
    }
    return denials;
  }

  private async decide(sessionId: string, approvalId: string, verdict: Verdict): Promise<DecisionResult> {
    const { request, decision } = await this.find(sessionId, approvalId);
    if (decision) return { decision, decidedNow: false };
    if (isExpired(request, this.now())) {
      const expiry = await this.write(request, { status: "denied", reason: EXPIRED_REASON });
      return { decision: expiry.decision, decidedNow: false };
    }
    return this.write(request, verdict);
  }

  /**
   * Appends the decision under the approval's one decision id. If another decision got there
   * first, the store answers with that one; a random attempt id tells the two apart even when
   * both say the same thing.
   */
  private async write(request: ApprovalRequest, verdict: Verdict): Promise<DecisionResult> {
    const attempt = globalThis.crypto.randomUUID();
    const { status, reason, by, note } = verdict;
    const data = {
      approvalId: request.approvalId,
      toolName: request.toolName,
      ...(request.toolCallId !== undefined ? { toolCallId: request.toolCallId } : {}),
      ...(reason !== undefined ? { reason } : {}),
      ...(by !== undefined ? { by } : {}),
      ...(note !== undefined ? { note } : {}),
    };
    const envelope = {
      id: decisionEventId(request.approvalId),
      sessionId: request.sessionId,
      ...(request.runId !== undefined ? { runId: request.runId } : {}),
      timestamp: new Date(this.now()).toISOString(),
      metadata: { decisionAttempt: attempt },
    };
    const draft: EventDraft =
      status === "granted"
        ? { ...envelope, type: "tool_approval_granted", data }
        : { ...envelope, type: "tool_approval_denied", data };
    const stored = await this.store.appendEvent(this.redact(draft));
    const decision = toDecision(stored);
    if (!decision) throw new AsmError("internal_error", `event ${stored.id} is not an approval decision`);
    return { decision, decidedNow: stored.metadata.decisionAttempt === attempt };
  }

  private redact(draft: EventDraft): EventDraft {
    return this.redactor ? this.redactor.redactEvent(draft).value : draft;
  }

  private async find(
    sessionId: string,
    approvalId: string,
  ): Promise<{ request: ApprovalRequest; decision: ApprovalDecision | undefined }> {
    const { requests, decisions } = await this.readLog(sessionId);
    const request = requests.get(approvalId);
    if (!request) {
      throw new AsmError("not_found", `no approval request ${approvalId} in session ${sessionId}`, {
        details: { sessionId, approvalId },
      });
    }
    return { request, decision: decisions.get(approvalId) };
  }

  /** The session's requests and, per approval, its first decision (the one that stands). */
  private async readLog(sessionId: string): Promise<{
    requests: Map<string, ApprovalRequest>;
    decisions: Map<string, ApprovalDecision>;
  }> {
    const requests = new Map<string, ApprovalRequest>();
    const decisions = new Map<string, ApprovalDecision>();
    let after = 0;
    for (;;) {
      const page = await this.store.getEvents(sessionId, {
        after,
        limit: MAX_EVENT_PAGE,
        types: APPROVAL_EVENT_TYPES,
      });
      for (const event of page) {
        const request = event.type === "tool_approval_requested" ? toApprovalRequest(event) : undefined;
        if (request && !requests.has(request.approvalId)) requests.set(request.approvalId, request);
        const decision = toDecision(event);
        if (decision && !decisions.has(decision.approvalId)) decisions.set(decision.approvalId, decision);
      }
      const last = page.at(-1);
      if (!last || page.length < MAX_EVENT_PAGE) break;
      after = last.sequence;
    }
    return { requests, decisions };
  }
}

type Verdict = { status: "granted" | "denied"; reason?: string; by?: string; note?: string };

function isExpired(request: ApprovalRequest, now: number): boolean {
  return request.expiresAt !== undefined && Date.parse(request.expiresAt) <= now;
}

function toDecision(event: AsmEvent): ApprovalDecision | undefined {
  if (event.type !== "tool_approval_granted" && event.type !== "tool_approval_denied") return undefined;
  const { approvalId, by, note } = event.data;
  if (!approvalId) return undefined;
  const reason = event.type === "tool_approval_denied" ? event.data.reason : undefined;
  return {
    approvalId,
    status: event.type === "tool_approval_granted" ? "granted" : "denied",
    ...(reason !== undefined ? { reason } : {}),
    ...(typeof by === "string" ? { by } : {}),
    ...(typeof note === "string" ? { note } : {}),
    decidedAt: event.timestamp,
  };
}

function storedRequest(stored: AsmEvent): ApprovalRequest {
  const request = stored.type === "tool_approval_requested" ? toApprovalRequest(stored) : undefined;
  if (!request)
    throw new AsmError("internal_error", `the store answered ${stored.type} for an approval request`);
  return request;
}
