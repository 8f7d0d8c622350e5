import type { AsmEvent } from "../core/events.js";
import { addTokenUsage, EMPTY_TOKEN_USAGE, type TokenUsage } from "../core/token-usage.js";
import { runCost } from "../cost/cost.js";
import type { PricingTable } from "../cost/pricing-table.js";
import { isRecord } from "../utils/is-record.js";
import { LIMIT_NAMES, type LimitName, type Policy, type PolicyAction } from "./policy.js";

/** `tool_denied`: a tool rule forbids the tool. `budget_exceeded`: a limit was gone over. */
export type ViolationKind = "tool_denied" | "budget_exceeded";

interface ViolationBase {
  /**
   * What the violation is about, stable for the run: `tool:<toolCallId>` or `limit:<limit>`.
   * A key is reported once, however many later events still break the rule.
   */
  key: string;
  /** The (merged) policy's name. */
  policy: string;
  action: PolicyAction;
}

export interface ToolViolation extends ViolationBase {
  kind: "tool_denied";
  details: {
    toolName: string;
    toolCallId?: string;
    /** `deny`: a deny list names the tool. `allow`: an allow list does not. */
    rule: "allow" | "deny";
    /** The list that was broken. */
    tools: string[];
  };
}

export interface BudgetViolation extends ViolationBase {
  kind: "budget_exceeded";
  details: { limit: LimitName; max: number; actual: number };
}

/** A broken rule, as logged in `policy_violation` events and reported in `RunResult.policy`. */
export type Violation = ToolViolation | BudgetViolation;

/** The tool call a violation was found on. */
export interface ToolCallRef {
  toolName: string;
  toolCallId?: string;
  toolInput?: Record<string, unknown>;
}

/** A new violation, with the tool call behind it when there is one (for approval requests). */
export interface Finding {
  violation: Violation;
  toolCall?: ToolCallRef;
}

/** What a run has spent so far, folded from its events. Immutable: each step returns a new one. */
export interface PolicyState {
  /** When the run started executing (epoch ms); durations count from here. */
  readonly startedAtMs: number;
  /** The model `run_started` named, for pricing. */
  readonly model: string | undefined;
  /** The sum of the run's `token_usage_updated` increments. */
  readonly usage: TokenUsage;
  readonly toolCalls: number;
  /** Keys of the violations reported so far. */
  readonly reported: ReadonlySet<string>;
}

/** The figures limits are checked against. */
export interface Measures {
  /** All four token buckets together. */
  totalTokens: number;
  toolCalls: number;
  elapsedMs: number;
  /** `null` when the model has no price: `maxCostUsd` is then not enforced. */
  costUsd: number | null;
}

export interface Evaluation {
  state: PolicyState;
  /** Violations not reported before, in the order found. */
  findings: Finding[];
}

export function startPolicyState(startedAtMs: number): PolicyState {
  return {
    startedAtMs,
    model: undefined,
    usage: { ...EMPTY_TOKEN_USAGE },
    toolCalls: 0,
    reported: new Set(),
  };
}

/**
 * Folds one stored event of the run into the state and returns the violations it reveals:
 * tool rules on `tool_call_started` (only there, so a call is judged once, not again when it
 * completes) and every limit against the totals after this event at time `now`.
 */
export function observeEvent(
  policy: Policy,
  state: PolicyState,
  event: AsmEvent,
  context: { now: number; pricing: PricingTable },
): Evaluation {
  let next = state;
  let toolCall: ToolCallRef | undefined;
  const candidates: Finding[] = [];
  switch (event.type) {
    case "run_started":
      if (next.model === undefined && event.data.model) next = { ...next, model: event.data.model };
      break;
    case "token_usage_updated":
      // Counts that failed their schema are not numbers to add (the manager skips them too).
      if (!event.metadata.validationIssues) next = { ...next, usage: addTokenUsage(next.usage, event.data) };
      break;
    case "tool_call_started": {
      next = { ...next, toolCalls: next.toolCalls + 1 };
      const { toolName, toolCallId, toolInput } = event.data;
      // A call without a name cannot be matched; it still counts against maxToolCalls.
      if (typeof toolName === "string" && toolName.length > 0) {
        toolCall = {
          toolName,
          ...(typeof toolCallId === "string" ? { toolCallId } : {}),
          ...(isRecord(toolInput) ? { toolInput } : {}),
        };
        // A call without an id is still one call: the event id keeps its key unique.
        const broken = brokenToolRule(policy, toolCall, `tool:${toolCall.toolCallId ?? `event:${event.id}`}`);
        if (broken) candidates.push(broken);
      }
      break;
    }
    default:
      break;
  }
  candidates.push(...budgetFindings(policy, measure(next, context), toolCall));
  return keepNew(next, candidates);
}

/**
 * Checks the limits against `measures` (from `measure`, or a run's final usage and cost), for
 * checks that no event prompts: the duration timer and the end of the run.
 */
export function checkLimits(policy: Policy, state: PolicyState, measures: Measures): Evaluation {
  return keepNew(state, budgetFindings(policy, measures, undefined));
}

/** The state's figures at time `now`, the cost priced from `pricing` by the model. */
export function measure(state: PolicyState, context: { now: number; pricing: PricingTable }): Measures {
  return {
    totalTokens: totalTokensOf(state.usage),
    toolCalls: state.toolCalls,
    elapsedMs: Math.max(0, context.now - state.startedAtMs),
    costUsd: runCost({ usage: state.usage, model: state.model, table: context.pricing }).costUsd,
  };
}

/** Every bucket counts against `maxTotalTokens`: cached tokens are tokens the run moved too. */
export function totalTokensOf(usage: TokenUsage): number {
  return (
    usage.inputTokens + usage.outputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0)
  );
}

/** The key of a limit's violation: a limit is reported as broken once per run. */
export function limitKey(limit: LimitName): string {
  return `limit:${limit}`;
}

const MEASURE_OF: Readonly<Record<LimitName, (measures: Measures) => number | null>> = {
  maxTotalTokens: (measures) => measures.totalTokens,
  maxDurationMs: (measures) => measures.elapsedMs,
  maxToolCalls: (measures) => measures.toolCalls,
  maxCostUsd: (measures) => measures.costUsd,
};

function budgetFindings(policy: Policy, measures: Measures, toolCall: ToolCallRef | undefined): Finding[] {
  const findings: Finding[] = [];
  for (const limit of LIMIT_NAMES) {
    const max = policy.limits[limit];
    const actual = MEASURE_OF[limit](measures);
    // Reaching a limit is allowed; going over it is the violation (the seed's `actual > limit`).
    if (max === undefined || actual === null || actual <= max) continue;
    findings.push({
      violation: {
        key: limitKey(limit),
        policy: policy.name,
        action: policy.onViolation,
        kind: "budget_exceeded",
        details: { limit, max, actual },
      },
      // The call that went over the tool-call budget is the one to approve.
      ...(limit === "maxToolCalls" && toolCall ? { toolCall } : {}),
    });
  }
  return findings;
}

/** The first rule, in order, that the call breaks. */
function brokenToolRule(policy: Policy, call: ToolCallRef, key: string): Finding | undefined {
  for (const rule of policy.toolRules) {
    const [kind, tools] = "deny" in rule ? (["deny", rule.deny] as const) : (["allow", rule.allow] as const);
    const broken = kind === "deny" ? tools.includes(call.toolName) : !tools.includes(call.toolName);
    if (!broken) continue;
    return {
      violation: {
        key,
        policy: policy.name,
        action: policy.onViolation,
        kind: "tool_denied",
        details: {
          toolName: call.toolName,
          ...(call.toolCallId !== undefined ? { toolCallId: call.toolCallId } : {}),
          rule: kind,
          tools: [...tools],
        },
      },
      toolCall: call,
    };
  }
  return undefined;
}

function keepNew(state: PolicyState, candidates: readonly Finding[]): Evaluation {
  const findings = candidates.filter((finding) => !state.reported.has(finding.violation.key));
  if (findings.length === 0) return { state, findings };
  const reported = new Set(state.reported);
  for (const finding of findings) reported.add(finding.violation.key);
  return { state: { ...state, reported }, findings };
}
