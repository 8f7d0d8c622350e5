import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import {
  definePolicy,
  mergePolicies,
  type Policy,
  type PolicyAction,
  type PolicyInput,
  preflightPolicy,
  resolvePolicy,
} from "./policy.js";

function rejection(run: () => unknown): AsmError {
  try {
    run();
  } catch (error) {
    if (error instanceof AsmError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

const policy = (input: PolicyInput): Policy => definePolicy(input);

describe("definePolicy", () => {
  it("applies the defaults: name default, no limits, no rules, cancel", () => {
    expect(definePolicy({})).toEqual({ name: "default", limits: {}, toolRules: [], onViolation: "cancel" });
  });

  it("rejects a malformed policy with validation_error listing the problem", () => {
    const error = rejection(() => definePolicy({ limits: { maxToolCalls: 1.5 } }));
    expect(error.code).toBe("validation_error");
    expect(error.details.check).toBe("invalid_policy");
    expect(error.message).toContain("limits.maxToolCalls");
    expect(rejection(() => definePolicy({ toolRules: [{ allow: ["a"], deny: ["b"] }] as never })).code).toBe(
      "validation_error",
    );
  });
});

describe("mergePolicies", () => {
  // The seed guide's org and team policies.
  const org = policy({
    name: "org",
    limits: { maxTotalTokens: 100_000, maxCostUsd: 0.5 },
    onViolation: "cancel",
  });
  const team = policy({
    name: "team",
    toolRules: [{ deny: ["bash", "shell"] }],
    limits: { maxDurationMs: 60_000 },
    onViolation: "warn",
  });

  it("joins names, unions limits, concatenates rules and keeps the strictest action", () => {
    expect(mergePolicies([org, team])).toEqual({
      name: "org + team",
      limits: { maxTotalTokens: 100_000, maxCostUsd: 0.5, maxDurationMs: 60_000 },
      toolRules: [{ deny: ["bash", "shell"] }],
      onViolation: "cancel",
    });
  });

  it("takes the strictest (lowest) value of a limit set by several policies, whatever the order", () => {
    const a = policy({ name: "a", limits: { maxTotalTokens: 500, maxToolCalls: 3, maxCostUsd: 2 } });
    const b = policy({ name: "b", limits: { maxTotalTokens: 800, maxToolCalls: 1, maxDurationMs: 10 } });
    const expected = { maxTotalTokens: 500, maxToolCalls: 1, maxCostUsd: 2, maxDurationMs: 10 };
    expect(mergePolicies([a, b]).limits).toEqual(expected);
    expect(mergePolicies([b, a]).limits).toEqual(expected);
  });

  it("concatenates tool rules in stack order", () => {
    const a = policy({ name: "a", toolRules: [{ allow: ["read", "grep"] }, { deny: ["rm"] }] });
    const b = policy({ name: "b", toolRules: [{ allow: ["read"] }] });
    expect(mergePolicies([a, b]).toolRules).toEqual([
      { allow: ["read", "grep"] },
      { deny: ["rm"] },
      { allow: ["read"] },
    ]);
  });

  it.each<[PolicyAction, PolicyAction, PolicyAction]>([
    ["warn", "warn", "warn"],
    ["warn", "request_approval", "request_approval"],
    ["request_approval", "warn", "request_approval"],
    ["warn", "cancel", "cancel"],
    ["cancel", "warn", "cancel"],
    ["request_approval", "cancel", "cancel"],
    ["cancel", "request_approval", "cancel"],
    ["request_approval", "request_approval", "request_approval"],
    ["cancel", "cancel", "cancel"],
  ])("%s + %s → %s", (first, second, strictest) => {
    const merged = mergePolicies([policy({ onViolation: first }), policy({ onViolation: second })]);
    expect(merged.onViolation).toBe(strictest);
  });

  it("names each policy once and keeps the shortest approval TTL", () => {
    const merged = mergePolicies([
      policy({ name: "org", approvalTtlMs: 60_000 }),
      policy({ name: "team" }),
      policy({ name: "org", approvalTtlMs: 5_000 }),
    ]);
    expect(merged.name).toBe("org + team");
    expect(merged.approvalTtlMs).toBe(5_000);
    expect(mergePolicies([policy({ name: "x" })])).not.toHaveProperty("approvalTtlMs");
  });

  it("deep-merges metadata in order: later keys win, nested objects merge, arrays are replaced", () => {
    const merged = mergePolicies([
      policy({
        name: "org",
        metadata: { owner: "org", tier: 1, labels: { env: "prod", team: "a" }, ids: [1, 2] },
      }),
      policy({ name: "plain" }),
      policy({ name: "team", metadata: { owner: "team", labels: { team: "b" }, ids: [3] } }),
    ]);
    expect(merged.metadata).toEqual({
      owner: "team",
      tier: 1,
      labels: { env: "prod", team: "b" },
      ids: [3],
    });
    expect(mergePolicies([policy({ name: "x" })])).not.toHaveProperty("metadata");
    // A "__proto__" key of parsed JSON (merged as given, not through zod) stays data.
    const parsed = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    const safe = mergePolicies([
      policy({ metadata: { a: 1 } }),
      { ...policy({}), metadata: parsed },
    ]).metadata;
    expect(Object.keys(safe ?? {})).toEqual(["a", "__proto__"]);
    expect(Object.getPrototypeOf(safe)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rejects metadata that is not an object", () => {
    expect(rejection(() => definePolicy({ metadata: [1] as never })).code).toBe("validation_error");
  });

  it("makes the empty stack the default policy, which enforces nothing", () => {
    expect(mergePolicies([])).toEqual(definePolicy({}));
  });

  it("does not share rule arrays with its inputs", () => {
    const a = policy({ toolRules: [{ deny: ["rm"] }] });
    const merged = mergePolicies([a]);
    const [rule] = merged.toolRules;
    if (rule && "deny" in rule) rule.deny.push("mv");
    expect(a.toolRules).toEqual([{ deny: ["rm"] }]);
  });
});

describe("preflightPolicy", () => {
  it.each<[string, PolicyInput, string]>([
    ["an empty allow list", { toolRules: [{ allow: [] }] }, "empty_allow_list"],
    ["a zero token budget", { limits: { maxTotalTokens: 0 } }, "zero_budget"],
    ["a zero tool-call budget", { limits: { maxToolCalls: 0 } }, "zero_budget"],
    ["a zero duration", { limits: { maxDurationMs: 0 } }, "zero_budget"],
    ["a negative limit", { limits: { maxCostUsd: -1 } }, "invalid_policy"],
    ["a negative tool-call limit", { limits: { maxToolCalls: -3 } }, "invalid_policy"],
    [
      "denials covering every allowed tool",
      { toolRules: [{ allow: ["read", "bash"] }, { deny: ["bash", "read"] }] },
      "contradictory_rules",
    ],
    [
      "a deny of the only tool every allow list shares",
      { toolRules: [{ allow: ["read", "bash"] }, { allow: ["bash"] }, { deny: ["bash"] }] },
      "contradictory_rules",
    ],
    [
      "allow lists with nothing in common",
      { toolRules: [{ allow: ["read"] }, { allow: ["bash"] }] },
      "disjoint_allow_lists",
    ],
  ])("rejects %s", (_what, input, check) => {
    const error = rejection(() => preflightPolicy(input as Policy));
    expect(error.code).toBe("validation_error");
    expect(error.details.check).toBe(check);
  });

  it("names the contradicting tools", () => {
    const error = rejection(() =>
      preflightPolicy(policy({ toolRules: [{ allow: ["bash"] }, { deny: ["bash"] }] })),
    );
    expect(error.details.tools).toEqual(["bash"]);
  });

  it("accepts a tool denied that an allow list already leaves out, and a zero cost limit", () => {
    const ok = policy({
      toolRules: [{ allow: ["read", "bash"] }, { allow: ["read"] }, { deny: ["bash"] }],
      limits: { maxCostUsd: 0 },
    });
    expect(preflightPolicy(ok)).toEqual(ok);
  });

  it("accepts the seed guide's policies", () => {
    const stack = mergePolicies([
      policy({ name: "org", limits: { maxTotalTokens: 100_000, maxCostUsd: 0.5 }, onViolation: "cancel" }),
      policy({
        name: "team",
        toolRules: [{ deny: ["bash", "shell"] }],
        limits: { maxDurationMs: 60_000 },
        onViolation: "warn",
      }),
    ]);
    expect(preflightPolicy(stack).name).toBe("org + team");
    const workspace = policy({
      name: "safe-workspace",
      limits: { maxTotalTokens: 50_000, maxToolCalls: 10 },
      toolRules: [{ deny: ["rm", "delete"] }],
      onViolation: "cancel",
    });
    expect(preflightPolicy(workspace)).toEqual(workspace);
  });

  it("lets a stack narrow by denial, and rejects a stack that denies everything it allows", () => {
    const org = policy({ name: "org", toolRules: [{ allow: ["read", "bash"] }] });
    const team = policy({ name: "team", toolRules: [{ deny: ["bash"] }] });
    const lockdown = policy({ name: "lockdown", toolRules: [{ deny: ["read"] }] });
    expect(preflightPolicy(org)).toEqual(org);
    expect(preflightPolicy(team)).toEqual(team);
    const narrowed = mergePolicies([org, team]);
    expect(preflightPolicy(narrowed)).toEqual(narrowed);
    const error = rejection(() => preflightPolicy(mergePolicies([org, team, lockdown])));
    expect(error.details).toMatchObject({ policy: "org + team + lockdown", check: "contradictory_rules" });
  });
});

describe("resolvePolicy", () => {
  const a = policy({ name: "a", limits: { maxToolCalls: 3 } });
  const b = policy({ name: "b", limits: { maxToolCalls: 2 } });

  it("is undefined without a policy, the policy alone, or the stack merged", () => {
    expect(resolvePolicy({})).toBeUndefined();
    expect(resolvePolicy({ policy: a })).toEqual(a);
    expect(resolvePolicy({ policies: [a, b] })).toMatchObject({ name: "a + b", limits: { maxToolCalls: 2 } });
  });

  it("rejects policy and policies together, and an impossible stack", () => {
    expect(rejection(() => resolvePolicy({ policy: a, policies: [b] })).code).toBe("validation_error");
    const empty = policy({ toolRules: [{ allow: [] }] });
    expect(rejection(() => resolvePolicy({ policies: [a, empty] })).details.check).toBe("empty_allow_list");
  });
});
