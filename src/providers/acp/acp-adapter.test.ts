import { realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import type { JsonObject } from "../../core/session.js";
import { ApprovalGate } from "../../policy/approvals.js";
import type { ToolRestrictions } from "../../ports/provider-adapter.js";
import { SessionManager } from "../../session-manager.js";
import { MemorySessionStore } from "../../stores/memory/index.js";
import { defineAdapterConformance, makeExecuteRequest } from "../../testing/adapter-conformance.js";
import {
  type ExecuteOutcome,
  eventList,
  executeOutcome,
  expectError,
  expectResult,
} from "../../testing/execute-outcome.js";
import {
  readScriptedAcpRecord,
  SCRIPTED_ACP_SESSION_ID,
  type ScriptedAcpRecord,
  type ScriptedAcpScenario,
  scriptedAcpAgentCommand,
  scriptedAcpAgentEnv,
} from "../../testing/scripted-acp-agent/index.js";
import {
  AcpAdapter,
  type AcpAdapterOptions,
  type AcpApprovalRequest,
  approvalGateApprovals,
} from "./index.js";

const PROMPT = "what is 3 + 5?";

function scriptedAdapter(
  dir: string,
  scenario: ScriptedAcpScenario,
  options: Partial<AcpAdapterOptions> = {},
): { adapter: AcpAdapter; recordPath: string } {
  const recordPath = path.join(dir, "record.json");
  const adapter = new AcpAdapter({
    agent: scriptedAcpAgentCommand(),
    cwd: dir,
    cancelGraceMs: 500,
    killGraceMs: 500,
    ...options,
    env: { ...scriptedAcpAgentEnv({ scenario, record: recordPath }), ...options.env },
  });
  return { adapter, recordPath };
}

async function run(
  adapter: AcpAdapter,
  options: JsonObject = {},
  toolRules?: ToolRestrictions,
  signal = new AbortController().signal,
): Promise<ExecuteOutcome> {
  const request = makeExecuteRequest({ prompt: PROMPT }, { providerOptions: { acp: options } });
  if (toolRules) request.toolRules = toolRules;
  return executeOutcome(adapter, request, signal);
}

function record(recordPath: string): ScriptedAcpRecord {
  const value = readScriptedAcpRecord(recordPath);
  if (value === undefined) throw new Error(`no record at ${recordPath}`);
  return value;
}

defineAdapterConformance(
  {
    name: "AcpAdapter (scripted ACP agent)",
    providerSessionIds: true,
    async adapterFor(scenario, { tmpDir }) {
      const { adapter, recordPath } = scriptedAdapter(tmpDir, scenario === "text" ? "text" : scenario);
      return {
        adapter,
        input: { prompt: PROMPT },
        expectedText: "3 + 5 = 8",
        processIds() {
          const seen = readScriptedAcpRecord(recordPath);
          return seen?.stalled ? [seen.pid, ...seen.childPids] : undefined;
        },
      };
    },
  },
  { describe, it, skip: it.skip },
);

describe("AcpAdapter", () => {
  let dir = "";
  beforeEach(async () => {
    dir = realpathSync(await mkdtemp(path.join(tmpdir(), "asm-acp-test-")));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("text: thought, plan, chunks then the message, usage from the response; no client fs or terminal advertised", async () => {
    const { adapter, recordPath } = scriptedAdapter(dir, "text");
    const outcome = await run(adapter);
    const result = expectResult(outcome);
    const usage = { inputTokens: 220, outputTokens: 42 };
    expect(eventList(outcome.sink.events)).toEqual([
      ["run_started", { providerSessionId: SCRIPTED_ACP_SESSION_ID, agent: "scripted-acp-agent" }],
      ["message_streamed", { delta: "Adding 3 and 5.", stream: "thinking" }],
      [
        "message_streamed",
        {
          delta: "[x] add the numbers",
          stream: "plan",
          plan: [{ content: "add the numbers", priority: "high", status: "completed" }],
        },
      ],
      ["message_streamed", { delta: "Hello from ACP: " }],
      ["message_streamed", { delta: "3 + 5 = 8." }],
      ["message_received", { role: "assistant", content: "Hello from ACP: 3 + 5 = 8." }],
      ["token_usage_updated", { ...usage, cumulative: usage }],
    ]);
    expect(result).toMatchObject({
      output: { content: "Hello from ACP: 3 + 5 = 8." },
      stopReason: "end_turn",
      tokenUsage: usage,
      providerSessionId: SCRIPTED_ACP_SESSION_ID,
      // The one model Gemini-style _meta.quota names.
      model: "scripted-acp-1",
    });
    const seen = record(recordPath);
    expect(seen.initialize).toMatchObject({
      protocolVersion: 1,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
    });
    expect(seen.sessions).toEqual([{ method: "session/new", params: { cwd: dir, mcpServers: [] } }]);
    expect(seen.prompts).toEqual([PROMPT]);
    expect(seen.cwd).toBe(dir);
  });

  it("tool calls: started from tool_call, completed with content and diff", async () => {
    const { adapter } = scriptedAdapter(dir, "tool_call");
    const outcome = await run(adapter);
    const result = expectResult(outcome);
    const call = {
      toolCallId: "call_1",
      toolName: "Bash",
      nativeToolName: "execute",
      title: "echo 8",
      toolInput: { command: "echo 8" },
    };
    expect(eventList(outcome.sink.events).slice(1, 4)).toEqual([
      ["tool_call_started", call],
      [
        "tool_call_completed",
        {
          ...call,
          toolOutput: {
            content: [
              { type: "content", content: { type: "text", text: "8" } },
              { type: "diff", path: "/work/answer.txt", oldText: null, newText: "8\n" },
            ],
            rawOutput: { stdout: "8\n" },
          },
        },
      ],
      ["message_streamed", { delta: "3 + 5 = 8." }],
    ]);
    expect(result.output.content).toBe("3 + 5 = 8.");
  });

  describe("permission requests", () => {
    it("an allowed tool (the policy's allow list and the adapter's) is granted once", async () => {
      const { adapter, recordPath } = scriptedAdapter(dir, "permission", { allowedTools: ["Bash"] });
      const result = expectResult(await run(adapter));
      expect(result.output.content).toBe("granted");
      expect(record(recordPath).permissionOutcomes).toEqual([
        { outcome: "selected", optionId: "proceed_once" },
      ]);
    });

    it("a tool the policy denies is refused before it starts: tool_permission_denied, not fatal", async () => {
      const { adapter, recordPath } = scriptedAdapter(dir, "permission", { permissionMode: "full_auto" });
      const outcome = await run(adapter, {}, { deniedTools: ["Bash"] });
      expect(expectResult(outcome).output.content).toBe("denied");
      expect(record(recordPath).permissionOutcomes).toEqual([{ outcome: "selected", optionId: "cancel" }]);
      expect(outcome.sink.of("tool_call_started")).toEqual([]);
      expect(outcome.sink.of("error_occurred").map((event) => event.data)).toEqual([
        {
          errorCode: "tool_permission_denied",
          errorMessage: "ACP agent was not allowed to use Bash",
          fatal: false,
          details: {
            toolName: "Bash",
            toolCallId: "call_perm",
            title: "echo hi",
            toolInput: { command: "echo hi" },
          },
        },
      ]);
    });

    it("without rules or approvals, default mode refuses (nobody can answer a headless run); full_auto allows", async () => {
      const refused = scriptedAdapter(dir, "permission");
      expect(expectResult(await run(refused.adapter)).output.content).toBe("denied");
      const allowed = scriptedAdapter(dir, "permission");
      expect(expectResult(await run(allowed.adapter, { permissionMode: "full_auto" })).output.content).toBe(
        "granted",
      );
    });

    it("an open request goes to approvals, and the agent waits for the decision", async () => {
      const asked: AcpApprovalRequest[] = [];
      let decide: (allowed: boolean) => void = () => {};
      const decided = new Promise<boolean>((resolve) => {
        decide = resolve;
      });
      const { adapter } = scriptedAdapter(dir, "permission", {
        approvals: {
          decide(request) {
            asked.push(request);
            return decided;
          },
        },
      });
      const pending = run(adapter);
      const deadline = Date.now() + 20_000;
      while (asked.length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 25));
      expect(asked).toEqual([
        expect.objectContaining({
          toolName: "Bash",
          toolCallId: "call_perm",
          toolInput: { command: "echo hi" },
        }),
      ]);
      decide(true);
      expect(expectResult(await pending).output.content).toBe("granted");
    });
  });

  it("a durable approval: the request is in the log, the agent waits, a decision from outside the run lets it go on", async () => {
    const store = new MemorySessionStore();
    const gate = new ApprovalGate(store);
    const { adapter, recordPath } = scriptedAdapter(dir, "permission", {
      approvals: approvalGateApprovals(gate, { policyName: "review-shell", pollMs: 25 }),
    });
    const manager = new SessionManager({ store, adapter });
    let sessionId: string | undefined;
    const pending = manager.runOnce(
      { prompt: PROMPT },
      {
        onEvent: (event) => {
          sessionId ??= event.sessionId;
        },
      },
    );
    const deadline = Date.now() + 20_000;
    let open = sessionId ? await gate.pending(sessionId) : [];
    while (open.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      open = sessionId ? await gate.pending(sessionId) : [];
    }
    expect(open).toEqual([
      expect.objectContaining({
        toolName: "Bash",
        toolCallId: "call_perm",
        toolInput: { command: "echo hi" },
        policyName: "review-shell",
      }),
    ]);
    // The agent is still waiting for its answer.
    expect(record(recordPath).permissionOutcomes).toEqual([]);
    const [request] = open;
    await gate.approve(sessionId ?? "", request?.approvalId ?? "", { by: "reviewer" });
    const result = await pending;
    expect(result.output.content).toBe("granted");
    expect(record(recordPath).permissionOutcomes).toEqual([
      { outcome: "selected", optionId: "proceed_once" },
    ]);
    const types = (await store.getEvents(result.sessionId, { limit: 100 })).map((event) => event.type);
    expect(types).toEqual(
      expect.arrayContaining(["tool_approval_requested", "tool_approval_granted", "run_completed"]),
    );
  });

  it("resume: session/resume with the id, the same providerSessionId", async () => {
    const { adapter, recordPath } = scriptedAdapter(dir, "text");
    const result = expectResult(await run(adapter, { resumeSessionId: "acp-session-0042" }));
    expect(result.providerSessionId).toBe("acp-session-0042");
    expect(record(recordPath).sessions).toEqual([
      { method: "session/resume", params: { sessionId: "acp-session-0042", cwd: dir } },
    ]);
  });

  it("an agent crash mid-turn is provider_error with the exit; the text so far is a message", async () => {
    const { adapter } = scriptedAdapter(dir, "crash");
    const outcome = await run(adapter);
    const error = expectError(outcome, "provider_error");
    expect(error.details).toMatchObject({ agentExited: true, signal: "SIGKILL" });
    expect(outcome.sink.of("message_received").map((event) => event.data.content)).toEqual([
      "about to crash",
    ]);
  });

  it("a JSON-RPC error from the prompt is provider_error with its code", async () => {
    const { adapter } = scriptedAdapter(dir, "failure");
    const error = expectError(await run(adapter), "provider_error");
    expect(error.details).toMatchObject({ rpcCode: -32603, providerSessionId: SCRIPTED_ACP_SESSION_ID });
  });

  it("a missing agent executable is provider_unavailable", async () => {
    const adapter = new AcpAdapter({ agent: [path.join(dir, "no-agent")], cwd: dir });
    expectError(await run(adapter), "provider_unavailable");
  });

  it("invalid options and run options are validation_error", async () => {
    expect(() => new AcpAdapter({ agent: [] })).toThrow(AsmError);
    expect(() => new AcpAdapter({ agent: "no-such-preset" as "gemini" })).toThrow(AsmError);
    const { adapter } = scriptedAdapter(dir, "text");
    expectError(await run(adapter, { resume: "x" }), "validation_error");
  });
});
