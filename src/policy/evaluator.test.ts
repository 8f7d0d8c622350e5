import { describe, expect, it } from "vitest";
import type { AsmEvent } from "../core/events.js";
import { DEFAULT_PRICING } from "../cost/pricing-table.js";
import {
  checkLimits,
  type Finding,
  measure,
  observeEvent,
  type PolicyState,
  startPolicyState,
} from "./evaluator.js";
import { definePolicy, type Policy, type PolicyInput } from "./policy.js";
import { eventFactory } from "./test-support/events.js";

const START = 1_000_000;

/** Folds events at fixed clock readings and collects every finding. */
function run(input: PolicyInput, events: readonly AsmEvent[], now: (index: number) => number = () => START) {
  const policy: Policy = definePolicy(input);
  let state: PolicyState = startPolicyState(START);
  const findings: Finding[] = [];
  const perEvent: number[] = [];
  events.forEach((event, index) => {
    const evaluation = observeEvent(policy, state, event, { now: now(index), pricing: DEFAULT_PRICING });
    state = evaluation.state;
    findings.push(...evaluation.findings);
    perEvent.push(evaluation.findings.length);
  });
  return { policy, state, findings, perEvent, violations: findings.map((finding) => finding.violation) };
}

describe("limits", () => {
  it("counts every token bucket against maxTotalTokens and allows reaching the limit", () => {
    const event = eventFactory();
    const atLimit = run({ limits: { maxTotalTokens: 100 } }, [
      event("token_usage_updated", {
        inputTokens: 60,
        outputTokens: 30,
        cacheReadTokens: 5,
        cacheWriteTokens: 5,
      }),
    ]);
    expect(atLimit.violations).toEqual([]);
    expect(atLimit.state.usage).toEqual({
      inputTokens: 60,
      outputTokens: 30,
      cacheReadTokens: 5,
      cacheWriteTokens: 5,
    });

    const over = run({ name: "budget", limits: { maxTotalTokens: 100 } }, [
      event("token_usage_updated", {
        inputTokens: 60,
        outputTokens: 30,
        cacheReadTokens: 5,
        cacheWriteTokens: 5,
      }),
      event("token_usage_updated", {
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 1,
        reasoningTokens: 0,
      }),
    ]);
    expect(over.violations).toEqual([
      {
        key: "limit:maxTotalTokens",
        policy: "budget",
        action: "cancel",
        kind: "budget_exceeded",
        details: { limit: "maxTotalTokens", max: 100, actual: 101 },
      },
    ]);
  });

  it("adds nothing from a usage event whose counts failed their schema", () => {
    const event = eventFactory();
    const { state, violations } = run({ limits: { maxTotalTokens: 10 } }, [
      event(
        "token_usage_updated",
        { inputTokens: 500, outputTokens: 0 },
        { validationIssues: [{ path: "x", message: "bad" }] },
      ),
    ]);
    expect(state.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(violations).toEqual([]);
  });

  it("counts tool calls when they start, not when they complete, and names the call that went over", () => {
    const event = eventFactory();
    const { state, findings } = run({ limits: { maxToolCalls: 2 } }, [
      event("tool_call_started", { toolCallId: "c1", toolName: "read", toolInput: {} }),
      event("tool_call_completed", { toolCallId: "c1", toolName: "read", toolOutput: "ok" }),
      event("tool_call_started", { toolCallId: "c2", toolName: "read", toolInput: {} }),
      event("tool_call_failed", { toolCallId: "c2", toolName: "read" }),
      event("tool_call_started", { toolCallId: "c3", toolName: "grep", toolInput: { pattern: "x" } }),
    ]);
    expect(state.toolCalls).toBe(3);
    expect(findings).toEqual([
      {
        violation: expect.objectContaining({
          key: "limit:maxToolCalls",
          details: { limit: "maxToolCalls", max: 2, actual: 3 },
        }),
        toolCall: { toolName: "grep", toolCallId: "c3", toolInput: { pattern: "x" } },
      },
    ]);
  });

  it("prices the run by the model run_started named", () => {
    const event = eventFactory();
    const { violations, state } = run({ limits: { maxCostUsd: 0.5 } }, [
      event("run_started", { model: "claude-haiku-4-5-20251001" }),
      event("token_usage_updated", { inputTokens: 400_000, outputTokens: 0 }),
      event("token_usage_updated", { inputTokens: 200_000, outputTokens: 0 }),
    ]);
    expect(state.model).toBe("claude-haiku-4-5-20251001");
    // $1 per million input tokens: 0.4 is within the limit, 0.6 is over it.
    expect(violations).toMatchObject([
      { kind: "budget_exceeded", details: { limit: "maxCostUsd", max: 0.5 } },
    ]);
    expect(violations[0]?.details).toHaveProperty("actual", expect.closeTo(0.6, 10));
  });

  it("cannot enforce a cost limit for a model without a price", () => {
    const event = eventFactory();
    const { violations, state } = run({ limits: { maxCostUsd: 0.01 } }, [
      event("run_started", { model: "mystery-model" }),
      event("token_usage_updated", { inputTokens: 10_000_000, outputTokens: 0 }),
    ]);
    expect(violations).toEqual([]);
    expect(measure(state, { now: START, pricing: DEFAULT_PRICING }).costUsd).toBeNull();
  });

  it("measures the duration from the run's start by the clock, on events and on demand", () => {
    const event = eventFactory();
    const clock = [START + 100, START + 250, START + 251];
    const { violations, perEvent, state, policy } = run(
      { limits: { maxDurationMs: 250 } },
      [
        event("message_streamed", { delta: "a" }),
        event("message_streamed", { delta: "b" }),
        event("message_streamed", { delta: "c" }),
      ],
      (index) => clock[index] ?? START,
    );
    expect(perEvent).toEqual([0, 0, 1]);
    expect(violations).toMatchObject([{ details: { limit: "maxDurationMs", max: 250, actual: 251 } }]);

    const idle = startPolicyState(START);
    const early = checkLimits(policy, idle, measure(idle, { now: START + 250, pricing: DEFAULT_PRICING }));
    expect(early.findings).toEqual([]);
    const late = checkLimits(policy, idle, measure(idle, { now: START + 9_000, pricing: DEFAULT_PRICING }));
    expect(late.findings.map((finding) => finding.violation.key)).toEqual(["limit:maxDurationMs"]);
    // Already reported on the folded state: the timer's check does not report it again.
    expect(
      checkLimits(policy, state, measure(state, { now: START + 9_000, pricing: DEFAULT_PRICING })).findings,
    ).toEqual([]);
  });
});

describe("tool rules", () => {
  it("flags a denied tool when its call starts, and not again when it completes", () => {
    const event = eventFactory();
    const { findings, perEvent } = run(
      { name: "safe", toolRules: [{ deny: ["bash", "rm"] }], onViolation: "warn" },
      [
        event("tool_call_started", { toolCallId: "c1", toolName: "read", toolInput: {} }),
        event("tool_call_started", { toolCallId: "c2", toolName: "bash", toolInput: { command: "ls" } }),
        event("tool_call_completed", { toolCallId: "c2", toolName: "bash", toolOutput: "file" }),
      ],
    );
    expect(perEvent).toEqual([0, 1, 0]);
    expect(findings).toEqual([
      {
        violation: {
          key: "tool:c2",
          policy: "safe",
          action: "warn",
          kind: "tool_denied",
          details: { toolName: "bash", toolCallId: "c2", rule: "deny", tools: ["bash", "rm"] },
        },
        toolCall: { toolName: "bash", toolCallId: "c2", toolInput: { command: "ls" } },
      },
    ]);
  });

  it("flags a tool an allow list leaves out, matching the canonical name exactly", () => {
    const event = eventFactory();
    const { violations } = run({ toolRules: [{ allow: ["read", "grep"] }] }, [
      event("tool_call_started", { toolCallId: "c1", toolName: "grep", toolInput: {} }),
      event("tool_call_started", { toolCallId: "c2", toolName: "Read", toolInput: {} }),
    ]);
    expect(violations).toMatchObject([
      { key: "tool:c2", details: { toolName: "Read", rule: "allow", tools: ["read", "grep"] } },
    ]);
  });

  it("reports one violation per call, naming the first rule it breaks", () => {
    const event = eventFactory();
    const { violations } = run({ toolRules: [{ allow: ["read"] }, { deny: ["bash"] }] }, [
      event("tool_call_started", { toolCallId: "c1", toolName: "bash", toolInput: {} }),
    ]);
    expect(violations).toMatchObject([{ key: "tool:c1", details: { rule: "allow" } }]);
  });

  it("still judges a call that came without an id, keyed by its event", () => {
    const event = eventFactory();
    const malformed = event("tool_call_started", { toolName: "bash", toolInput: {} } as never);
    const { violations, state } = run({ toolRules: [{ deny: ["bash"] }] }, [malformed]);
    expect(violations).toMatchObject([{ key: `tool:event:${malformed.id}`, details: { toolName: "bash" } }]);
    expect(state.toolCalls).toBe(1);
  });
});

describe("reporting once", () => {
  it("reports a broken limit once however many later events still break it", () => {
    const event = eventFactory();
    const events = [
      event("token_usage_updated", { inputTokens: 20, outputTokens: 0 }),
      ...Array.from({ length: 50 }, () => event("token_usage_updated", { inputTokens: 5, outputTokens: 5 })),
    ];
    const { perEvent, violations, state } = run({ limits: { maxTotalTokens: 25 } }, events);
    expect(violations).toHaveLength(1);
    expect(perEvent.indexOf(1)).toBe(1);
    expect(state.reported).toEqual(new Set(["limit:maxTotalTokens"]));
  });

  it("leaves the state it was given unchanged", () => {
    const event = eventFactory();
    const policy = definePolicy({ limits: { maxToolCalls: 1 } });
    const before = startPolicyState(START);
    observeEvent(
      policy,
      before,
      event("tool_call_started", { toolCallId: "a", toolName: "x", toolInput: {} }),
      {
        now: START,
        pricing: DEFAULT_PRICING,
      },
    );
    expect(before).toEqual(startPolicyState(START));
  });
});
