import { AsmError } from "../core/errors.js";
import type { AdapterEvent, AsmEvent } from "../core/events.js";
import type { JsonObject } from "../core/session.js";
import type { TokenUsage } from "../core/token-usage.js";
import type { RunCost } from "../cost/cost.js";
import { DEFAULT_PRICING, type PricingTable } from "../cost/pricing-table.js";
import { type ApprovalRequest, approvalRequestData, toApprovalRequest } from "./approvals.js";
import {
  checkLimits,
  type Evaluation,
  limitKey,
  measure,
  observeEvent,
  type PolicyState,
  startPolicyState,
  totalTokensOf,
  type Violation,
} from "./evaluator.js";
import type { Policy, PolicyAction } from "./policy.js";

/** What the enforcer needs from the run it watches (the manager's run pipeline and outcome latch). */
export interface EnforcedRun {
  /** Appends an event to the run's log, in sequence with the run's own; resolves once stored. */
  append(event: AdapterEvent): Promise<AsmEvent>;
  /** Ends the run with this failure and stops the provider; the run's first outcome wins. */
  fail(error: AsmError): void;
}

export interface PolicyEnforcerOptions {
  /** Prices for `maxCostUsd`. Default `DEFAULT_PRICING`. */
  pricing?: PricingTable;
  /** The clock (epoch ms) for durations and approval expiries. Default `Date.now`. */
  now?: () => number;
}

/** How a run fared against its policy: `RunResult.policy`. */
export interface PolicyReport {
  /** The (merged) policy's name. */
  policy: string;
  action: PolicyAction;
  /** Every violation, once each, in the order found. */
  violations: Violation[];
  /** The approval requests the run made, as made; `ApprovalGate` tells where they stand now. */
  approvals: ApprovalRequest[];
  /** Limits that could not be enforced, and why (`maxCostUsd` for a model without a price). */
  warnings: string[];
  /** The (merged) policy's `metadata`, when it has any. */
  metadata?: JsonObject;
}

/**
 * Enforces one policy on one executing run. It sees each event after it is stored (`observe`,
 * a pipeline listener), checks the duration on a timer as well (a stalled provider emits no
 * event to check it on), and reports each violation once:
 *
 * - a `policy_violation` event, appended through the run's pipeline;
 * - `cancel`: the run is failed with `policy_violation` on the first violation, once;
 * - `request_approval`: a `tool_approval_requested` event per violation, and the run goes on;
 * - `warn`: nothing more.
 *
 * `conclude` runs the last check on the run's final usage and cost (providers that report usage
 * only in their result are held to the limits too) and waits for the enforcer's writes.
 */
export class PolicyEnforcer {
  private state: PolicyState;
  private readonly violations: Violation[] = [];
  private readonly approvals: ApprovalRequest[] = [];
  private readonly writes: Promise<void>[] = [];
  private readonly pricing: PricingTable;
  private readonly now: () => number;
  private failureValue: AsmError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** Starts enforcing: durations count from now. */
  static start(policy: Policy, run: EnforcedRun, options: PolicyEnforcerOptions = {}): PolicyEnforcer {
    const enforcer = new PolicyEnforcer(policy, run, options);
    enforcer.armDurationTimer();
    return enforcer;
  }

  private constructor(
    readonly policy: Policy,
    private readonly run: EnforcedRun,
    options: PolicyEnforcerOptions,
  ) {
    this.pricing = options.pricing ?? DEFAULT_PRICING;
    this.now = options.now ?? Date.now;
    this.state = startPolicyState(this.now());
  }

  /** The `policy_violation` error the run must fail with (cancel mode), once a violation was seen. */
  get failure(): AsmError | undefined {
    return this.failureValue;
  }

  /** Folds one stored event of the run; an arrow function so it can be handed over as a listener. */
  readonly observe = (event: AsmEvent): void => {
    if (this.stopped) return;
    this.apply(observeEvent(this.policy, this.state, event, { now: this.now(), pricing: this.pricing }));
  };

  /**
   * The last check, on the run's final usage and cost as the manager records them; stops the
   * enforcer and resolves, once its events are stored, with the report.
   */
  async conclude(final: { tokenUsage: TokenUsage; cost: RunCost }): Promise<PolicyReport> {
    const warnings: string[] = [];
    if (!this.stopped) {
      const current = measure(this.state, { now: this.now(), pricing: this.pricing });
      this.apply(
        checkLimits(this.policy, this.state, {
          ...current,
          totalTokens: totalTokensOf(final.tokenUsage),
          costUsd: final.cost.costUsd,
        }),
      );
      this.stop();
    }
    if (this.policy.limits.maxCostUsd !== undefined && final.cost.warning) {
      warnings.push(`maxCostUsd was not enforced: ${final.cost.warning}`);
    }
    await Promise.all(this.writes);
    return {
      policy: this.policy.name,
      action: this.policy.onViolation,
      violations: [...this.violations],
      approvals: [...this.approvals],
      warnings,
      ...(this.policy.metadata ? { metadata: this.policy.metadata } : {}),
    };
  }

  /** Stops the timer and ignores later events. Idempotent. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private apply({ state, findings }: Evaluation): void {
    this.state = state;
    for (const { violation, toolCall } of findings) {
      this.violations.push(violation);
      const { policy, kind, action, details } = violation;
      this.track(this.run.append({ type: "policy_violation", data: { policy, kind, action, details } }));
      if (action === "request_approval") {
        const data = approvalRequestData(
          {
            toolName: "*",
            ...toolCall,
            policyName: policy,
            violationKind: kind,
            ...(this.policy.approvalTtlMs !== undefined ? { ttlMs: this.policy.approvalTtlMs } : {}),
          },
          this.now(),
        );
        this.track(
          this.run.append({ type: "tool_approval_requested", data }).then((event) => {
            const request = event.type === "tool_approval_requested" ? toApprovalRequest(event) : undefined;
            if (request) this.approvals.push(request);
          }),
        );
      }
    }
    const [first] = findings;
    if (first && this.policy.onViolation === "cancel" && !this.failureValue) {
      this.failureValue = new AsmError(
        "policy_violation",
        `policy "${this.policy.name}" was violated: ${summarize(first.violation)}`,
        {
          details: { policy: this.policy.name, violations: findings.map((finding) => finding.violation) },
          hint: "the run's policy_violation events list every violation",
        },
      );
      this.run.fail(this.failureValue);
    }
  }

  /** A failed write has failed the run through its pipeline already; here it must not go unhandled. */
  private track(write: Promise<unknown>): void {
    this.writes.push(
      write.then(
        () => undefined,
        () => undefined,
      ),
    );
  }

  private armDurationTimer(): void {
    const max = this.policy.limits.maxDurationMs;
    if (max === undefined || this.stopped || this.state.reported.has(limitKey("maxDurationMs"))) return;
    const remaining = max - (this.now() - this.state.startedAtMs);
    // +1 because reaching the limit is allowed and exceeding it is not; a timer that fires early re-arms.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.apply(
        checkLimits(this.policy, this.state, measure(this.state, { now: this.now(), pricing: this.pricing })),
      );
      this.armDurationTimer();
    }, Math.max(0, remaining) + 1);
  }
}

function summarize(violation: Violation): string {
  if (violation.kind === "tool_denied") {
    const { toolName, rule } = violation.details;
    return rule === "deny" ? `tool ${toolName} is denied` : `tool ${toolName} is not in the allow list`;
  }
  const { limit, actual, max } = violation.details;
  return `${limit} exceeded (${actual} > ${max})`;
}
