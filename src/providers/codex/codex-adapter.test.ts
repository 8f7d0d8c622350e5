import { chmodSync, copyFileSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { AsmEvent } from "../../core/events.js";
import type { ToolRestrictions } from "../../ports/provider-adapter.js";
import { SessionManager } from "../../session-manager.js";
import { MemorySessionStore } from "../../stores/memory/index.js";
import { defineAdapterConformance, isProcessAlive } from "../../testing/adapter-conformance.js";
import {
  readScriptedCliRecord,
  SCRIPTED_CODEX_THREAD_ID,
  scriptedCliEnv,
  scriptedCliPath,
  writeTranscript,
} from "../../testing/scripted-cli/index.js";
import { PROVIDERS } from "../shared/provider-failures.js";
import {
  argvWithToolRules,
  CONFORMANCE_TRANSCRIPTS,
  fails,
  run,
  scriptedAdapterFactory,
  strip,
  succeeds,
  tempWorkDir,
} from "../test-support/scripted-adapter.js";
import { launcherDir } from "./guard-launcher.js";
import { parseGuardFrame } from "./guard-protocol.js";
import {
  CODEX_CAPABILITIES,
  CodexAdapter,
  type CodexAdapterOptions,
  codexPermissionSettings,
  findBundledCodex,
} from "./index.js";
import { importCodexSdk } from "./sdk-loader.js";

const TRANSCRIPTS = fileURLToPath(new URL("./transcripts/", import.meta.url));
const workDir = tempWorkDir("asm-codex-test-");

/** A CodexAdapter on the real SDK, with the scripted Codex CLI playing `transcript`. */
const scripted = scriptedAdapterFactory({
  cli: "codex",
  transcripts: TRANSCRIPTS,
  workDir,
  create: (options: CodexAdapterOptions) => new CodexAdapter(options),
});

/** The pid of a process's parent, from /proc (the guard is the scripted CLI's parent). */
function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The shared adapter contract, through the real Codex SDK, on transcripts of Codex's protocol.
// ---------------------------------------------------------------------------------------------

defineAdapterConformance(
  {
    name: "CodexAdapter (real SDK, scripted CLI)",
    providerSessionIds: true,
    async adapterFor(scenario, { tmpDir }) {
      const { adapter, recordPath } = scripted(CONFORMANCE_TRANSCRIPTS[scenario], {}, tmpDir);
      return {
        adapter,
        input: { prompt: "Say hello" },
        expectedText: "Hello from Codex",
        processIds: () => {
          // The guard, the (scripted) Codex CLI it started, and the child the CLI started.
          const record = readScriptedCliRecord(recordPath);
          if (!record?.stalled) return undefined;
          const guard = parentPid(record.pid);
          return guard === undefined ? undefined : [guard, record.pid, ...record.childPids];
        },
      };
    },
  },
  { describe, it, skip: it.skip },
);

// ---------------------------------------------------------------------------------------------
// Codex-specific mapping.
// ---------------------------------------------------------------------------------------------

/** Tool calls are stored as `<runId>:<Codex item id>`: Codex numbers items anew in every run. */
const TOOL_RUN = "run_tools";

describe("CodexAdapter: events", () => {
  it("maps a text answer: run_started with the thread id, thinking, the message, disjoint usage", async () => {
    const { adapter, record } = scripted("text.jsonl");
    const { result, sink } = await succeeds(run(adapter));
    const pid = record().pid;
    // input_tokens includes cached_input_tokens: 120 - 100 = 20 uncached.
    const usage = { inputTokens: 20, outputTokens: 9, cacheReadTokens: 100, reasoningTokens: 4 };
    expect(strip(sink.events)).toEqual([
      { type: "run_started", data: { providerSessionId: SCRIPTED_CODEX_THREAD_ID, pid } },
      {
        type: "message_streamed",
        data: { delta: "**Greeting the user**", stream: "thinking", itemId: "item_0" },
      },
      {
        type: "message_received",
        data: { role: "assistant", content: "Hello from Codex", itemId: "item_1" },
      },
      { type: "token_usage_updated", data: { ...usage, cumulative: usage, threadTotal: usage } },
    ]);
    expect(result).toEqual({
      output: { content: "Hello from Codex" },
      stopReason: "end_turn",
      tokenUsage: usage,
      providerSessionId: SCRIPTED_CODEX_THREAD_ID,
      turnCount: 1,
      providerTotals: { tokenUsage: usage },
      metadata: { codex: { threadId: SCRIPTED_CODEX_THREAD_ID } },
    });
    expect(result.costUsd).toBeUndefined();
  });

  it("maps a command and a patch to Bash and Edit tool calls, started then completed", async () => {
    const { adapter } = scripted("tool-use.jsonl");
    const { result, sink } = await succeeds(
      run(adapter, { prompt: "echo hi and write hello.txt" }, {}, undefined, { runId: TOOL_RUN }),
    );
    const tools = strip(sink.events).filter((event) => event.type.startsWith("tool_call_"));
    expect(tools).toEqual([
      {
        type: "tool_call_started",
        data: {
          toolCallId: `${TOOL_RUN}:item_0`,
          nativeToolCallId: "item_0",
          toolName: "Bash",
          toolInput: { command: "/bin/bash -lc 'echo hi'" },
          itemType: "command_execution",
        },
      },
      {
        type: "tool_call_completed",
        data: {
          toolCallId: `${TOOL_RUN}:item_0`,
          nativeToolCallId: "item_0",
          toolName: "Bash",
          toolOutput: { output: "hi\n", exitCode: 0, status: "completed" },
        },
      },
      {
        type: "tool_call_started",
        data: {
          toolCallId: `${TOOL_RUN}:item_1`,
          nativeToolCallId: "item_1",
          toolName: "Edit",
          toolInput: {
            changes: [
              { path: `${process.cwd()}/hello.txt`, kind: "add" },
              { path: `${process.cwd()}/README.md`, kind: "update" },
            ],
          },
          itemType: "file_change",
        },
      },
      {
        type: "tool_call_completed",
        data: {
          toolCallId: `${TOOL_RUN}:item_1`,
          nativeToolCallId: "item_1",
          toolName: "Edit",
          toolOutput: {
            changes: [
              { path: `${process.cwd()}/hello.txt`, kind: "add" },
              { path: `${process.cwd()}/README.md`, kind: "update" },
            ],
            status: "completed",
          },
        },
      },
    ]);
    expect(result.output.content).toBe("Ran echo and wrote hello.txt");
    expect(result.tokenUsage).toEqual({
      inputTokens: 600,
      outputTokens: 60,
      cacheReadTokens: 1800,
      reasoningTokens: 20,
    });
  });

  it("maps failed commands and MCP calls, web search, the plan and unknown items", async () => {
    const { adapter } = scripted("tools-misc.jsonl");
    const { sink } = await succeeds(run(adapter, undefined, {}, undefined, { runId: TOOL_RUN }));
    const tools = strip(sink.events).filter((event) => event.type.startsWith("tool_call_"));
    expect(tools).toEqual([
      {
        type: "tool_call_started",
        data: {
          toolCallId: `${TOOL_RUN}:item_0`,
          nativeToolCallId: "item_0",
          toolName: "TodoWrite",
          toolInput: {
            items: [
              { text: "look around", completed: false },
              { text: "answer", completed: false },
            ],
          },
          itemType: "todo_list",
        },
      },
      {
        type: "tool_call_started",
        data: {
          toolCallId: `${TOOL_RUN}:item_1`,
          nativeToolCallId: "item_1",
          toolName: "Bash",
          toolInput: { command: "/bin/bash -lc 'ls missing'" },
          itemType: "command_execution",
        },
      },
      {
        type: "tool_call_failed",
        data: {
          toolCallId: `${TOOL_RUN}:item_1`,
          nativeToolCallId: "item_1",
          toolName: "Bash",
          toolOutput: {
            output: "ls: cannot access 'missing': No such file or directory\n",
            exitCode: 2,
            status: "failed",
          },
          errorMessage: "the command exited with code 2",
        },
      },
      {
        type: "tool_call_started",
        data: {
          toolCallId: `${TOOL_RUN}:item_2`,
          nativeToolCallId: "item_2",
          toolName: "mcp__docs__search",
          toolInput: { q: "codex" },
          itemType: "mcp_tool_call",
        },
      },
      {
        type: "tool_call_completed",
        data: {
          toolCallId: `${TOOL_RUN}:item_2`,
          nativeToolCallId: "item_2",
          toolName: "mcp__docs__search",
          toolOutput: { content: [{ type: "text", text: "found" }], structuredContent: null },
        },
      },
      {
        type: "tool_call_started",
        data: {
          toolCallId: `${TOOL_RUN}:item_3`,
          nativeToolCallId: "item_3",
          toolName: "mcp__docs__fetch",
          toolInput: { url: "x" },
          itemType: "mcp_tool_call",
        },
      },
      {
        type: "tool_call_failed",
        data: {
          toolCallId: `${TOOL_RUN}:item_3`,
          nativeToolCallId: "item_3",
          toolName: "mcp__docs__fetch",
          toolOutput: { error: "tool timed out" },
          errorMessage: "tool timed out",
        },
      },
      {
        type: "tool_call_started",
        data: {
          toolCallId: `${TOOL_RUN}:item_4`,
          nativeToolCallId: "item_4",
          toolName: "WebSearch",
          toolInput: { query: "codex exec json" },
          itemType: "web_search",
        },
      },
      {
        type: "tool_call_completed",
        data: {
          toolCallId: `${TOOL_RUN}:item_4`,
          nativeToolCallId: "item_4",
          toolName: "WebSearch",
          toolOutput: { query: "codex exec json", action: { type: "search", query: "codex exec json" } },
        },
      },
      {
        type: "tool_call_started",
        data: {
          toolCallId: `${TOOL_RUN}:item_5`,
          nativeToolCallId: "item_5",
          toolName: "collab_tool_call",
          toolInput: {
            tool: "spawn_agent",
            sender_thread_id: SCRIPTED_CODEX_THREAD_ID,
            receiver_thread_ids: ["t-2"],
          },
          itemType: "collab_tool_call",
        },
      },
      {
        type: "tool_call_completed",
        data: {
          toolCallId: `${TOOL_RUN}:item_5`,
          nativeToolCallId: "item_5",
          toolName: "collab_tool_call",
          toolOutput: {
            tool: "spawn_agent",
            sender_thread_id: SCRIPTED_CODEX_THREAD_ID,
            receiver_thread_ids: ["t-2"],
          },
        },
      },
      {
        type: "tool_call_completed",
        data: {
          toolCallId: `${TOOL_RUN}:item_0`,
          nativeToolCallId: "item_0",
          toolName: "TodoWrite",
          toolOutput: {
            items: [
              { text: "look around", completed: true },
              { text: "answer", completed: true },
            ],
          },
        },
      },
    ]);
    const warnings = sink.of("error_occurred");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.data).toMatchObject({
      errorCode: "provider_error",
      fatal: false,
      details: { source: "item", itemId: "item_6" },
    });
  });

  it("two runs of one session, each with Codex's item_0, store distinct toolCallIds and keep the native id", async () => {
    const { adapter } = scripted("tool-use.jsonl");
    const store = new MemorySessionStore();
    const manager = new SessionManager({ store, adapter });
    const session = await manager.startSession({ agentId: "codex" });
    await manager.activateSession(session.id);
    const first = await manager.executeRun((await manager.startRun(session.id, "first")).id);
    const second = await manager.executeRun((await manager.startRun(session.id, "second")).id);
    const started = (await store.getEvents(session.id, { limit: 1000 })).filter(
      (event) => event.type === "tool_call_started",
    );
    expect(started.map((event) => [event.runId, event.data.toolCallId, event.data.nativeToolCallId])).toEqual(
      [
        [first.runId, `${first.runId}:item_0`, "item_0"],
        [first.runId, `${first.runId}:item_1`, "item_1"],
        [second.runId, `${second.runId}:item_0`, "item_0"],
        [second.runId, `${second.runId}:item_1`, "item_1"],
      ],
    );
    expect(new Set(started.map((event) => event.data.toolCallId)).size).toBe(4);
  });

  it("reports warnings and reconnect notices as error_occurred (fatal: false); the run completes", async () => {
    const { adapter } = scripted("reconnect-warnings.jsonl");
    const { result, sink } = await succeeds(run(adapter));
    expect(result.output.content).toBe("Hello after a reconnect");
    const warnings = sink.of("error_occurred").map((event) => event.data);
    expect(warnings).toHaveLength(3);
    // Classified as what they say: a model warning, then two dropped connections (transient).
    expect(warnings.map((warning) => warning.errorCode)).toEqual([
      "provider_error",
      "provider_unavailable",
      "provider_unavailable",
    ]);
    for (const warning of warnings) {
      expect(warning.fatal).toBe(false);
      expect(warning.providerError?.provider).toBe("codex");
    }
    expect(warnings.map((warning) => warning.details)).toEqual([
      { source: "item", itemId: "item_0" },
      { source: "item", itemId: "item_1" },
      { source: "stream", reconnectAttempt: 1, maxReconnectAttempts: 5 },
    ]);
    // The warning before turn.started still comes after run_started.
    expect(sink.events[0]?.type).toBe("run_started");
  });

  it("skips a malformed line and an oversized line, reporting each in stream order", async () => {
    const { adapter } = scripted("oversized.jsonl", { maxLineBytes: 4096 });
    const { result, sink } = await succeeds(run(adapter));
    expect(result.output.content).toBe("Still here");
    const problems = sink.of("error_occurred").map((event) => event.data);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({
      errorCode: "parse_error",
      fatal: false,
      providerError: { provider: "codex", kind: "parse_error" },
      // Lines are counted in Codex's own output: thread.started, turn.started, then this one.
      details: { reason: "oversized_line", lineNumber: 3, bytes: 20000, truncated: true },
    });
    expect(String(problems[0]?.details?.line).length).toBeLessThanOrEqual(4096);
    expect(problems[1]).toMatchObject({ details: { reason: "not_an_object", line: "[1, 2, 3]" } });
    const types = sink.events.map((event) => event.type);
    expect(types.indexOf("error_occurred")).toBeLessThan(types.indexOf("message_received"));
  });
});

describe("CodexAdapter: failures", () => {
  it("turn.failed with a 401 → provider_authentication_failed with a login hint and Codex's message", async () => {
    const { adapter } = scripted("auth-failure.jsonl");
    const { error, sink } = await fails(run(adapter), "provider_authentication_failed");
    expect(error.message).toBe(
      "Codex CLI turn failed: unexpected status 401 Unauthorized: Incorrect API key provided: dummy., url: http://127.0.0.1:18080/v1/responses",
    );
    expect(error.hint).toBe(PROVIDERS.codex.loginHint);
    expect(error.details).toMatchObject({ status: 401, providerSessionId: SCRIPTED_CODEX_THREAD_ID });
    expect(error.providerError).toMatchObject({ provider: "codex", kind: "authentication", exitCode: 1 });
    expect(error.providerError?.stderr).toContain("Reading prompt from stdin...");
    // The retries before the failure are warnings, classified as what they are.
    const warnings = sink.of("error_occurred").map((event) => event.data);
    expect(warnings).toHaveLength(3);
    expect(warnings.every((warning) => warning.errorCode === "provider_authentication_failed")).toBe(true);
    expect(warnings.every((warning) => warning.fatal === false)).toBe(true);
  });

  it("turn.failed with a 429 → provider_rate_limited (retryable)", async () => {
    const { adapter } = scripted("rate-limited.jsonl");
    const { error } = await fails(run(adapter), "provider_rate_limited");
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ status: 429 });
  });

  it("turn.failed with Codex's colon form (last status: 429) → provider_rate_limited with status 429", async () => {
    const { adapter } = scripted("rate-limited-retry-limit.jsonl");
    const { error, sink } = await fails(run(adapter), "provider_rate_limited");
    expect(error.retryable).toBe(true);
    // The status is the one the message names, not the refused WebSocket's 426 in stderr.
    expect(error.details).toMatchObject({ status: 429 });
    expect(error.details.retryAfterMs).toBeUndefined();
    const warnings = sink.of("error_occurred").map((event) => event.data);
    expect(warnings.map((warning) => [warning.errorCode, warning.details?.status])).toEqual([
      ["provider_rate_limited", 429],
      ["provider_rate_limited", 429],
    ]);
  });

  it("a rate limit that says when to retry → details.retryAfterMs, on the failure and its warning", async () => {
    const { adapter } = scripted("rate-limited-retry-after.jsonl");
    const { error, sink } = await fails(run(adapter), "provider_rate_limited");
    expect(error.details).toMatchObject({ retryAfterMs: 1800 });
    expect(sink.of("error_occurred")[0]?.data.details).toMatchObject({ retryAfterMs: 1800 });
  });

  it("Codex's words for an API 500 (no status) → provider_unavailable (retryable)", async () => {
    const { adapter } = scripted("server-error.jsonl");
    const { error } = await fails(run(adapter), "provider_unavailable");
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ errorType: "server_error" });
    expect(error.message).toContain("experiencing high demand");
  });

  it("a dropped connection (stream disconnected) → provider_unavailable (retryable)", async () => {
    const { adapter } = scripted("disconnected.jsonl");
    const { error } = await fails(run(adapter), "provider_unavailable");
    expect(error.retryable).toBe(true);
    expect(error.message).toContain("stream disconnected before completion");
  });

  it("turn.failed for good, without a status → provider_error with the stderr tail", async () => {
    const { adapter } = scripted("failure.jsonl");
    const { error } = await fails(run(adapter), "provider_error");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("ran out of room in the model's context window");
    expect(error.providerError).toMatchObject({ provider: "codex", exitCode: 1 });
    expect(error.providerError?.stderr).toContain("ERROR codex_core::codex: turn failed");
  });

  it("a non-zero exit without turn.failed → provider_error naming the exit, with stderr", async () => {
    const { adapter } = scripted("exit-nonzero.jsonl");
    const { error } = await fails(run(adapter), "provider_error");
    expect(error.message).toBe("Codex CLI exited with code 2: something broke");
    expect(error.providerError).toMatchObject({ kind: "transport_exit", exitCode: 2 });
    expect(error.providerError?.stderr).toContain("panicked");
  });

  it("a crash (killed by a signal) → provider_error; nothing of it is left", async () => {
    const { adapter, record } = scripted("crash.jsonl");
    const { error } = await fails(run(adapter), "provider_error");
    expect(error.message).toContain("SIGKILL");
    expect(error.details).toMatchObject({ signal: "SIGKILL" });
    expect(isProcessAlive(record().pid)).toBe(false);
  });

  it("outside a git repository → provider_error with a hint and the suggested option skipGitRepoCheck", async () => {
    const { adapter } = scripted("not-a-git-repo.jsonl");
    const { error } = await fails(run(adapter), "provider_error");
    expect(error.message).toContain("--skip-git-repo-check was not specified");
    expect(error.hint).toContain("skipGitRepoCheck");
    // The option that fixes it, for front ends to phrase (the CLI: --provider-option skipGitRepoCheck=true).
    expect(error.details.suggestedProviderOption).toEqual({ key: "skipGitRepoCheck", value: true });
  });

  it("an exit 0 without turn.completed → provider_error (protocol_error)", async () => {
    const { adapter } = scripted("no-turn-end.jsonl");
    const { error } = await fails(run(adapter), "provider_error");
    expect(error.message).toBe("Codex CLI ended without completing the turn");
    expect(error.providerError?.kind).toBe("protocol_error");
  });

  it("a missing executable → provider_unavailable with the install hint", async () => {
    const adapter = new CodexAdapter({ executablePath: path.join(workDir, "no-such-codex"), cwd: workDir });
    const { error } = await fails(run(adapter), "provider_unavailable");
    expect(error.hint).toBe(PROVIDERS.codex.installHint);
    expect(error.providerError?.kind).toBe("cli_not_found");
  });

  it("an executable the guard cannot start (a directory) → provider_error from its spawn error", async () => {
    const adapter = new CodexAdapter({ executablePath: workDir, cwd: workDir });
    const { error, sink } = await fails(run(adapter), "provider_error");
    expect(error.message).toContain("cannot start Codex CLI");
    expect(error.details).toMatchObject({ executablePath: workDir, errno: "EACCES" });
    expect(error.providerError?.kind).toBe("process_error");
    expect(sink.events).toEqual([]);
  });

  it("a missing SDK → dependency_not_available with an install hint", async () => {
    const missing = Object.assign(new Error("Cannot find package '@openai/codex-sdk'"), {
      code: "ERR_MODULE_NOT_FOUND",
    });
    await expect(importCodexSdk(() => Promise.reject(missing))).rejects.toMatchObject({
      code: "dependency_not_available",
      hint: "npm install @openai/codex-sdk",
    });
  });

  it("a command input is a validation_error", async () => {
    const { adapter } = scripted("text.jsonl");
    await fails(run(adapter, { command: ["ls"] }), "validation_error");
  });
});

describe("CodexAdapter: cancellation", () => {
  it("a CLI that ignores SIGTERM is SIGKILLed after killGraceMs; the tree is gone", async () => {
    const { adapter, recordPath } = scripted("stall-ignores-sigterm.jsonl");
    const controller = new AbortController();
    const pending = run(adapter, { prompt: "stall" }, {}, controller.signal);
    let pids: number[] | undefined;
    const deadline = Date.now() + 20_000;
    while (pids === undefined && Date.now() < deadline) {
      const record = readScriptedCliRecord(recordPath);
      const guard = record?.stalled ? parentPid(record.pid) : undefined;
      if (record && guard !== undefined) pids = [guard, record.pid, ...record.childPids];
      else await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (pids === undefined) throw new Error("the scripted CLI never stalled");
    const startedAt = Date.now();
    controller.abort();
    const { sink } = await fails(pending, "cancelled");
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(pids.filter(isProcessAlive)).toEqual([]);
    expect(sink.of("run_started")).toHaveLength(1);
  });
});

describe("CodexAdapter: resumed threads and usage", () => {
  const thread = "0199a000-0000-7000-8000-0000000000aa";
  const before = { inputTokens: 20, outputTokens: 9, cacheReadTokens: 100, reasoningTokens: 4 };
  const threadTotal = { inputTokens: 90, outputTokens: 17, cacheReadTokens: 130, reasoningTokens: 6 };
  const own = { inputTokens: 70, outputTokens: 8, cacheReadTokens: 30, reasoningTokens: 2 };

  /** The resume point the manager would derive for `threadId` after a run that left `before`. */
  const resumedFrom = (
    threadId: string,
    totals: { tokenUsage?: typeof before } = { tokenUsage: before },
  ) => ({
    resumePoints: { codex: { providerSessionId: threadId, runId: "run_earlier", totals } },
  });

  it("subtracts the resume point's thread total from Codex's thread-cumulative usage", async () => {
    const { adapter, record } = scripted("resumed.jsonl");
    const { result, sink } = await succeeds(
      run(adapter, { prompt: "continue" }, { resumeThreadId: thread }, undefined, resumedFrom(thread)),
    );
    expect(record().argv.slice(-2)).toEqual(["resume", thread]);
    expect(sink.of("run_started")[0]?.data).toMatchObject({ providerSessionId: thread, resumed: true });
    expect(strip(sink.of("token_usage_updated"))).toEqual([
      { type: "token_usage_updated", data: { ...own, cumulative: own, threadTotal } },
    ]);
    expect(result.tokenUsage).toEqual(own);
    expect(result.providerSessionId).toBe(thread);
    // The thread's total after this run: the next resume point's.
    expect(result.providerTotals).toEqual({ tokenUsage: threadTotal });
    expect(result.metadata).toEqual({ codex: { threadId: thread, resumed: true } });
  });

  it("keeps no state between runs: a second run resuming the first one's thread needs its resume point", async () => {
    // One adapter, two runs: the transcript file is swapped between them.
    const scenario = path.join(workDir, "swapped-transcript.jsonl");
    copyFileSync(path.join(TRANSCRIPTS, "text.jsonl"), scenario);
    const adapter = new CodexAdapter({
      executablePath: scriptedCliPath("codex"),
      cwd: workDir,
      env: scriptedCliEnv({ scenario }),
    });
    const first = await succeeds(run(adapter));
    expect(first.result.tokenUsage).toEqual(before);
    copyFileSync(path.join(TRANSCRIPTS, "resumed.jsonl"), scenario);
    const alone = await succeeds(
      run(adapter, { prompt: "continue" }, { resumeThreadId: SCRIPTED_CODEX_THREAD_ID }),
    );
    expect(alone.result.tokenUsage).toEqual(threadTotal);
    expect(alone.result.metadata?.codex).toMatchObject({ usageIncludesEarlierRuns: true });
    const second = await succeeds(
      run(adapter, { prompt: "continue" }, { resumeThreadId: SCRIPTED_CODEX_THREAD_ID }, undefined, {
        resumePoints: {
          codex: {
            providerSessionId: SCRIPTED_CODEX_THREAD_ID,
            runId: "run_1",
            totals: first.result.providerTotals,
          },
        },
      }),
    );
    expect(second.result.tokenUsage).toEqual(own);
    expect(second.result.metadata?.codex).not.toHaveProperty("usageIncludesEarlierRuns");
  });

  it("without the thread's previous total (no resume point, another thread's, one without usage), reports the thread's whole total and says so", async () => {
    const { adapter } = scripted("resumed.jsonl");
    const cases = [
      {},
      resumedFrom("0199a000-0000-7000-8000-0000000000bb"),
      resumedFrom(thread, {}),
      { resumePoints: { claude: resumedFrom(thread).resumePoints.codex } },
    ];
    for (const parts of cases) {
      const { result } = await succeeds(
        run(adapter, { prompt: "continue" }, { resumeThreadId: thread }, undefined, parts),
      );
      expect(result.tokenUsage).toEqual(threadTotal);
      expect(result.metadata?.codex).toMatchObject({ usageIncludesEarlierRuns: true });
    }
  });
});

describe("CodexAdapter: command line, stdin and environment", () => {
  it("default mode: only --cd; the prompt on stdin; env merged, with the SDK's marker and without the guard's", async () => {
    const { adapter, record } = scripted("text.jsonl", { env: { ASM_CODEX_TEST: "yes" } });
    await succeeds(run(adapter, { prompt: "Say hello\nin two lines" }));
    const seen = record();
    expect(seen.argv).toEqual(["exec", "--experimental-json", "--cd", workDir]);
    expect(seen.stdin).toEqual(["Say hello\nin two lines"]);
    expect(seen.stdinClosed).toBe(true);
    expect(seen.env.ASM_CODEX_TEST).toBe("yes");
    expect(seen.env.CODEX_INTERNAL_ORIGINATOR_OVERRIDE).toBe("codex_sdk_ts");
    expect(seen.env.PATH).toBe(process.env.PATH);
    expect(seen.env).not.toHaveProperty("ASM_CODEX_GUARD");
  });

  it("plan, model, system prompt, base URL and provider options reach Codex's argv", async () => {
    const { adapter, record } = scripted("text.jsonl", {
      permissionMode: "plan",
      model: "gpt-test",
      systemPrompt: 'Answer "briefly".',
      baseUrl: "http://127.0.0.1:9/v1",
      providerOptions: {
        modelReasoningEffort: "low",
        skipGitRepoCheck: true,
        apiKey: "sk-test",
        config: { features: { plugins: false } },
      },
    });
    const { sink, result } = await succeeds(run(adapter));
    expect(record().argv).toEqual([
      "exec",
      "--experimental-json",
      "--config",
      "features.plugins=false",
      "--config",
      'developer_instructions="Answer \\"briefly\\"."',
      "--config",
      'openai_base_url="http://127.0.0.1:9/v1"',
      "--model",
      "gpt-test",
      "--sandbox",
      "read-only",
      "--cd",
      workDir,
      "--skip-git-repo-check",
      "--config",
      'model_reasoning_effort="low"',
      "--config",
      'approval_policy="never"',
    ]);
    expect(record().env.CODEX_API_KEY).toBe("[redacted]");
    expect(sink.of("run_started")[0]?.data.model).toBe("gpt-test");
    expect(result.model).toBe("gpt-test");
  });

  it("per-run options win; a resumed thread gets its thread options again, then resume <id>", async () => {
    const { adapter, record } = scripted("resumed.jsonl", { model: "gpt-a", permissionMode: "plan" });
    await succeeds(
      run(
        adapter,
        { prompt: "go on" },
        { resumeThreadId: "thread-9", model: "gpt-b", permissionMode: "full_auto", systemPrompt: "  " },
      ),
    );
    expect(record().argv).toEqual([
      "exec",
      "--experimental-json",
      "--model",
      "gpt-b",
      "--sandbox",
      "workspace-write",
      "--cd",
      workDir,
      "--config",
      'approval_policy="never"',
      "resume",
      "thread-9",
    ]);
    expect(record().stdin).toEqual(["go on"]);
  });

  it("deniedTools: [WebSearch] switches web search off; dangerously_skip_permissions drops the sandbox", async () => {
    const { adapter, record } = scripted("text.jsonl", {
      deniedTools: ["WebSearch"],
      permissionMode: "dangerously_skip_permissions",
      providerOptions: { webSearchMode: "live" },
    });
    await succeeds(run(adapter));
    const argv = record().argv;
    expect(argv).toContain('web_search="disabled"');
    expect(argv.join(" ")).toContain("--sandbox danger-full-access");
  });

  it("a messages input becomes one prompt; an output schema yields structuredOutput", async () => {
    const scenario = path.join(workDir, "json-answer.jsonl");
    writeTranscript(scenario, [
      { type: "thread.started", thread_id: "{{threadId}}" },
      { type: "item.completed", item: { id: "item_0", type: "agent_message", text: '{"answer":42}' } },
      { type: "turn.completed", usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 1 } },
    ]);
    const recordPath = path.join(workDir, "json-answer-record.json");
    const adapter = new CodexAdapter({
      executablePath: scriptedCliPath("codex"),
      cwd: workDir,
      env: scriptedCliEnv({ scenario, record: recordPath }),
    });
    const { result } = await succeeds(
      run(
        adapter,
        {
          messages: [
            { role: "user", content: "q" },
            { role: "assistant", content: "a" },
            { role: "user", content: "q2" },
          ],
        },
        { outputSchema: { type: "object", properties: { answer: { type: "number" } } } },
      ),
    );
    expect(result.output).toEqual({ content: '{"answer":42}', structuredOutput: { answer: 42 } });
    // Older CLIs send no reasoning count and no cache writes: those buckets stay absent.
    expect(result.tokenUsage).toEqual({ inputTokens: 1, outputTokens: 1, cacheReadTokens: 0 });
    const seen = readScriptedCliRecord(recordPath);
    expect(seen?.stdin).toEqual(["user: q\n\nassistant: a\n\nuser: q2"]);
    expect(seen?.argv).toContain("--output-schema");
  });
});

describe("CodexAdapter: a run's tool rules as Codex's switches", () => {
  /** Runs `transcript` with `toolRules` and returns the argv Codex was started with. */
  async function argvWith(
    toolRules: ToolRestrictions | undefined,
    options: CodexAdapterOptions = {},
    transcript = "text.jsonl",
  ): Promise<string[]> {
    return argvWithToolRules(scripted(transcript, options), toolRules);
  }
  /** The settings a policy may change, as `flag value` pairs. */
  const switches = (argv: readonly string[]): string[] =>
    argv.flatMap((arg, at) =>
      /^(features\.shell_tool|web_search|approval_policy)=/.test(arg) || argv[at - 1] === "--sandbox"
        ? [`${argv[at - 1]} ${arg}`]
        : [],
    );

  it("a denied Bash removes the shell tool; the sandbox stays the mode's", async () => {
    const argv = await argvWith({ deniedTools: ["Bash"] }, { permissionMode: "full_auto" });
    expect(switches(argv)).toEqual([
      "--config features.shell_tool=false",
      "--sandbox workspace-write",
      '--config approval_policy="never"',
    ]);
  });

  it("an allow list switches off what it does not name, after the caller's raw overrides", async () => {
    const argv = await argvWith(
      { allowedTools: ["Read", "Edit"] },
      { permissionMode: "full_auto", providerOptions: { configOverrides: ["features.shell_tool=true"] } },
    );
    expect(switches(argv)).toEqual([
      "--config features.shell_tool=true",
      "--config features.shell_tool=false",
      "--sandbox workspace-write",
      '--config web_search="disabled"',
      '--config approval_policy="never"',
    ]);
  });

  it("a denied file change (Edit or Write) means a read-only sandbox, whatever the mode said", async () => {
    const argv = await argvWith(
      { deniedTools: ["Write"] },
      { permissionMode: "dangerously_skip_permissions", providerOptions: { approvalPolicy: "on-request" } },
    );
    expect(switches(argv)).toEqual(["--sandbox read-only", '--config approval_policy="never"']);
  });

  it("without tool rules, or with rules on tools it cannot switch off, the invocation is unchanged", async () => {
    const plain = ["exec", "--experimental-json", "--cd", workDir];
    expect(await argvWith(undefined)).toEqual(plain);
    expect(await argvWith({ deniedTools: ["TodoWrite", "mcp__docs__search"] })).toEqual(plain);
  });

  it("through SessionManager: Bash denied reaches Codex, and a command anyway is a policy_violation", async () => {
    const { adapter, record } = scripted("tool-use.jsonl");
    const manager = new SessionManager({ store: new MemorySessionStore(), adapter });
    const events: AsmEvent[] = [];
    const failure = await manager
      .runOnce("Run echo", {
        policy: { name: "no-shell", toolRules: [{ deny: ["Bash"] }] },
        onEvent: (event) => events.push(event),
      })
      .catch((error: unknown) => error);
    expect(record().argv).toEqual(expect.arrayContaining(["--config", "features.shell_tool=false"]));
    // The transcript's Codex runs a command regardless: the manager's enforcement is the safety net.
    expect(failure).toMatchObject({ code: "policy_violation" });
    expect(events.find((event) => event.type === "policy_violation")?.data).toMatchObject({
      policy: "no-shell",
      kind: "tool_denied",
      details: { toolName: "Bash" },
    });
  });
});

describe("CodexAdapter: options", () => {
  it.each([
    [{ maxTurns: 3 }, "capability_not_supported", "maxTurns"],
    [{ allowedTools: ["Bash"] }, "capability_not_supported", "allowedTools"],
    [{ deniedTools: ["WebSearch", "Bash"] }, "capability_not_supported", "Bash"],
    [{ providerOptions: { env: {} } }, "validation_error", "providerOptions.env"],
    [{ providerOptions: { model: "x" } }, "validation_error", "providerOptions.model"],
    [{ providerOptions: { sandbox: "read-only" } }, "validation_error", "sandbox"],
    [{ providerOptions: { sandboxMode: "none" } }, "validation_error", "sandboxMode"],
    [{ providerOptions: { config: { a: null } } }, "validation_error", "config"],
    [{ baseUrl: "ftp://example.test" }, "validation_error", "baseUrl"],
    [{ killGraceMs: -1 }, "validation_error", "killGraceMs"],
  ])("rejects %j with %s naming %s", (options, code, named) => {
    expect(() => new CodexAdapter(options as CodexAdapterOptions)).toThrowError(
      expect.objectContaining({ code, message: expect.stringContaining(named) }),
    );
  });

  it.each([
    [{ maxTurns: 2 }, "maxTurns"],
    // The baseline comes from the resume point now; the old option is an unknown key.
    [{ previousThreadUsage: { inputTokens: 1, outputTokens: 1 } }, "previousThreadUsage"],
    [{ resumeThreadId: "" }, "resumeThreadId"],
  ])("rejects run options %j naming %s", async (options, named) => {
    const { adapter } = scripted("text.jsonl");
    const { error } = await fails(run(adapter, { prompt: "hi" }, options), "validation_error");
    expect(error.message).toContain(named);
  });

  it("maps the permission modes to a sandbox and approval policy", () => {
    expect(codexPermissionSettings("default")).toEqual({});
    expect(codexPermissionSettings("plan")).toEqual({ sandboxMode: "read-only", approvalPolicy: "never" });
    expect(codexPermissionSettings("accept_edits")).toEqual({
      sandboxMode: "workspace-write",
      approvalPolicy: "never",
    });
    expect(codexPermissionSettings("full_auto")).toEqual({
      sandboxMode: "workspace-write",
      approvalPolicy: "never",
    });
    expect(codexPermissionSettings("dangerously_skip_permissions")).toEqual({
      sandboxMode: "danger-full-access",
      approvalPolicy: "never",
    });
  });

  it("declares what Codex cannot do as disabled capabilities", () => {
    const disabled = CODEX_CAPABILITIES.filter((capability) => capability.enabled === false).map(
      (c) => c.name,
    );
    expect(disabled).toEqual(["interrupt", "tool_permissions"]);
    // codex exec has no soft interrupt: the adapter offers none, so the manager cancels (SDK abort, then the group).
    expect("interrupt" in new CodexAdapter({})).toBe(false);
  });

  it("finds the Codex binary the SDK would run, when its platform package is installed", () => {
    const found = findBundledCodex();
    if (found === undefined) return; // installed with --omit=optional
    expect(found.executablePath).toMatch(/vendor\/[^/]+\/(bin\/codex|codex\/codex)$/);
    expect(found.pathDirs.every((dir) => path.isAbsolute(dir))).toBe(true);
  });

  it("keeps the guard launcher in a directory only this user can write", () => {
    const script = `#!/bin/sh\n# ${Math.random()}\n`;
    const first = launcherDir(script);
    expect(first.temporary).toBe(false);
    expect(statSync(first.dir).mode & 0o077).toBe(0);
    expect(launcherDir(script)).toEqual(first);
    // A directory of that name others can write (made first by someone else) is not used.
    chmodSync(first.dir, 0o777);
    const fallback = launcherDir(script);
    expect(fallback.temporary).toBe(true);
    expect(fallback.dir).not.toBe(first.dir);
    rmSync(first.dir, { recursive: true, force: true });
    rmSync(fallback.dir, { recursive: true, force: true });
  });

  it("takes guard frames only with the run's token", () => {
    const started = { type: "asm.codex_guard.started", token: "t1", guardPid: 10, pid: 11 };
    expect(parseGuardFrame(started, "t1")).toEqual(started);
    expect(parseGuardFrame(started, "t2")).toBeUndefined();
    expect(parseGuardFrame({ ...started, pid: "11" }, "t1")).toBeUndefined();
    expect(parseGuardFrame({ type: "thread.started", thread_id: "x" }, "t1")).toBeUndefined();
  });
});
