import { afterEach, describe, expect, it, vi } from "vitest";
import type { AsmError } from "../core/errors.js";
import type { AdapterEvent, AsmEvent } from "../core/events.js";
import { runCost } from "../cost/cost.js";
import { type EnforcedRun, PolicyEnforcer } from "./enforcer.js";
import { definePolicy, type PolicyInput } from "./policy.js";
import { eventFactory } from "./test-support/events.js";

/** A run that stores what the enforcer appends and records what it fails with. */
function fakeRun() {
  const event = eventFactory();
  const appended: AsmEvent[] = [];
  const failures: AsmError[] = [];
  const run: EnforcedRun = {
    append: async (draft: AdapterEvent) => {
      const stored = event(draft.type, draft.data);
      appended.push(stored);
      return stored;
    },
    fail: (error) => failures.push(error),
  };
  return { run, appended, failures, event };
}

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const noUsage = {
  tokenUsage: { inputTokens: 0, outputTokens: 0 },
  cost: runCost({ usage: { inputTokens: 0, outputTokens: 0 } }),
};

function start(input: PolicyInput, now: () => number = () => T0) {
  const fake = fakeRun();
  const enforcer = PolicyEnforcer.start(definePolicy(input), fake.run, { now });
  return { ...fake, enforcer };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("PolicyEnforcer", () => {
  it("cancel: logs each violation once and fails the run once, on the first", async () => {
    const { enforcer, appended, failures, event } = start({
      name: "p",
      toolRules: [{ deny: ["bash"] }],
      limits: { maxToolCalls: 1 },
    });
    enforcer.observe(event("tool_call_started", { toolCallId: "c1", toolName: "bash", toolInput: {} }));
    enforcer.observe(event("tool_call_completed", { toolCallId: "c1", toolName: "bash", toolOutput: "" }));
    enforcer.observe(event("tool_call_started", { toolCallId: "c2", toolName: "read", toolInput: {} }));
    enforcer.observe(event("tool_call_started", { toolCallId: "c3", toolName: "read", toolInput: {} }));
    const report = await enforcer.conclude(noUsage);

    expect(appended.map((stored) => [stored.type, stored.data])).toEqual([
      [
        "policy_violation",
        {
          policy: "p",
          kind: "tool_denied",
          action: "cancel",
          details: { toolName: "bash", toolCallId: "c1", rule: "deny", tools: ["bash"] },
        },
      ],
      [
        "policy_violation",
        {
          policy: "p",
          kind: "budget_exceeded",
          action: "cancel",
          details: { limit: "maxToolCalls", max: 1, actual: 2 },
        },
      ],
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.code).toBe("policy_violation");
    expect(failures[0]?.message).toContain("tool bash is denied");
    expect(failures[0]?.details).toEqual({ policy: "p", violations: [report.violations[0]] });
    expect(enforcer.failure).toBe(failures[0]);
    expect(report).toMatchObject({ policy: "p", action: "cancel", approvals: [], warnings: [] });
    expect(report.violations.map((violation) => violation.key)).toEqual(["tool:c1", "limit:maxToolCalls"]);
  });

  it("warn: logs the violation and never fails the run", async () => {
    const { enforcer, appended, failures, event } = start({
      limits: { maxTotalTokens: 5 },
      onViolation: "warn",
    });
    enforcer.observe(event("token_usage_updated", { inputTokens: 3, outputTokens: 3 }));
    enforcer.observe(event("token_usage_updated", { inputTokens: 3, outputTokens: 3 }));
    const report = await enforcer.conclude({
      tokenUsage: { inputTokens: 6, outputTokens: 6 },
      cost: runCost({ usage: { inputTokens: 6, outputTokens: 6 } }),
    });
    expect(failures).toEqual([]);
    expect(enforcer.failure).toBeUndefined();
    expect(appended.map((stored) => stored.type)).toEqual(["policy_violation"]);
    expect(report.violations).toMatchObject([
      { action: "warn", details: { limit: "maxTotalTokens", actual: 6 } },
    ]);
  });

  it("request_approval: asks for each violation with an expiry, and lets the run go on", async () => {
    const { enforcer, appended, failures, event } = start({
      name: "gate",
      toolRules: [{ deny: ["bash"] }],
      limits: { maxTotalTokens: 10 },
      onViolation: "request_approval",
      approvalTtlMs: 60_000,
    });
    enforcer.observe(
      event("tool_call_started", { toolCallId: "c1", toolName: "bash", toolInput: { command: "ls" } }),
    );
    enforcer.observe(event("token_usage_updated", { inputTokens: 11, outputTokens: 0 }));
    const report = await enforcer.conclude(noUsage);

    expect(failures).toEqual([]);
    expect(appended.map((stored) => stored.type)).toEqual([
      "policy_violation",
      "tool_approval_requested",
      "policy_violation",
      "tool_approval_requested",
    ]);
    const expiresAt = new Date(T0 + 60_000).toISOString();
    expect(appended[1]?.data).toEqual({
      approvalId: expect.stringMatching(/^apr_/),
      toolName: "bash",
      toolCallId: "c1",
      toolInput: { command: "ls" },
      policyName: "gate",
      violationKind: "tool_denied",
      expiresAt,
    });
    // A run-wide budget has no single tool to approve.
    expect(appended[3]?.data).toMatchObject({ toolName: "*", violationKind: "budget_exceeded", expiresAt });
    expect(report.approvals).toMatchObject([
      { toolName: "bash", toolCallId: "c1", policyName: "gate", expiresAt },
      { toolName: "*", expiresAt },
    ]);
  });

  it("checks the duration on a timer, without waiting for an event", async () => {
    vi.useFakeTimers({ now: T0 });
    const { enforcer, appended, failures } = start({ limits: { maxDurationMs: 1_000 } }, Date.now);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(failures).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(failures.map((failure) => failure.details.violations)).toMatchObject([
      [{ key: "limit:maxDurationMs", details: { max: 1_000, actual: 1_001 } }],
    ]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(appended).toHaveLength(1);
    await enforcer.conclude(noUsage);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("holds the run's final usage to the limits, for providers that report usage only at the end", async () => {
    const { enforcer, failures } = start({ limits: { maxTotalTokens: 100, maxCostUsd: 1 } });
    const usage = { inputTokens: 90, outputTokens: 20 };
    const report = await enforcer.conclude({
      tokenUsage: usage,
      cost: runCost({ usage, model: "mystery-model" }),
    });
    expect(report.violations).toMatchObject([{ details: { limit: "maxTotalTokens", actual: 110 } }]);
    expect(failures).toHaveLength(1);
    expect(report.warnings).toEqual([
      expect.stringContaining('maxCostUsd was not enforced: no price for model "mystery-model"'),
    ]);
  });

  it("ignores events after it concluded", async () => {
    const { enforcer, appended, event } = start({ toolRules: [{ deny: ["bash"] }] });
    await enforcer.conclude(noUsage);
    enforcer.observe(event("tool_call_started", { toolCallId: "late", toolName: "bash", toolInput: {} }));
    expect(appended).toEqual([]);
  });
});
