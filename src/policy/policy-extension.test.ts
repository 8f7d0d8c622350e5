import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { type AsmEvent, isTerminalRunEventType } from "../core/events.js";
import { aborted, type Script, ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { ApprovalGate } from "./approvals.js";
import type { PolicyInput } from "./policy.js";

function setup(script: Script) {
  const store = new MemorySessionStore();
  const adapter = new ScriptedAdapter(script);
  const manager = new SessionManager({ store, adapter });
  return { store, adapter, manager };
}

async function pendingRun(manager: SessionManager, prompt = "work") {
  const session = await manager.startSession({ agentId: "agent" });
  await manager.activateSession(session.id);
  return manager.startRun(session.id, prompt);
}

async function rejection(promise: Promise<unknown>): Promise<AsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof AsmError)) throw new Error(`expected an AsmError, got ${String(error)}`);
  return error;
}

const types = (events: readonly AsmEvent[]) => events.map((event) => event.type);
const terminal = (events: readonly AsmEvent[]) =>
  events.filter((event) => isTerminalRunEventType(event.type));

const bash = (id: string) =>
  ({
    type: "tool_call_started",
    data: { toolCallId: id, toolName: "bash", toolInput: { command: "ls" } },
  }) as const;

describe("policy enforcement: cancel", () => {
  it("stops the provider once and fails the run with policy_violation, each violation logged once", async () => {
    let aborts = 0;
    const { store, manager } = setup(async (_request, sink, signal) => {
      signal.addEventListener("abort", () => (aborts += 1));
      sink.emit({ type: "run_started", data: {} });
      sink.emit({ type: "token_usage_updated", data: { inputTokens: 20, outputTokens: 0 } });
      // Many later events that still break the limit.
      for (let step = 0; step < 30; step += 1)
        sink.emit({ type: "token_usage_updated", data: { inputTokens: 1, outputTokens: 1 } });
      await aborted(signal);
      sink.emit({ type: "message_streamed", data: { delta: "stopping" } });
      throw new AsmError("cancelled", "stopped");
    });
    const run = await pendingRun(manager);
    const policy: PolicyInput = { name: "budget", limits: { maxTotalTokens: 10 } };
    const error = await rejection(manager.executeRun(run.id, { policy }));

    expect(error.code).toBe("policy_violation");
    expect(error.details).toMatchObject({
      policy: "budget",
      violations: [
        { key: "limit:maxTotalTokens", details: { limit: "maxTotalTokens", max: 10, actual: 20 } },
      ],
      runId: run.id,
    });
    expect(aborts).toBe(1);
    const stored = await store.getRun(run.id);
    expect(stored.status).toBe("failed");
    expect(stored.error?.code).toBe("policy_violation");

    const log = await store.getEvents(run.sessionId, { runId: run.id, limit: 1000 });
    expect(log.filter((event) => event.type === "policy_violation")).toHaveLength(1);
    expect(terminal(log)).toMatchObject([{ type: "run_failed", data: { errorCode: "policy_violation" } }]);
    // The provider's last words and the violation precede the one terminal event.
    expect(types(log).slice(-2)).toEqual(["message_streamed", "run_failed"]);
  });

  it("fails the run even when the provider completed before the violation was seen", async () => {
    const { store, manager } = setup(async (_request, sink) => {
      sink.emit(bash("c1"));
      return { output: { content: "done anyway" } };
    });
    const run = await pendingRun(manager);
    const error = await rejection(
      manager.executeRun(run.id, { policy: { toolRules: [{ deny: ["bash"] }] } }),
    );
    expect(error.code).toBe("policy_violation");
    expect(error.message).toContain("tool bash is denied");
    const stored = await store.getRun(run.id);
    expect(stored.status).toBe("failed");
    expect(stored).not.toHaveProperty("output");
    const log = await store.getEvents(run.sessionId, { runId: run.id });
    // The manager closes the call the failure left open (tool_call_failed) before run_failed.
    expect(types(log)).toEqual([
      "message_sent",
      "tool_call_started",
      "policy_violation",
      "tool_call_failed",
      "run_failed",
    ]);
  });

  it("holds a provider that reports usage only in its result to the limits", async () => {
    const { store, manager } = setup(async () => ({
      output: { content: "big" },
      tokenUsage: { inputTokens: 400, outputTokens: 200 },
    }));
    const run = await pendingRun(manager);
    const error = await rejection(
      manager.executeRun(run.id, { policy: { limits: { maxTotalTokens: 500 } } }),
    );
    expect(error.details.violations).toMatchObject([{ details: { limit: "maxTotalTokens", actual: 600 } }]);
    // The run still records what the provider spent.
    expect((await store.getRun(run.id)).tokenUsage).toEqual({ inputTokens: 400, outputTokens: 200 });
  });

  it("checks the duration on a timer, stopping a provider that has gone quiet", async () => {
    const { store, manager } = setup(async (_request, sink, signal) => {
      sink.emit({ type: "run_started", data: {} });
      await aborted(signal);
      throw new AsmError("cancelled", "stopped");
    });
    const run = await pendingRun(manager);
    const error = await rejection(manager.executeRun(run.id, { policy: { limits: { maxDurationMs: 20 } } }));
    expect(error.code).toBe("policy_violation");
    expect(error.details.violations).toMatchObject([{ key: "limit:maxDurationMs" }]);
    expect((await store.getRun(run.id)).status).toBe("failed");
  });

  it("enforces a stack as merged: the team's denied tool cancels under the org's cancel (seed guide)", async () => {
    const { manager } = setup(async (_request, sink) => {
      sink.emit({ type: "tool_call_started", data: { toolCallId: "c1", toolName: "shell", toolInput: {} } });
      return { output: { content: "ok" } };
    });
    const run = await pendingRun(manager);
    const error = await rejection(
      manager.executeRun(run.id, {
        policies: [
          { name: "org", limits: { maxTotalTokens: 100_000, maxCostUsd: 0.5 }, onViolation: "cancel" },
          {
            name: "team",
            toolRules: [{ deny: ["bash", "shell"] }],
            limits: { maxDurationMs: 60_000 },
            onViolation: "warn",
          },
        ],
      }),
    );
    expect(error.details).toMatchObject({
      policy: "org + team",
      violations: [{ kind: "tool_denied", action: "cancel", details: { toolName: "shell", rule: "deny" } }],
    });
  });

  it("counts tool calls against a budget (seed guide's safe-workspace policy)", async () => {
    const { manager } = setup(async (_request, sink) => {
      for (let call = 1; call <= 11; call += 1)
        sink.emit({
          type: "tool_call_started",
          data: { toolCallId: `c${call}`, toolName: "read", toolInput: {} },
        });
      return { output: { content: "ok" } };
    });
    const error = await rejection(
      manager.runOnce("x", {
        policy: {
          name: "safe-workspace",
          limits: { maxTotalTokens: 50_000, maxToolCalls: 10 },
          toolRules: [{ deny: ["rm", "delete"] }],
          onViolation: "cancel",
        },
      }),
    );
    expect(error.details.violations).toMatchObject([
      { details: { limit: "maxToolCalls", max: 10, actual: 11 } },
    ]);
    const sessionId = String(error.details.sessionId);
    expect((await manager.store.getSession(sessionId)).status).toBe("failed");
  });
});

describe("policy enforcement: warn and request_approval", () => {
  it("warn keeps the success and reports the violations", async () => {
    const { manager } = setup(async (_request, sink) => {
      sink.emit(bash("c1"));
      sink.emit(bash("c2"));
      return { output: { content: "done" } };
    });
    const result = await manager.runOnce("x", {
      policy: { name: "audit", toolRules: [{ deny: ["bash"] }], onViolation: "warn" },
    });
    expect(result.output.content).toBe("done");
    expect(result.policy).toMatchObject({
      policy: "audit",
      action: "warn",
      violations: [{ key: "tool:c1" }, { key: "tool:c2" }],
      approvals: [],
      warnings: [],
    });
    expect(types(result.events)).toEqual([
      "message_sent",
      "tool_call_started",
      "tool_call_started",
      "policy_violation",
      "policy_violation",
      // The scripted provider never ends its calls: the manager closes them before the end.
      "tool_call_failed",
      "tool_call_failed",
      "run_completed",
    ]);
  });

  it("the report carries the stack's merged metadata", async () => {
    const { manager } = setup(async () => ({ output: { content: "done" } }));
    const result = await manager.runOnce("x", {
      policies: [
        { name: "org", metadata: { owner: "platform", labels: { env: "prod" } }, onViolation: "warn" },
        { name: "team", metadata: { labels: { team: "search" } }, onViolation: "warn" },
      ],
    });
    expect(result.policy).toMatchObject({
      policy: "org + team",
      metadata: { owner: "platform", labels: { env: "prod", team: "search" } },
    });
  });

  it("request_approval asks for approval without cancelling, and the request is pending afterwards", async () => {
    let sawAbort = false;
    const { store, manager } = setup(async (_request, sink, signal) => {
      sink.emit(bash("c1"));
      await new Promise((resolve) => setTimeout(resolve, 5));
      sawAbort = signal.aborted;
      return { output: { content: "finished" } };
    });
    const result = await manager.runOnce("x", {
      policy: { name: "gate", toolRules: [{ deny: ["bash"] }], onViolation: "request_approval" },
    });
    expect(sawAbort).toBe(false);
    expect(result.output.content).toBe("finished");
    const requested = result.events.find((event) => event.type === "tool_approval_requested");
    expect(requested?.data).toMatchObject({
      toolName: "bash",
      toolCallId: "c1",
      toolInput: { command: "ls" },
      policyName: "gate",
      violationKind: "tool_denied",
    });
    expect(result.policy?.action).toBe("request_approval");
    expect(result.policy?.approvals).toHaveLength(1);
    expect(await new ApprovalGate(store).pending(result.sessionId)).toEqual(result.policy?.approvals);
  });

  it("leaves results of runs without a policy as they were", async () => {
    const { manager } = setup(async () => ({ output: { content: "plain" } }));
    expect(await manager.runOnce("x")).not.toHaveProperty("policy");
  });
});

describe("policy preflight", () => {
  it("rejects an impossible policy before the run starts, leaving it pending", async () => {
    const { store, manager, adapter } = setup(async () => ({ output: { content: "ok" } }));
    const run = await pendingRun(manager);
    const error = await rejection(
      manager.executeRun(run.id, {
        policies: [{ toolRules: [{ allow: ["read"] }] }, { toolRules: [{ deny: ["read"] }] }],
      }),
    );
    expect(error).toMatchObject({ code: "validation_error", details: { check: "contradictory_rules" } });
    expect(
      (await rejection(manager.executeRun(run.id, { policy: { limits: { maxToolCalls: -1 } } }))).message,
    ).toContain("policy.limits.maxToolCalls");
    expect((await rejection(manager.executeRun(run.id, { policy: {}, policies: [] }))).code).toBe(
      "validation_error",
    );
    expect((await store.getRun(run.id)).status).toBe("pending");
    expect(adapter.calls).toHaveLength(0);
    expect((await manager.executeRun(run.id)).output.content).toBe("ok");
  });
});

describe("provider-side enforcement", () => {
  it("hands the merged policy's tool rules to the adapter, in canonical names", async () => {
    const { manager, adapter } = setup(async () => ({ output: { content: "ok" } }));
    const run = await pendingRun(manager);
    await manager.executeRun(run.id, {
      policies: [
        { name: "org", toolRules: [{ allow: ["read", "grep", "bash"] }] },
        { name: "team", toolRules: [{ deny: ["bash"] }], onViolation: "warn" },
      ],
    });
    expect(adapter.calls[0]?.toolRules).toEqual({ allowedTools: ["read", "grep"] });

    const plain = await pendingRun(manager);
    await manager.executeRun(plain.id, { policy: { name: "budget", limits: { maxTotalTokens: 10 } } });
    expect(adapter.calls[1]).not.toHaveProperty("toolRules");
  });
});
