import { z } from "zod";
import { AsmError } from "../core/errors.js";
import type { JsonObject } from "../core/session.js";
import { parseWith } from "../core/validation.js";
import { isRecord } from "../utils/is-record.js";

/**
 * What a violation triggers, from the least to the most strict (the order `mergePolicies` uses):
 *
 * - `warn`: the run goes on; the violation is logged and reported in `RunResult.policy`.
 * - `request_approval`: the run goes on; each violation also logs a `tool_approval_requested`
 *   that a person decides later through `ApprovalGate`.
 * - `cancel`: the provider is stopped and the run fails with `policy_violation`.
 */
export const POLICY_ACTIONS = ["warn", "request_approval", "cancel"] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

/** The limits a policy can set, each enforced as "the run may not go above it". */
export const LIMIT_NAMES = ["maxTotalTokens", "maxDurationMs", "maxToolCalls", "maxCostUsd"] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

const count = z.number().int().nonnegative();
const toolNames = z.array(z.string().min(1));

export const policySchema = z.strictObject({
  /** Names the policy in violations and approval requests. Default `"default"`. */
  name: z.string().min(1).default("default"),
  limits: z
    .strictObject({
      /** Tokens of every bucket (input, output, cache read, cache write) together. */
      maxTotalTokens: count.optional(),
      /** Wall-clock time from the moment the run starts executing. */
      maxDurationMs: count.optional(),
      /** `tool_call_started` events. */
      maxToolCalls: count.optional(),
      /** The run's cost so far, priced with the manager's pricing table. */
      maxCostUsd: z.number().nonnegative().optional(),
    })
    .default({}),
  /**
   * Matched against the canonical `toolName` of `tool_call_started`, exactly (case-sensitive).
   * A tool is permitted when every `allow` list names it and no `deny` list does.
   */
  toolRules: z
    .array(z.union([z.strictObject({ allow: toolNames }), z.strictObject({ deny: toolNames })]))
    .default([]),
  /** Default `"cancel"`. */
  onViolation: z.enum(POLICY_ACTIONS).default("cancel"),
  /** How long an approval request stays open before it counts as denied. Default `DEFAULT_APPROVAL_TTL_MS`. */
  approvalTtlMs: z.number().int().positive().optional(),
  /**
   * Free-form data about the policy (an owner, a ticket, a tier), carried into the stack merge and
   * the run's policy report (`RunResult.policy.metadata`); never enforced. Default none.
   */
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** A policy as callers write it: every field but the ones they care about may be left out. */
export type PolicyInput = z.input<typeof policySchema>;
/** A policy with its defaults applied. */
export type Policy = z.output<typeof policySchema>;
export type ToolRule = Policy["toolRules"][number];

/** How long an approval request stays open when the policy does not say: 24 hours. */
export const DEFAULT_APPROVAL_TTL_MS = 24 * 60 * 60 * 1000;

const STRICTNESS: Readonly<Record<PolicyAction, number>> = { warn: 0, request_approval: 1, cancel: 2 };

/** Validates a policy and applies its defaults; throws `validation_error` listing every problem. */
export function definePolicy(input: PolicyInput): Policy {
  return parseWith(policySchema, input, "policy", { details: { check: "invalid_policy" } });
}

/**
 * Stacks policies (an organization's, a team's, a run's) into one, the same whatever the order
 * apart from the name:
 *
 * - `name`: the names joined with `" + "`, in order, each name once.
 * - `limits`: per limit, the strictest (lowest) value any policy sets; a limit no policy sets
 *   stays unset.
 * - `toolRules`: all rules, concatenated in order. Since a tool must satisfy every rule, an added
 *   `allow` list narrows what the others allow and an added `deny` list removes tools.
 * - `onViolation`: the strictest action: `cancel` > `request_approval` > `warn`.
 * - `approvalTtlMs`: the shortest one set.
 * - `metadata`: deep-merged in order (the seed guide's rule): a later policy's key wins, except
 *   that two plain objects under one key merge key by key, recursively; arrays and other values
 *   are replaced whole. Unset when no policy sets it.
 *
 * An empty stack is the `"default"` policy, which enforces nothing. Run `preflightPolicy` on the
 * result: stacking can make rules contradict each other.
 */
export function mergePolicies(policies: readonly Policy[]): Policy {
  if (policies.length === 0) return definePolicy({});
  const names = [...new Set(policies.map((policy) => policy.name))];
  const limits: Policy["limits"] = {};
  for (const limit of LIMIT_NAMES) {
    const values = policies.flatMap((policy) => policy.limits[limit] ?? []);
    if (values.length > 0) limits[limit] = Math.min(...values);
  }
  const ttls = policies.flatMap((policy) => policy.approvalTtlMs ?? []);
  const metadata = policies.flatMap((policy) => (policy.metadata ? [policy.metadata] : []));
  return {
    name: names.join(" + "),
    limits,
    toolRules: policies.flatMap((policy) => policy.toolRules.map(copyRule)),
    onViolation: policies.reduce<PolicyAction>(
      (strictest, policy) =>
        STRICTNESS[policy.onViolation] > STRICTNESS[strictest] ? policy.onViolation : strictest,
      "warn",
    ),
    ...(ttls.length > 0 ? { approvalTtlMs: Math.min(...ttls) } : {}),
    ...(metadata.length > 0 ? { metadata: metadata.reduce<JsonObject>(mergeMetadata, {}) } : {}),
  };
}

/** `next` over `base`: plain objects under the same key merge recursively; anything else is replaced. */
function mergeMetadata(base: JsonObject, next: JsonObject): JsonObject {
  // A Map, then fromEntries: a "__proto__" key from parsed JSON stays an ordinary key.
  const merged = new Map(Object.entries(base));
  for (const [key, value] of Object.entries(next)) {
    const previous = merged.get(key);
    merged.set(key, isRecord(previous) && isRecord(value) ? mergeMetadata(previous, value) : value);
  }
  return Object.fromEntries(merged);
}

/**
 * Rejects a policy no run could satisfy, with `validation_error` and `details.check`:
 *
 * - `invalid_policy`: the shape is wrong (a negative limit, an empty tool name, …).
 * - `empty_allow_list`: an `allow` list with no tool in it.
 * - `disjoint_allow_lists`: `allow` lists that have no tool in common, so none is permitted.
 * - `zero_budget`: `maxTotalTokens`, `maxToolCalls` or `maxDurationMs` of 0 (every run spends
 *   time and tokens; a tool-call budget of 0 is the seed's rule). `maxCostUsd: 0` is allowed: it
 *   admits models priced at zero.
 * - `contradictory_rules`: `deny` lists that forbid every tool the `allow` lists permit. Denying
 *   only some of them is how a stack narrows (the org allows bash, a team denies it).
 *
 * Returns the validated policy.
 */
export function preflightPolicy(policy: Policy): Policy {
  const checked = definePolicy(policy);
  const reject = (check: string, message: string, details: Record<string, unknown> = {}): never => {
    throw new AsmError("validation_error", `policy "${checked.name}" ${message}`, {
      details: { policy: checked.name, check, ...details },
    });
  };
  const { allowLists, denied } = toolLists(checked);
  if (allowLists.some((list) => list.length === 0)) {
    reject("empty_allow_list", "has an empty allow list, so no tool could be used");
  }
  const zeroed = (["maxTotalTokens", "maxToolCalls", "maxDurationMs"] as const).filter(
    (limit) => checked.limits[limit] === 0,
  );
  if (zeroed.length > 0) reject("zero_budget", `sets ${zeroed.join(", ")} to 0`, { limits: zeroed });
  const required = allowedByEveryList(allowLists);
  if (required?.size === 0) {
    reject("disjoint_allow_lists", "has allow lists with no tool in common, so no tool could be used");
  }
  // Denying some allowed tools narrows the stack (an org allows bash, a team denies it); only
  // denying every allowed tool leaves a policy no run could satisfy.
  if (required && [...required].every((tool) => denied.has(tool))) {
    reject("contradictory_rules", `denies every tool it allows (${[...required].join(", ")})`, {
      tools: [...required],
    });
  }
  return checked;
}

/**
 * The one policy a run enforces, from `executeRun`'s `policy` or `policies`: stacked with
 * `mergePolicies`, then checked by `preflightPolicy`. `undefined` when neither is given; giving
 * both is a `validation_error` (rather than one silently winning, as in the seed).
 */
export function resolvePolicy(options: {
  policy?: Policy | undefined;
  policies?: readonly Policy[] | undefined;
}): Policy | undefined {
  const { policy, policies } = options;
  if (policy && policies) {
    throw new AsmError("validation_error", "give either policy or policies, not both", {
      hint: "put the single policy into the policies list",
    });
  }
  const stack = policies ?? (policy ? [policy] : undefined);
  return stack ? preflightPolicy(mergePolicies(stack)) : undefined;
}

/** A policy's allow lists, in order, and every tool its deny lists name. */
export function toolLists(policy: Policy): { allowLists: string[][]; denied: Set<string> } {
  return {
    allowLists: policy.toolRules.flatMap((rule) => ("allow" in rule ? [rule.allow] : [])),
    denied: new Set(policy.toolRules.flatMap((rule) => ("deny" in rule ? rule.deny : []))),
  };
}

/**
 * The tools every allow list names, in the first list's order; `undefined` when there are no
 * allow lists (every tool passes them).
 */
export function allowedByEveryList(allowLists: readonly (readonly string[])[]): Set<string> | undefined {
  const [first, ...rest] = allowLists;
  if (first === undefined) return undefined;
  return new Set(first.filter((tool) => rest.every((list) => list.includes(tool))));
}

function copyRule(rule: ToolRule): ToolRule {
  return "allow" in rule ? { allow: [...rule.allow] } : { deny: [...rule.deny] };
}
