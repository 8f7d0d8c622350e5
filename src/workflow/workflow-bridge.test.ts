import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AsmError, ERROR_CODES_BY_CATEGORY, type ErrorCode } from "../core/errors.js";
import { type Script, ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { classifyError, type WorkflowAction } from "./classify-error.js";
import {
  completeWorkflowSession,
  setupWorkflowSession,
  stepExecute,
  WORKFLOW_AGENT_ID,
} from "./workflow-bridge.js";

function setup(script: Script) {
  const store = new MemorySessionStore();
  const adapter = new ScriptedAdapter(script);
  return { store, adapter, manager: new SessionManager({ store, adapter }) };
}

const withTools: Script = async (request, sink) => {
  sink.emit({
    type: "tool_call_started",
    data: { toolCallId: "t1", toolName: "Bash", toolInput: { command: "ls" } },
  });
  sink.emit({
    type: "tool_call_completed",
    data: { toolCallId: "t1", toolName: "Bash", toolOutput: "a.txt" },
  });
  sink.emit({
    type: "tool_call_started",
    data: { toolCallId: "t2", toolName: "Read", toolInput: { path: "b" } },
  });
  sink.emit({
    type: "tool_call_failed",
    data: { toolCallId: "t2", toolName: "Read", errorMessage: "missing" },
  });
  const prompt = request.run.input.prompt ?? "";
  return {
    output: { content: `answer to ${prompt}` },
    tokenUsage: { inputTokens: 10, outputTokens: 4 },
    model: "claude-sonnet-4-5",
    stopReason: "end_turn",
  };
};

async function rejection(promise: Promise<unknown>): Promise<AsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!AsmError.is(error)) throw new Error(`expected an AsmError, got ${String(error)}`);
  return error;
}

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((path) => rm(path, { recursive: true, force: true })));
});

describe("stepExecute", () => {
  it("one-shot: a workflow-agent session that runs once and is completed; the step result's fields", async () => {
    const { store, manager } = setup(withTools);
    const step = await stepExecute(manager, { input: "q1", tags: ["wf"] });

    const session = await store.getSession(step.sessionId);
    expect(session).toMatchObject({ agentId: WORKFLOW_AGENT_ID, status: "completed", tags: ["wf"] });
    expect(step.content).toBe("answer to q1");
    expect(step.output).toEqual({ content: "answer to q1" });
    expect(step.tokenUsage).toEqual({ inputTokens: 10, outputTokens: 4 });
    expect(step.stopReason).toBe("end_turn");
    expect(step.model).toBe("claude-sonnet-4-5");
    expect(step.costUsd).toBeGreaterThan(0);
    expect(step.hasToolCalls).toBe(true);
    expect(step.toolCalls).toEqual([
      { toolCallId: "t1", toolName: "Bash", input: { command: "ls" }, status: "completed", output: "a.txt" },
      { toolCallId: "t2", toolName: "Read", input: { path: "b" }, status: "failed", errorMessage: "missing" },
    ]);
    expect(step.events.map((event) => event.type)).toEqual([
      "message_sent",
      "tool_call_started",
      "tool_call_completed",
      "tool_call_started",
      "tool_call_failed",
      "run_completed",
    ]);
    expect(step.events.every((event) => event.runId === step.runId)).toBe(true);
    // Plain data: a workflow engine can persist it as JSON.
    expect(JSON.parse(JSON.stringify(step))).toEqual(step);
  });

  it("multi-run: steps in one session that stays active until completeWorkflowSession", async () => {
    const { store, manager } = setup(withTools);
    const sessionId = await setupWorkflowSession(manager, { tags: ["pipeline"] });
    expect(await store.getSession(sessionId)).toMatchObject({ status: "active", agentId: WORKFLOW_AGENT_ID });

    const first = await stepExecute(manager, { input: "q1", sessionId, metadata: { step: "plan" } });
    const second = await stepExecute(manager, { input: "q2", sessionId });
    expect([first.sessionId, second.sessionId]).toEqual([sessionId, sessionId]);
    expect(first.runId).not.toBe(second.runId);
    expect(second.content).toBe("answer to q2");
    expect((await store.getRun(first.runId)).metadata).toMatchObject({ step: "plan" });
    expect((await store.getSession(sessionId)).status).toBe("active");

    const completed = await completeWorkflowSession(manager, sessionId);
    expect(completed.status).toBe("completed");
    expect((await store.listRuns(sessionId)).map((run) => run.status)).toEqual(["completed", "completed"]);
  });

  it("a failed step rejects with the run's error; one-shot fails its session, multi-run leaves it active", async () => {
    const { store, manager } = setup(async () => {
      throw new AsmError("provider_rate_limited", "429", { details: { retryAfterMs: 1500 } });
    });
    const oneShot = await rejection(stepExecute(manager, { input: "x" }));
    expect(oneShot.code).toBe("provider_rate_limited");
    expect((await store.getSession(String(oneShot.details.sessionId))).status).toBe("failed");
    expect(classifyError(oneShot)).toMatchObject({
      action: "wait_and_retry",
      retryable: true,
      retryAfterMs: 1500,
    });

    const sessionId = await setupWorkflowSession(manager);
    const inSession = await rejection(stepExecute(manager, { input: "x", sessionId }));
    expect(inSession.details).toMatchObject({ sessionId });
    expect((await store.getSession(sessionId)).status).toBe("active");
    const failed = await completeWorkflowSession(manager, sessionId, { status: "failed", error: inSession });
    expect(failed.status).toBe("failed");
    const [ended] = await store.getEvents(sessionId, { types: ["session_failed"] });
    expect(ended?.data).toMatchObject({ errorCode: "provider_rate_limited", errorMessage: "429" });
  });

  it("a policy stop is classified cancel; the step result carries the policy report when the run completes", async () => {
    const { manager } = setup(withTools);
    const stopped = await rejection(
      stepExecute(manager, { input: "x", policy: { name: "no-bash", toolRules: [{ deny: ["Bash"] }] } }),
    );
    expect(classifyError(stopped)).toMatchObject({ code: "policy_violation", action: "cancel" });

    const warned = await stepExecute(manager, {
      input: "x",
      policy: { name: "watch", toolRules: [{ deny: ["Bash"] }], onViolation: "warn" },
    });
    expect(warned.policy).toMatchObject({ policy: "watch", action: "warn" });
    expect(warned.policy?.violations.map((violation) => violation.kind)).toEqual(["tool_denied"]);
  });

  it("the workspace report of a step given a workspace", async () => {
    const path = await mkdtemp(join(tmpdir(), "asm-step-"));
    directories.push(path);
    const { manager } = setup(async () => {
      await writeFile(join(path, "made.txt"), "hello\n");
      return { output: { content: "wrote it" } };
    });
    const step = await stepExecute(manager, { input: "x", workspace: { path, strategy: "hash" } });
    expect(step.workspace?.backend).toBe("hash");
    expect(step.workspace?.diff.filesChanged).toBe(1);
  });

  it("session attributes with a sessionId are a validation_error, and nothing runs", async () => {
    const { manager, adapter } = setup(withTools);
    const sessionId = await setupWorkflowSession(manager);
    const error = await rejection(
      stepExecute(manager, { input: "x", sessionId, agentId: "other", tags: ["t"] }),
    );
    expect(error.code).toBe("validation_error");
    expect(error.details).toMatchObject({ ignored: ["agentId", "tags"] });
    expect(adapter.calls).toEqual([]);
  });

  it("completeWorkflowSession cancelled: the session and its pending runs are cancelled", async () => {
    const { store, manager } = setup(withTools);
    const sessionId = await setupWorkflowSession(manager);
    const pending = await manager.startRun(sessionId, "later");
    const cancelled = await completeWorkflowSession(manager, sessionId, {
      status: "cancelled",
      reason: "dag stopped",
    });
    expect(cancelled.status).toBe("cancelled");
    expect((await store.getRun(pending.id)).status).toBe("cancelled");
  });
});

describe("classifyError", () => {
  // The whole table, written out: every code of the taxonomy has exactly one action.
  const expected: Record<WorkflowAction, ErrorCode[]> = {
    retry: ["provider_timeout", "timeout", "storage_connection_failed", "storage_busy"],
    wait_and_retry: ["provider_rate_limited", "max_runs_exceeded", "max_sessions_exceeded"],
    failover: ["provider_unavailable"],
    cancel: ["cancelled", "policy_violation"],
    abort: [],
  };
  const named = new Set(Object.values(expected).flat());
  const allCodes = Object.values(ERROR_CODES_BY_CATEGORY).flat() as ErrorCode[];
  expected.abort = allCodes.filter((code) => !named.has(code));

  it.each(
    Object.entries(expected).flatMap(([action, codes]) => codes.map((code) => [code, action] as const)),
  )("%s → %s", (code, action) => {
    const classification = classifyError(new AsmError(code, "x"));
    expect(classification.action).toBe(action);
    expect(classification.code).toBe(code);
    expect(classification.retryable).toBe(new AsmError(code, "x").retryable);
  });

  it("abort covers the codes a retry cannot fix", () => {
    expect(expected.abort).toEqual(
      expect.arrayContaining([
        "provider_error",
        "provider_authentication_failed",
        "provider_quota_exceeded",
        "validation_error",
        "not_found",
        "parse_error",
        "storage_corrupt",
        "internal_error",
      ]),
    );
  });

  it("anything thrown that is not an AsmError is an internal_error to abort", () => {
    const classification = classifyError(new TypeError("undefined is not a function"));
    expect(classification).toMatchObject({ code: "internal_error", category: "runtime", action: "abort" });
    expect(classification.error.message).toBe("undefined is not a function");
  });

  it("retryAfterMs only for the retrying actions", () => {
    expect(
      classifyError(new AsmError("provider_timeout", "x", { details: { retryAfterMs: 10 } })),
    ).toMatchObject({
      retryAfterMs: 10,
    });
    expect(
      classifyError(new AsmError("provider_error", "x", { details: { retryAfterMs: 10 } })),
    ).not.toHaveProperty("retryAfterMs");
  });
});
