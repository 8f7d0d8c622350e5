import { copyFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import type { PermissionMode } from "../../core/permission-mode.js";
import type { ToolRestrictions } from "../../ports/provider-adapter.js";
import { SessionManager } from "../../session-manager.js";
import { MemorySessionStore } from "../../stores/memory/index.js";
import { defineAdapterConformance, isProcessAlive } from "../../testing/adapter-conformance.js";
import {
  readScriptedCliRecord,
  SCRIPTED_CLAUDE_INTERRUPTED_COST_USD,
  SCRIPTED_CLAUDE_SESSION_ID,
  type ScriptedCliRecord,
  scriptedCliEnv,
  scriptedCliPath,
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
import { ClaudeAdapter, type ClaudeAdapterOptions } from "./index.js";
import { importClaudeSdk } from "./sdk-loader.js";

const TRANSCRIPTS = fileURLToPath(new URL("./transcripts/", import.meta.url));
const workDir = tempWorkDir("asm-claude-test-");

/** A ClaudeAdapter on the real SDK, with the scripted Claude CLI playing `transcript`. */
const scripted = scriptedAdapterFactory({
  cli: "claude",
  transcripts: TRANSCRIPTS,
  workDir,
  create: (options: ClaudeAdapterOptions) => new ClaudeAdapter(options),
});

// ---------------------------------------------------------------------------------------------
// The shared adapter contract, on transcripts of Claude Code's real protocol.
// ---------------------------------------------------------------------------------------------

defineAdapterConformance(
  {
    name: "ClaudeAdapter (scripted CLI)",
    providerSessionIds: true,
    async adapterFor(scenario, { tmpDir }) {
      const { adapter, recordPath } = scripted(CONFORMANCE_TRANSCRIPTS[scenario], {}, tmpDir);
      return {
        adapter,
        input: { prompt: "Say hello" },
        expectedText: "Hello from Claude",
        processIds: () => {
          const record = readScriptedCliRecord(recordPath);
          return record?.stalled ? [record.pid, ...record.childPids] : undefined;
        },
      };
    },
  },
  { describe, it, skip: it.skip },
);

// ---------------------------------------------------------------------------------------------
// Claude-specific mapping.
// ---------------------------------------------------------------------------------------------

describe("ClaudeAdapter: events", () => {
  it("maps a streamed text answer: run_started, deltas, the complete message once, usage, result", async () => {
    const { adapter } = scripted("text.jsonl");
    const { result, sink } = await succeeds(run(adapter));
    const cumulative = { inputTokens: 12, outputTokens: 5, cacheReadTokens: 100, cacheWriteTokens: 0 };
    expect(strip(sink.events)).toEqual([
      {
        type: "run_started",
        data: {
          providerSessionId: SCRIPTED_CLAUDE_SESSION_ID,
          model: "claude-sonnet-4-5",
          cwd: workDir,
          tools: ["Bash", "Read", "Write"],
          permissionMode: "default",
          claudeCodeVersion: "2.1.330",
        },
      },
      { type: "message_streamed", data: { delta: "Hello", messageId: "msg_t1" } },
      { type: "message_streamed", data: { delta: " from Claude", messageId: "msg_t1" } },
      {
        type: "message_received",
        data: { role: "assistant", content: "Hello from Claude", messageId: "msg_t1" },
      },
      { type: "token_usage_updated", data: { messageId: "msg_t1", ...cumulative, cumulative } },
    ]);
    expect(result).toEqual({
      output: { content: "Hello from Claude" },
      stopReason: "end_turn",
      tokenUsage: cumulative,
      costUsd: 0.00132,
      providerSessionId: SCRIPTED_CLAUDE_SESSION_ID,
      model: "claude-sonnet-4-5",
      turnCount: 1,
      providerTotals: { costUsd: 0.00132 },
      metadata: {
        claude: {
          sessionId: SCRIPTED_CLAUDE_SESSION_ID,
          subtype: "success",
          durationMs: 1200,
          durationApiMs: 900,
          terminalReason: "completed",
        },
      },
    });
  });

  it("thinking is streamed (stream: thinking) and never becomes message_received; usage once per API message", async () => {
    const { adapter } = scripted("thinking.jsonl", { includePartialMessages: false });
    const { result, sink } = await succeeds(run(adapter));
    expect(strip(sink.events.slice(1))).toEqual([
      {
        type: "message_streamed",
        data: { delta: "The user wants a greeting.", stream: "thinking", messageId: "msg_k1" },
      },
      { type: "message_received", data: { role: "assistant", content: "Hi!", messageId: "msg_k1" } },
      {
        type: "token_usage_updated",
        data: {
          messageId: "msg_k1",
          inputTokens: 20,
          outputTokens: 9,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          cumulative: { inputTokens: 20, outputTokens: 9, cacheReadTokens: 0, cacheWriteTokens: 0 },
        },
      },
    ]);
    expect(result.output.content).toBe("Hi!");
  });

  it("pairs tool_use with its tool_result under canonical keys and reports usage per message with the cumulative", async () => {
    const { adapter } = scripted("tool-use.jsonl");
    const { result, sink } = await succeeds(run(adapter, { prompt: "run echo hi" }));
    expect(sink.of("tool_call_started").map((event) => event.data)).toEqual([
      {
        toolCallId: "toolu_01",
        toolName: "Bash",
        toolInput: { command: "echo hi", description: "Print hi" },
      },
    ]);
    expect(sink.of("tool_call_completed").map((event) => event.data)).toEqual([
      { toolCallId: "toolu_01", toolName: "Bash", toolOutput: "hi" },
    ]);
    expect(sink.of("message_received").map((event) => event.data.content)).toEqual([
      "Let me run that.",
      "The command printed hi.",
    ]);
    const usage = sink.of("token_usage_updated").map((event) => event.data);
    expect(usage).toEqual([
      {
        messageId: "msg_u1",
        inputTokens: 30,
        outputTokens: 25,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        cumulative: { inputTokens: 30, outputTokens: 25, cacheReadTokens: 0, cacheWriteTokens: 0 },
      },
      {
        messageId: "msg_u2",
        inputTokens: 60,
        outputTokens: 8,
        cacheReadTokens: 30,
        cacheWriteTokens: 0,
        cumulative: { inputTokens: 90, outputTokens: 33, cacheReadTokens: 30, cacheWriteTokens: 0 },
      },
    ]);
    expect(result.tokenUsage).toEqual({
      inputTokens: 90,
      outputTokens: 33,
      cacheReadTokens: 30,
      cacheWriteTokens: 0,
    });
    expect(result.turnCount).toBe(2);
  });

  it("reports a permission denial once, fails the tool call, and still completes", async () => {
    const { adapter } = scripted("permission-denied.jsonl");
    const { result, sink } = await succeeds(run(adapter));
    const denials = sink.of("error_occurred");
    expect(denials.map((event) => event.data)).toEqual([
      {
        errorCode: "tool_permission_denied",
        errorMessage: "Claude Code was not allowed to use Write: Permission to use Write has been denied.",
        fatal: false,
        details: {
          toolName: "Write",
          toolCallId: "toolu_w1",
          decisionReasonType: "mode",
          reason: "Permission to use Write has been denied.",
        },
      },
    ]);
    expect(sink.of("tool_call_failed").map((event) => event.data)).toEqual([
      {
        toolCallId: "toolu_w1",
        toolName: "Write",
        toolOutput: "Permission to use Write has been denied.",
        errorMessage: "Permission to use Write has been denied.",
      },
    ]);
    expect(result.metadata?.claude).toMatchObject({
      permissionDenials: [{ toolName: "Write", toolCallId: "toolu_w1" }],
    });
  });
});

describe("ClaudeAdapter: failures", () => {
  it("an error result fails the run with provider_error, its errors and the stderr tail", async () => {
    const { adapter } = scripted("failure.jsonl");
    const { error } = await fails(run(adapter), "provider_error");
    expect(error.message).toContain("Tool execution crashed: disk full");
    expect(error.providerError).toMatchObject({ provider: "claude", exitCode: 1, kind: "transport_exit" });
    expect(error.providerError?.stderr).toContain("Error: disk full");
    expect(error.details).toMatchObject({
      subtype: "error_during_execution",
      terminalReason: "model_error",
      providerSessionId: SCRIPTED_CLAUDE_SESSION_ID,
    });
  });

  it("a CLI that dies mid-stream fails the run (never hangs), with the signal and stderr", async () => {
    const { adapter } = scripted("crash.jsonl");
    const { error, sink } = await fails(run(adapter), "provider_error");
    expect(error.providerError?.kind).toBe("transport_exit");
    expect(error.details.signal).toBe("SIGKILL");
    expect(error.providerError?.stderr).toContain("fatal: out of memory");
    expect(sink.of("message_received").map((event) => event.data.content)).toEqual(["Working on it"]);
    // The message never ended, but its tokens were reported: they are kept.
    expect(sink.of("token_usage_updated").map((event) => event.data.messageId)).toEqual(["msg_c1"]);
    expect(sink.of("token_usage_updated")[0]?.data.inputTokens).toBe(10);
  });

  it("a non-zero exit without output is provider_error with the exit code and stderr, and no events", async () => {
    const { adapter } = scripted("exit-nonzero.jsonl");
    const { error, sink } = await fails(run(adapter), "provider_error");
    expect(error.providerError).toMatchObject({ exitCode: 2, message: "Error: Invalid --model value" });
    expect(error.message).toContain("exited with code 2");
    expect(sink.events).toEqual([]);
  });

  it("a missing executable is provider_unavailable with the install hint, before any event", async () => {
    const adapter = new ClaudeAdapter({ executablePath: path.join(workDir, "no-such-claude"), cwd: workDir });
    const { error, sink } = await fails(run(adapter), "provider_unavailable");
    expect(error.hint).toBe(PROVIDERS.claude.installHint);
    expect(error.retryable).toBe(true);
    expect(sink.events).toEqual([]);
  });

  it("a 401 retry notice ends the run at once: provider_authentication_failed with the login hint, the notice a non-fatal error_occurred", async () => {
    const { adapter } = scripted("auth-failure.jsonl");
    const { error, sink } = await fails(run(adapter), "provider_authentication_failed");
    expect(error.hint).toBe(PROVIDERS.claude.loginHint);
    expect(error.message).toContain("401");
    expect(error.details).toMatchObject({
      status: 401,
      errorType: "authentication_failed",
      stoppedRetrying: true,
      providerSessionId: SCRIPTED_CLAUDE_SESSION_ID,
    });
    expect(sink.of("error_occurred").map((event) => event.data)).toEqual([
      expect.objectContaining({
        errorCode: "provider_authentication_failed",
        fatal: false,
        details: expect.objectContaining({ attempt: 1, maxRetries: 1, errorStatus: 401 }),
      }),
    ]);
    // The CLI's synthetic error text is not the model's answer.
    expect(sink.of("message_received")).toEqual([]);
  });

  it("a 429 is provider_rate_limited, retryable, with the retry notice's delay as retryAfterMs", async () => {
    const { adapter } = scripted("rate-limited.jsonl");
    const { error } = await fails(run(adapter), "provider_rate_limited");
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ status: 429, retryAfterMs: 1000 });
  });

  it("a bad key Claude Code would retry for minutes fails on its first retry notice; the CLI is stopped", async () => {
    const { adapter, record } = scripted("auth-retrying.jsonl");
    const { error, sink } = await fails(run(adapter), "provider_authentication_failed");
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({
      status: 401,
      errorType: "authentication_failed",
      stoppedRetrying: true,
    });
    expect(sink.of("error_occurred").map((event) => event.data.details)).toEqual([
      expect.objectContaining({ attempt: 1, maxRetries: 10, errorStatus: 401 }),
    ]);
    // It was stopped while it would still retry: it never ended on its own.
    const { pid, childPids, exitCode } = record();
    expect(exitCode).toBeUndefined();
    expect([pid, ...childPids].filter(isProcessAlive)).toEqual([]);
  });

  it("without retries, a 401 keeps Claude's label and the API's own error type (providerErrorType)", async () => {
    const { adapter } = scripted("auth-result.jsonl");
    const { error } = await fails(run(adapter), "provider_authentication_failed");
    expect(error.message).toContain("Invalid API key");
    expect(error.details).toMatchObject({
      status: 401,
      errorType: "authentication_error",
      providerErrorType: "authentication_error",
    });
    expect(error.providerError?.kind).toBe("authentication");
  });

  it.each([
    {
      transcript: "server-error.jsonl",
      code: "provider_unavailable",
      details: { status: 500, providerErrorType: "api_error", retryAfterMs: 600 },
    },
    {
      transcript: "overloaded.jsonl",
      code: "provider_rate_limited",
      details: { status: 529, providerErrorType: "overloaded_error", retryAfterMs: 2000 },
    },
    {
      transcript: "connection-dropped.jsonl",
      code: "provider_unavailable",
      details: { errorType: "server_error", providerErrorType: "connection_failed" },
    },
  ] as const)(
    "a transient failure ($transcript) is $code, retryable, with its facts",
    async ({ transcript, code, details }) => {
      const { adapter } = scripted(transcript);
      const { error } = await fails(run(adapter), code);
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject(details);
    },
  );

  it("a malformed line is reported in stream order, truncated, and the run goes on", async () => {
    const { adapter } = scripted("malformed.jsonl");
    const { sink } = await succeeds(run(adapter));
    expect(sink.events.map((event) => event.type)).toEqual([
      "run_started",
      "error_occurred",
      "message_received",
      "token_usage_updated",
    ]);
    expect(sink.of("run_started")[0]?.data.providerSessionId).toBe(SCRIPTED_CLAUDE_SESSION_ID);
    expect(sink.of("error_occurred")[0]?.data).toMatchObject({
      errorCode: "parse_error",
      fatal: false,
      providerError: { provider: "claude", kind: "parse_error" },
      details: { reason: "malformed_json", line: '{"type":"assistant","message": oops this is not json' },
    });
  });

  it("an oversized line is skipped without buffering it whole, reported with its start", async () => {
    const { adapter } = scripted("oversized.jsonl");
    const { result, sink } = await succeeds(run(adapter));
    const [event] = sink.of("error_occurred");
    expect(event?.data.details).toMatchObject({
      reason: "oversized_line",
      bytes: 2_000_000,
      truncated: true,
    });
    const line = event?.data.details?.line;
    expect(typeof line === "string" && line.startsWith('{"type":"oversized"') && line.length <= 4096).toBe(
      true,
    );
    expect(result.output.content).toBe("After the big line");
  });
});

describe("ClaudeAdapter: what it sends", () => {
  it("passes model, turns, mode, tools and prompt as the SDK's flags and stdin; env merged over process.env", async () => {
    const { adapter, record } = scripted("text.jsonl", {
      model: "claude-test-model",
      maxTurns: 4,
      permissionMode: "accept_edits",
      allowedTools: ["Read", "Bash(ls:*)"],
      deniedTools: ["WebFetch"],
      systemPrompt: "You are terse.",
      env: { ASM_TEST_FLAG: "on" },
    });
    await succeeds(run(adapter, { prompt: "Say hello" }));
    const { argv, env, stdin, cwd } = record();
    expect(argv.slice(0, 5)).toEqual([
      "--output-format",
      "stream-json",
      "--verbose",
      "--input-format",
      "stream-json",
    ]);
    expect(argv).toEqual(
      expect.arrayContaining([
        "--model=claude-test-model",
        "--max-turns=4",
        "--permission-mode=acceptEdits",
        "--allowedTools=Read,Bash(ls:*)",
        "--disallowedTools=WebFetch",
        "--include-partial-messages",
      ]),
    );
    expect(cwd).toBe(workDir);
    expect(env.ASM_TEST_FLAG).toBe("on");
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.CLAUDE_CODE_ENTRYPOINT).toBe("sdk-ts");
    expect(stdin[0]).toMatchObject({
      type: "control_request",
      request: { subtype: "initialize", systemPrompt: ["You are terse."] },
    });
    expect(stdin[1]).toMatchObject({
      type: "user",
      message: { role: "user", content: [{ type: "text", text: "Say hello" }] },
    });
  });

  it.each([
    ["default", "default"],
    ["accept_edits", "acceptEdits"],
    ["plan", "plan"],
    ["full_auto", "acceptEdits"],
    ["dangerously_skip_permissions", "bypassPermissions"],
  ] as const)("permission mode %s → --permission-mode=%s", async (mode: PermissionMode, native) => {
    const { adapter, record } = scripted("text.jsonl", { permissionMode: mode });
    await succeeds(run(adapter));
    const { argv } = record();
    expect(argv).toContain(`--permission-mode=${native}`);
    expect(argv.includes("--allow-dangerously-skip-permissions")).toBe(
      mode === "dangerously_skip_permissions",
    );
  });

  it("uses Claude Code's own system prompt unless one is given, and lets providerOptions through", async () => {
    const { adapter, record } = scripted("text.jsonl", {
      providerOptions: { effort: "low", settingSources: [] },
    });
    await succeeds(run(adapter));
    const { argv, stdin } = record();
    const init = stdin[0] as { request?: Record<string, unknown> };
    expect(init.request?.systemPrompt).toBeUndefined();
    expect(argv).toEqual(expect.arrayContaining(["--effort=low", "--setting-sources="]));
  });

  it("per-run options override the adapter's; a conversation becomes one prompt", async () => {
    const { adapter, record } = scripted("text.jsonl", { model: "adapter-model" });
    await succeeds(
      run(
        adapter,
        {
          messages: [
            { role: "user", content: "first" },
            { role: "assistant", content: "ok" },
            { role: "user", content: "second" },
          ],
        },
        { model: "run-model", permissionMode: "plan" },
      ),
    );
    const { argv, stdin } = record();
    expect(argv).toEqual(expect.arrayContaining(["--model=run-model", "--permission-mode=plan"]));
    expect(stdin[1]).toMatchObject({
      message: { content: [{ type: "text", text: "user: first\n\nassistant: ok\n\nuser: second" }] },
    });
  });
});

describe("ClaudeAdapter: a run's tool rules as Claude Code's tool flags", () => {
  /** Runs `text.jsonl` with `toolRules` and returns the argv the CLI was started with. */
  const argvWith = (toolRules: ToolRestrictions | undefined, options: ClaudeAdapterOptions = {}) =>
    argvWithToolRules(scripted("text.jsonl", options), toolRules);
  const toolFlags = (argv: readonly string[]) =>
    argv.filter((arg) => /^--(tools|allowedTools|disallowedTools)=/.test(arg));

  it("allowed tools become the only built-in tools (--tools), MCP tools are removed, approvals narrowed", async () => {
    const argv = await argvWith(
      { allowedTools: ["Read", "Grep", "Bash"] },
      { allowedTools: ["Read", "Bash(ls:*)", "WebFetch"], deniedTools: ["Write"] },
    );
    expect(toolFlags(argv)).toEqual([
      "--allowedTools=Read,Bash(ls:*)",
      "--disallowedTools=Write,mcp__*",
      "--tools=Read,Grep,Bash",
    ]);
  });

  it("an allow list naming an MCP tool keeps MCP servers; providerOptions' lists are narrowed too", async () => {
    const argv = await argvWith(
      { allowedTools: ["Read", "Grep", "mcp__docs__search"] },
      { providerOptions: { tools: ["Read", "Edit"], allowedTools: ["Edit"] } },
    );
    expect(toolFlags(argv)).toEqual(["--tools=Read"]);
  });

  it("denied tools join the adapter's and providerOptions' (--disallowedTools)", async () => {
    const argv = await argvWith(
      { deniedTools: ["Bash", "WebFetch"] },
      { deniedTools: ["WebFetch"], providerOptions: { disallowedTools: ["NotebookEdit"] } },
    );
    expect(toolFlags(argv)).toEqual(["--disallowedTools=NotebookEdit,WebFetch,Bash"]);
  });

  it("without tool rules the adapter's lists go through unchanged and no --tools is passed", async () => {
    const argv = await argvWith(undefined, { allowedTools: ["Read"], deniedTools: ["Bash"] });
    expect(toolFlags(argv)).toEqual(["--allowedTools=Read", "--disallowedTools=Bash"]);
  });

  it("through SessionManager: a denied tool reaches the CLI, and a call to it anyway is a policy_violation", async () => {
    const { adapter, record } = scripted("tool-use.jsonl");
    const manager = new SessionManager({ store: new MemorySessionStore(), adapter });
    const events: AsmEvent[] = [];
    const failure = await manager
      .runOnce("List the files", {
        policy: { name: "no-shell", toolRules: [{ deny: ["Bash"] }] },
        onEvent: (event) => events.push(event),
      })
      .catch((error: unknown) => error);
    expect(toolFlags(record().argv)).toEqual(["--disallowedTools=Bash"]);
    // The transcript's Claude calls Bash regardless: the manager's enforcement is the safety net.
    expect(failure).toMatchObject({ code: "policy_violation" });
    expect(events.find((event) => event.type === "policy_violation")?.data).toMatchObject({
      policy: "no-shell",
      kind: "tool_denied",
      details: { toolName: "Bash" },
    });
  });
});

describe("ClaudeAdapter: resumed sessions and cost", () => {
  /** The resume point the manager would derive for `sess-earlier` after a run that cost 0.00132. */
  const earlier = (providerSessionId = "sess-earlier") => ({
    resumePoints: { claude: { providerSessionId, runId: "run_earlier", totals: { costUsd: 0.00132 } } },
  });

  it("resumes by id and reports this run's cost: the session's total minus the resume point's", async () => {
    const { adapter, record } = scripted("resumed.jsonl");
    const { result, sink } = await succeeds(
      run(adapter, { prompt: "go on" }, { resumeSessionId: "sess-earlier" }, undefined, earlier()),
    );
    expect(record().argv).toContain("--resume=sess-earlier");
    expect(sink.of("run_started")[0]?.data.providerSessionId).toBe("sess-earlier");
    expect(result.providerSessionId).toBe("sess-earlier");
    expect(result.costUsd).toBe(0.00051);
    // The session's total after this run: the next resume point's.
    expect(result.providerTotals).toEqual({ costUsd: 0.00183 });
    expect(result.metadata?.claude).not.toHaveProperty("costNote");
  });

  it("without a resume point for the resumed session, the run's own cost is unknown and it says why", async () => {
    const { adapter } = scripted("resumed.jsonl");
    const unknown = [
      // No resume point at all, one for another Claude session, one under another provider's name.
      await succeeds(run(adapter, { prompt: "go on" }, { resumeSessionId: "sess-earlier" })),
      await succeeds(
        run(
          adapter,
          { prompt: "go on" },
          { resumeSessionId: "sess-earlier" },
          undefined,
          earlier("sess-other"),
        ),
      ),
      await succeeds(
        run(adapter, { prompt: "go on" }, { resumeSessionId: "sess-earlier" }, undefined, {
          resumePoints: { codex: earlier().resumePoints.claude },
        }),
      ),
    ];
    for (const { result } of unknown) {
      expect(result.costUsd).toBeUndefined();
      expect(result.providerTotals).toEqual({ costUsd: 0.00183 });
      expect(result.metadata?.claude).toMatchObject({ costNote: expect.stringContaining("unknown") });
    }
  });

  it("keeps no state between runs: a second run resuming the first one's session needs its resume point", async () => {
    // One adapter, one scenario file whose content the test swaps between runs.
    const scenario = path.join(workDir, "swapped-scenario.jsonl");
    copyFileSync(path.join(TRANSCRIPTS, "text.jsonl"), scenario);
    const env = scriptedCliEnv({ scenario });
    const adapter = new ClaudeAdapter({ executablePath: scriptedCliPath("claude"), cwd: workDir, env });
    const { result: first } = await succeeds(run(adapter));
    expect(first.costUsd).toBe(0.00132);
    const sessionId = first.providerSessionId ?? "";

    copyFileSync(path.join(TRANSCRIPTS, "resumed.jsonl"), scenario);
    const { result: alone } = await succeeds(
      run(adapter, { prompt: "go on" }, { resumeSessionId: sessionId }),
    );
    expect(alone.costUsd).toBeUndefined();
    const { result: resumed } = await succeeds(
      run(adapter, { prompt: "go on" }, { resumeSessionId: sessionId }, undefined, {
        resumePoints: {
          claude: { providerSessionId: sessionId, runId: "run_1", totals: first.providerTotals },
        },
      }),
    );
    expect(resumed.costUsd).toBe(0.00051);
  });

  it("passes --fork-session with a resume", async () => {
    const { adapter, record } = scripted("resumed.jsonl");
    await succeeds(run(adapter, { prompt: "x" }, { resumeSessionId: "sess-a", forkSession: true }));
    expect(record().argv).toEqual(expect.arrayContaining(["--resume=sess-a", "--fork-session"]));
  });

  it("an error result still reports the session's total, for the next resume point", async () => {
    const { adapter } = scripted("failure.jsonl");
    const { error } = await fails(run(adapter), "provider_error");
    expect(error.details).toMatchObject({
      providerSessionId: SCRIPTED_CLAUDE_SESSION_ID,
      providerTotals: { costUsd: 0 },
    });
  });
});

/** Starts a run of `transcript` and resolves once the scripted CLI stalls. */
async function stalledRun(
  transcript: string,
  options: ClaudeAdapterOptions = {},
): Promise<{
  adapter: ClaudeAdapter;
  controller: AbortController;
  pending: ReturnType<typeof run>;
  runId: string;
  record: () => ScriptedCliRecord;
}> {
  const { adapter, recordPath, record } = scripted(transcript, options);
  const controller = new AbortController();
  const runId = `run_${transcript.replace(/\W/g, "_")}_${Math.random().toString(36).slice(2)}`;
  const pending = run(adapter, { prompt: "hang" }, {}, controller.signal, { runId });
  let seen = readScriptedCliRecord(recordPath);
  for (let i = 0; i < 400 && !seen?.stalled; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    seen = readScriptedCliRecord(recordPath);
  }
  expect(seen?.stalled).toBe(true);
  return { adapter, controller, pending, runId, record };
}

function controlRequests(record: ScriptedCliRecord, subtype: string): unknown[] {
  return record.stdin.filter(
    (frame) =>
      typeof frame === "object" &&
      frame !== null &&
      "type" in frame &&
      frame.type === "control_request" &&
      "request" in frame &&
      typeof frame.request === "object" &&
      frame.request !== null &&
      "subtype" in frame.request &&
      frame.request.subtype === subtype,
  );
}

describe("ClaudeAdapter: cancellation", () => {
  it("a cancel interrupts the turn through the SDK: the CLI stops on its own, usage reported so far is kept", async () => {
    const { controller, pending, record } = await stalledRun("stall.jsonl", { killGraceMs: 30_000 });
    controller.abort();
    const { error, sink } = await fails(pending, "cancelled");
    // Stopped by the interrupt, long before the grace: no signal was needed.
    expect(controlRequests(record(), "interrupt")).toHaveLength(1);
    expect(record().exitCode).toBe(0);
    expect(error.details).toMatchObject({ providerSessionId: SCRIPTED_CLAUDE_SESSION_ID });
    expect(error.details).not.toHaveProperty("interrupted");
    expect(error.details).not.toHaveProperty("processStopped");
    // message_start reported 5 input tokens and 1 output token; the message never ended.
    expect(sink.of("token_usage_updated").map((event) => event.data)).toEqual([
      expect.objectContaining({ messageId: "msg_s1", inputTokens: 5, outputTokens: 1 }),
    ]);
  });

  it("interrupt(runId) ends the run cancelled with interrupted: true, the session to resume and the usage", async () => {
    const { adapter, pending, runId, record } = await stalledRun("stall.jsonl", { killGraceMs: 30_000 });
    expect(await adapter.interrupt(runId)).toBe(true);
    const { error, sink } = await fails(pending, "cancelled");
    expect(error.details).toMatchObject({
      interrupted: true,
      providerSessionId: SCRIPTED_CLAUDE_SESSION_ID,
      providerTotals: { costUsd: SCRIPTED_CLAUDE_INTERRUPTED_COST_USD },
    });
    expect(controlRequests(record(), "interrupt")).toHaveLength(1);
    expect(sink.of("token_usage_updated").map((event) => event.data.cumulative)).toEqual([
      { inputTokens: 5, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
    ]);
    expect(await adapter.interrupt(runId)).toBe(false);
  });

  it("through SessionManager: a cancelled run stores the tokens reported before the cancel, and their cost", async () => {
    const { adapter, recordPath } = scripted("stall.jsonl", { killGraceMs: 30_000 });
    const store = new MemorySessionStore();
    const manager = new SessionManager({ store, adapter });
    const session = await manager.startSession({ agentId: "claude" });
    await manager.activateSession(session.id);
    const started = await manager.startRun(session.id, "hang");
    const executing = manager.executeRun(started.id).catch((caught: unknown) => caught);
    for (let i = 0; i < 400 && !readScriptedCliRecord(recordPath)?.stalled; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const cancelled = await manager.cancelRun(started.id);
    expect(await executing).toMatchObject({ code: "cancelled" });
    expect(cancelled.status).toBe("cancelled");
    const stored = await store.getRun(started.id);
    expect(stored.tokenUsage).toMatchObject({ inputTokens: 5, outputTokens: 1 });
    // claude-sonnet-4-5 list price: 5 × $3/M + 1 × $15/M.
    expect(stored.costUsd).toBeCloseTo(0.00003, 12);
  });

  it("through SessionManager: a timed-out run stores the tokens reported before the timeout", async () => {
    const { adapter } = scripted("stall.jsonl", { killGraceMs: 30_000 });
    const store = new MemorySessionStore();
    const manager = new SessionManager({ store, adapter });
    // The stall only ends by a stop: the timeout ends this run, long after the CLI reported usage.
    const error = await manager
      .runOnce({ prompt: "hang" }, { timeoutMs: 3000 })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "timeout" });
    const runId = error instanceof AsmError ? String(error.details.runId) : "";
    const stored = await store.getRun(runId);
    expect(stored.status).toBe("timeout");
    expect(stored.tokenUsage).toMatchObject({ inputTokens: 5, outputTokens: 1 });
    expect(stored.costUsd).toBeCloseTo(0.00003, 12);
  });

  it("SIGKILLs a CLI that ignores SIGTERM; the run still ends cancelled and the tree is gone", async () => {
    const { adapter, recordPath } = scripted("stall-ignores-sigterm.jsonl", { killGraceMs: 200 });
    const controller = new AbortController();
    const pending = run(adapter, { prompt: "hang" }, {}, controller.signal);
    let record = readScriptedCliRecord(recordPath);
    for (let i = 0; i < 400 && !record?.stalled; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      record = readScriptedCliRecord(recordPath);
    }
    expect(record?.stalled).toBe(true);
    controller.abort();
    const { error } = await fails(pending, "cancelled");
    expect(error.details.runId).toBeDefined();
    // It ignored the interrupt too: the process group was stopped.
    expect(error.details.processStopped).toBe(true);
    const pids = [record?.pid ?? 0, ...(record?.childPids ?? [])];
    expect(pids.filter(isProcessAlive)).toEqual([]);
  });
});

describe("ClaudeAdapter: validation", () => {
  it("rejects options it cannot honour", () => {
    expect(
      () => new ClaudeAdapter({ providerOptions: { abortController: new AbortController() } }),
    ).toThrowError(expect.objectContaining({ code: "validation_error" }));
    expect(() => new ClaudeAdapter({ permissionMode: "yolo" as PermissionMode })).toThrowError(
      expect.objectContaining({ code: "validation_error" }),
    );
  });

  it("rejects bad run options and shell input before starting anything", async () => {
    const { adapter } = scripted("text.jsonl");
    const rejected = [
      await fails(run(adapter, { prompt: "x" }, { resumeSesionId: "typo" }), "validation_error"),
      // The baseline comes from the resume point now; the old option is an unknown key.
      await fails(run(adapter, { prompt: "x" }, { previousCumulativeCostUsd: 0 }), "validation_error"),
      await fails(run(adapter, { prompt: "x" }, { forkSession: true }), "validation_error"),
      await fails(run(adapter, { command: ["ls"] }), "validation_error"),
    ];
    // Nothing started: no run_started, no event of any kind.
    for (const { sink } of rejected) expect(sink.events).toEqual([]);
  });

  it("a missing SDK is dependency_not_available with an install hint", async () => {
    const missing = Object.assign(new Error("Cannot find package '@anthropic-ai/claude-agent-sdk'"), {
      code: "ERR_MODULE_NOT_FOUND",
    });
    const error = await importClaudeSdk(() => Promise.reject(missing)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AsmError);
    expect(error).toMatchObject({
      code: "dependency_not_available",
      hint: "npm install @anthropic-ai/claude-agent-sdk",
    });
  });
});
