import { existsSync, realpathSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AsmEvent } from "../../core/events.js";
import type { RunInput } from "../../core/run.js";
import type { JsonObject } from "../../core/session.js";
import type { ToolRestrictions } from "../../ports/provider-adapter.js";
import { SessionManager } from "../../session-manager.js";
import { MemorySessionStore } from "../../stores/memory/index.js";
import {
  defineAdapterConformance,
  isProcessAlive,
  makeExecuteRequest,
  RecordingSink,
} from "../../testing/adapter-conformance.js";
import {
  type ExecuteOutcome,
  eventList,
  executeOutcome,
  expectError,
  expectResult,
} from "../../testing/execute-outcome.js";
import {
  readScriptedCliRecord,
  SCRIPTED_AMP_THREAD_ID,
  type ScriptedCliRecord,
  scriptedCliEnv,
  scriptedCliPath,
  type TranscriptLine,
  writeTranscript,
} from "../../testing/scripted-cli/index.js";
import { until } from "../../testing/wait.js";
import { AMP_BUILTIN_TOOLS, AmpAdapter, type AmpAdapterOptions, ampSettings } from "./index.js";

const THREAD = SCRIPTED_AMP_THREAD_ID;
const KEY = "amp-test-key-0123";
const PROMPT = "what is 3 + 5?";

function transcript(name: string): string {
  return fileURLToPath(new URL(`./transcripts/${name}.jsonl`, import.meta.url));
}

/** An adapter on the scripted amp CLI playing `scenario` (a transcript name or a file path). */
function scriptedAdapter(
  dir: string,
  scenario: string,
  options: AmpAdapterOptions = {},
): { adapter: AmpAdapter; recordPath: string } {
  const recordPath = path.join(dir, "record.json");
  const adapter = new AmpAdapter({
    executablePath: scriptedCliPath("amp"),
    cwd: dir,
    killGraceMs: 500,
    ...options,
    env: {
      AMP_API_KEY: KEY,
      ...scriptedCliEnv({
        scenario: scenario.includes("/") ? scenario : transcript(scenario),
        record: recordPath,
      }),
      ...options.env,
    },
  });
  return { adapter, recordPath };
}

async function run(
  adapter: AmpAdapter,
  options: JsonObject = {},
  input: RunInput = { prompt: PROMPT },
  signal = new AbortController().signal,
): Promise<ExecuteOutcome> {
  const request = makeExecuteRequest(input, { providerOptions: { amp: options } });
  return executeOutcome(adapter, request, signal);
}

function record(recordPath: string): ScriptedCliRecord {
  const value = readScriptedCliRecord(recordPath);
  if (value === undefined) throw new Error(`no record at ${recordPath}`);
  return value;
}

function settingsPathOf(argv: readonly string[]): string {
  const at = argv.indexOf("--settings-file");
  const file = argv[at + 1];
  if (at < 0 || file === undefined) throw new Error(`no --settings-file in ${argv.join(" ")}`);
  return file;
}

defineAdapterConformance(
  {
    name: "AmpAdapter (scripted amp CLI)",
    providerSessionIds: true,
    async adapterFor(scenario, { tmpDir }) {
      const name = {
        text: "success",
        tool_call: "tool-call",
        failure: "error-result",
        stall: "stall",
        malformed_line: "malformed",
        auth_failure: "auth-failure",
        rate_limited: "rate-limit",
      }[scenario];
      const { adapter, recordPath } = scriptedAdapter(tmpDir, name);
      return {
        adapter,
        input: { prompt: PROMPT },
        expectedText: "3 + 5 = 8",
        processIds() {
          const seen = readScriptedCliRecord(recordPath);
          return seen?.stalled ? [seen.pid, ...seen.childPids] : undefined;
        },
      };
    },
  },
  { describe, it, skip: it.skip },
);

describe("AmpAdapter", () => {
  let dir = "";
  beforeEach(async () => {
    dir = realpathSync(await mkdtemp(path.join(tmpdir(), "asm-amp-test-")));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe("transcripts mapped to canonical events", () => {
    it("success: run_started with the thread, the answer, usage in four buckets; argv, stdin, env", async () => {
      const { adapter, recordPath } = scriptedAdapter(dir, "success");
      const outcome = await run(adapter);
      const result = expectResult(outcome);
      const usage = { inputTokens: 120, outputTokens: 12, cacheReadTokens: 400, cacheWriteTokens: 30 };
      expect(eventList(outcome.sink.events)).toEqual([
        [
          "run_started",
          {
            providerSessionId: THREAD,
            cwd: dir,
            tools: ["Bash", "Read", "edit_file", "create_file", "Grep", "glob"],
            mcpServers: [],
          },
        ],
        ["message_received", { role: "assistant", content: "Hello from Amp: 3 + 5 = 8." }],
        ["token_usage_updated", { ...usage, cumulative: usage }],
      ]);
      expect(result).toEqual({
        output: { content: "Hello from Amp: 3 + 5 = 8." },
        stopReason: "end_turn",
        tokenUsage: usage,
        providerSessionId: THREAD,
        turnCount: 1,
        metadata: { amp: { threadId: THREAD, subtype: "success", durationMs: 1530, numTurns: 1 } },
      });
      expect(result.costUsd).toBeUndefined();

      const seen = record(recordPath);
      expect(seen.argv).toEqual(["--execute", "--stream-json", "--settings-file", settingsPathOf(seen.argv)]);
      expect(seen.stdin).toEqual([`${PROMPT}\n`]);
      expect(seen.stdinClosed).toBe(true);
      expect(seen.cwd).toBe(dir);
      // Passed through (the record redacts secret-looking values, so presence is what shows).
      expect(seen.env.AMP_API_KEY).toBe("[redacted]");
      // The run's settings file is gone once the run settled.
      expect(existsSync(settingsPathOf(seen.argv))).toBe(false);
    });

    it("tool use: thinking, a tool that succeeds, one that fails, a subagent; usage counted once per message", async () => {
      const { adapter, recordPath } = scriptedAdapter(dir, "tool-use", { thinking: true });
      const outcome = await run(adapter);
      const result = expectResult(outcome);
      const ls = { toolCallId: "toolu_ls", toolName: "Bash", toolInput: { cmd: "ls" } };
      // Events name tools canonically (Claude Code's names) and keep Amp's own name beside it.
      const edit = {
        toolCallId: "toolu_edit",
        toolName: "Edit",
        nativeToolName: "edit_file",
        toolInput: { path: "README.md", old_str: "Hello", new_str: "Hi" },
      };
      const task = {
        toolCallId: "toolu_task",
        toolName: "Agent",
        nativeToolName: "Task",
        toolInput: { prompt: "check the README" },
      };
      expect(eventList(outcome.sink.events)).toEqual([
        [
          "run_started",
          {
            providerSessionId: THREAD,
            cwd: dir,
            tools: ["Bash", "Read", "edit_file", "Task"],
            mcpServers: [{ name: "docs", status: "connected" }],
          },
        ],
        [
          "message_streamed",
          { delta: "I should look at the files first.", stream: "thinking", messageId: "msg_1" },
        ],
        ["tool_call_started", ls],
        [
          "token_usage_updated",
          {
            messageId: "msg_1",
            inputTokens: 100,
            outputTokens: 20,
            cacheReadTokens: 1000,
            cumulative: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 1000 },
          },
        ],
        ["tool_call_completed", { ...ls, toolOutput: "README.md\n" }],
        ["tool_call_started", edit],
        [
          "token_usage_updated",
          {
            messageId: "msg_2",
            inputTokens: 40,
            outputTokens: 10,
            cumulative: { inputTokens: 140, outputTokens: 30, cacheReadTokens: 1000 },
          },
        ],
        // msg_2 again, with more output: only the growth.
        [
          "token_usage_updated",
          {
            messageId: "msg_2",
            inputTokens: 0,
            outputTokens: 20,
            cumulative: { inputTokens: 140, outputTokens: 50, cacheReadTokens: 1000 },
          },
        ],
        [
          "tool_call_failed",
          {
            ...edit,
            toolOutput: "old_str not found in README.md",
            errorMessage: "old_str not found in README.md",
          },
        ],
        ["tool_call_started", task],
        [
          "token_usage_updated",
          {
            messageId: "msg_3",
            inputTokens: 60,
            outputTokens: 5,
            cumulative: { inputTokens: 200, outputTokens: 55, cacheReadTokens: 1000 },
          },
        ],
        [
          "message_received",
          {
            role: "assistant",
            content: "The README says Hello.",
            messageId: "msg_sub",
            parentToolCallId: "toolu_task",
          },
        ],
        [
          "token_usage_updated",
          {
            messageId: "msg_sub",
            inputTokens: 30,
            outputTokens: 6,
            cumulative: { inputTokens: 230, outputTokens: 61, cacheReadTokens: 1000 },
          },
        ],
        ["tool_call_completed", { ...task, toolOutput: "The README says Hello." }],
        [
          "message_received",
          { role: "assistant", content: "The edit failed: README.md has no 'Hello'.", messageId: "msg_4" },
        ],
        [
          "token_usage_updated",
          {
            messageId: "msg_4",
            inputTokens: 80,
            outputTokens: 12,
            cacheWriteTokens: 200,
            cumulative: { inputTokens: 310, outputTokens: 73, cacheReadTokens: 1000, cacheWriteTokens: 200 },
          },
        ],
      ]);
      expect(result).toMatchObject({
        output: { content: "The edit failed: README.md has no 'Hello'." },
        stopReason: "end_turn",
        tokenUsage: { inputTokens: 310, outputTokens: 73, cacheReadTokens: 1000, cacheWriteTokens: 200 },
        model: "claude-opus-4-6",
        turnCount: 4,
      });
      expect(record(recordPath).argv.slice(0, 3)).toEqual([
        "--execute",
        "--stream-json",
        "--stream-json-thinking",
      ]);
    });

    it("error result: rejects provider_error with Amp's text, exit code and stderr; denials reported", async () => {
      const { adapter } = scriptedAdapter(dir, "error-result");
      const outcome = await run(adapter);
      const error = expectError(outcome, "provider_error");
      expect(error.message).toContain("The agent stopped: permission to run Bash was denied");
      expect(error.providerError).toMatchObject({
        provider: "amp",
        exitCode: 1,
        stderr: "Error: execution failed\n",
      });
      expect(error.details).toMatchObject({
        providerSessionId: THREAD,
        subtype: "error_during_execution",
        numTurns: 1,
        permissionDenials: [{ toolName: "Bash", toolCallId: "toolu_push" }],
      });
      expect(eventList(outcome.sink.events).slice(1)).toEqual([
        ["tool_call_started", { toolCallId: "toolu_push", toolName: "Bash", toolInput: { cmd: "git push" } }],
        [
          "token_usage_updated",
          { inputTokens: 50, outputTokens: 9, cumulative: { inputTokens: 50, outputTokens: 9 } },
        ],
        [
          "tool_call_failed",
          {
            toolCallId: "toolu_push",
            toolName: "Bash",
            toolInput: { cmd: "git push" },
            toolOutput: "Tool use rejected by permission rules",
            errorMessage: "Tool use rejected by permission rules",
          },
        ],
        [
          "error_occurred",
          {
            errorCode: "tool_permission_denied",
            errorMessage: "Amp was not allowed to use Bash",
            fatal: false,
            details: { toolName: "Bash", toolCallId: "toolu_push", toolInput: { cmd: "git push" } },
          },
        ],
      ]);
    });

    it("auth failure in the result text: provider_authentication_failed with a hint to get a key", async () => {
      const { adapter } = scriptedAdapter(dir, "auth-failure");
      const error = expectError(await run(adapter), "provider_authentication_failed");
      expect(error.providerError?.kind).toBe("authentication");
      expect(error.hint).toContain("AMP_API_KEY");
      expect(error.hint).toContain("ampcode.com/settings");
    });

    it("rate limit in the result text: provider_rate_limited, retryable", async () => {
      const { adapter } = scriptedAdapter(dir, "rate-limit");
      const error = expectError(await run(adapter), "provider_rate_limited");
      expect(error.retryable).toBe(true);
      expect(error.providerError?.kind).toBe("rate_limit");
      expect(error.details).toMatchObject({ status: 429 });
    });

    it.each([
      ["server-error", "provider_unavailable", { status: 500 }],
      ["overloaded", "provider_rate_limited", { status: 529, retryAfterMs: 30_000 }],
      ["connection-reset", "provider_unavailable", {}],
    ] as const)("%s in the result text: %s, retryable, with %j", async (transcript, code, details) => {
      const { adapter } = scriptedAdapter(dir, transcript);
      const error = expectError(await run(adapter), code);
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject(details);
    });

    it("malformed, non-object, oversized and wrongly shaped lines: each reported once, the run completes", async () => {
      const { adapter } = scriptedAdapter(dir, "bad-lines", { maxLineBytes: 65_536 });
      const outcome = await run(adapter);
      expect(expectResult(outcome).output.content).toBe("Still here.");
      const problems = outcome.sink.of("error_occurred");
      expect(problems.map((event) => event.data.fatal)).toEqual([false, false, false, false, false]);
      expect(problems.map((event) => [event.data.errorCode, event.data.details?.reason])).toEqual([
        ["parse_error", "malformed_json"],
        ["parse_error", "not_an_object"],
        ["parse_error", "oversized_line"],
        ["parse_error", "invalid_frame"],
        ["parse_error", "invalid_frame"],
      ]);
      expect(problems[0]?.data.details).toMatchObject({ lineNumber: 2, line: "Warning: not json" });
      expect(problems[2]?.data.details).toMatchObject({ lineNumber: 4, bytes: 200_000, truncated: true });
      expect(problems[3]?.data.details).toMatchObject({
        lineNumber: 5,
        frameType: "assistant",
        issues: [{ path: "message.content", message: expect.any(String) }],
      });
      // A frame with one bad block is refused whole, and kept (its raw text) in the report.
      expect(problems[4]?.data.details).toMatchObject({
        lineNumber: 6,
        frameType: "assistant",
        issues: [{ path: "message.content.0.name", message: expect.any(String) }],
        line: expect.stringContaining('"text":"Still here."'),
      });
      expect(outcome.sink.of("message_received")).toEqual([]);
      expect(outcome.sink.events[0]?.type).toBe("run_started");
    });

    it("resumed thread: `threads continue <id>` before the flags, and the thread id reported back", async () => {
      const thread = "T-0b1c2d3e-4f50-4a6b-8c7d-8e9fa0b1c2d3";
      const { adapter, recordPath } = scriptedAdapter(dir, "resumed", { mode: "smart" });
      const outcome = await run(adapter, { resumeThreadId: thread }, { prompt: "now add 8 to that" });
      const result = expectResult(outcome);
      expect(result.providerSessionId).toBe(thread);
      expect(result.output.content).toBe("8 + 8 = 16.");
      expect(outcome.sink.of("run_started")[0]?.data.providerSessionId).toBe(thread);
      const seen = record(recordPath);
      expect(seen.argv).toEqual([
        "threads",
        "continue",
        thread,
        "--execute",
        "--stream-json",
        "--mode",
        "smart",
        "--settings-file",
        settingsPathOf(seen.argv),
      ]);
      expect(seen.stdin).toEqual(["now add 8 to that\n"]);
    });
  });

  describe("process failures", () => {
    it("death without a result: provider_error with the exit code and the stderr tail", async () => {
      const { adapter } = scriptedAdapter(dir, "no-result");
      const outcome = await run(adapter);
      const error = expectError(outcome, "provider_error");
      expect(error.providerError).toMatchObject({
        kind: "transport_exit",
        exitCode: 2,
        stderr: "Error: Couldn't connect to the Amp server\n",
      });
      expect(error.message).toContain("Couldn't connect to the Amp server");
      expect(error.details.providerSessionId).toBe(THREAD);
      // What streamed before the death is kept.
      expect(outcome.sink.of("message_received").map((event) => event.data.content)).toEqual([
        "Working on it",
      ]);
    });

    it("exit 0 without a result: provider_error (protocol_error)", async () => {
      const scenario = writeTranscript(path.join(dir, "exit-0.jsonl"), [
        { $awaitStdin: "eof" },
        { type: "system", subtype: "init", session_id: "{{threadId}}" },
      ]);
      const { adapter } = scriptedAdapter(dir, scenario);
      const error = expectError(await run(adapter), "provider_error");
      expect(error.providerError?.kind).toBe("protocol_error");
      expect(error.message).toBe("Amp exited without a result");
    });

    it("killed mid-stream: provider_error naming the signal", async () => {
      const scenario = writeTranscript(path.join(dir, "crash.jsonl"), [
        { $awaitStdin: "eof" },
        { type: "system", subtype: "init", session_id: "{{threadId}}" },
        { $crash: true },
      ]);
      const { adapter } = scriptedAdapter(dir, scenario);
      const error = expectError(await run(adapter), "provider_error");
      expect(error.details.signal).toBe("SIGKILL");
    });

    it("a success result followed by a non-zero exit is a failure, with the stderr tail", async () => {
      const lines: TranscriptLine[] = [
        { $awaitStdin: "eof" },
        { type: "system", subtype: "init", session_id: "{{threadId}}" },
        { type: "result", subtype: "success", is_error: false, result: "done", num_turns: 1 },
        { $exit: 1, $stderr: "Error: failed to save the thread" },
      ];
      const { adapter } = scriptedAdapter(dir, writeTranscript(path.join(dir, "late-exit.jsonl"), lines));
      const error = expectError(await run(adapter), "provider_error");
      expect(error.providerError).toMatchObject({
        exitCode: 1,
        stderr: "Error: failed to save the thread\n",
      });
      expect(error.details.resultReceived).toBe(true);
    });

    it("auth failure told only on stderr: provider_authentication_failed", async () => {
      const lines: TranscriptLine[] = [
        { $awaitStdin: "eof" },
        { $exit: 1, $stderr: "Error: 401 Unauthorized" },
      ];
      const { adapter } = scriptedAdapter(dir, writeTranscript(path.join(dir, "stderr-401.jsonl"), lines));
      expectError(await run(adapter), "provider_authentication_failed");
    });

    it("missing AMP_API_KEY fails fast, without spawning", async () => {
      const saved = process.env.AMP_API_KEY;
      delete process.env.AMP_API_KEY;
      try {
        const envs: Record<string, string>[] = [{}, { AMP_API_KEY: "" }];
        for (const env of envs) {
          const recordPath = path.join(dir, "record.json");
          const adapter = new AmpAdapter({
            executablePath: scriptedCliPath("amp"),
            cwd: dir,
            env: { ...env, ...scriptedCliEnv({ scenario: transcript("success"), record: recordPath }) },
          });
          const outcome = await run(adapter);
          const error = expectError(outcome, "provider_authentication_failed");
          expect(error.message).toContain("AMP_API_KEY is not set");
          expect(error.hint).toContain("ampcode.com/settings");
          expect(outcome.sink.events).toEqual([]);
          expect(existsSync(recordPath)).toBe(false);
        }
      } finally {
        if (saved !== undefined) process.env.AMP_API_KEY = saved;
      }
    });

    it("AMP_API_KEY from process.env is enough", async () => {
      const saved = process.env.AMP_API_KEY;
      process.env.AMP_API_KEY = KEY;
      try {
        const recordPath = path.join(dir, "record.json");
        const adapter = new AmpAdapter({
          executablePath: scriptedCliPath("amp"),
          cwd: dir,
          env: scriptedCliEnv({ scenario: transcript("success"), record: recordPath }),
        });
        expectResult(await run(adapter));
        expect(record(recordPath).env.AMP_API_KEY).toBe("[redacted]");
      } finally {
        if (saved === undefined) delete process.env.AMP_API_KEY;
        else process.env.AMP_API_KEY = saved;
      }
    });

    it("a missing executable: provider_unavailable with the install hint, by path or on PATH", async () => {
      for (const executablePath of [path.join(dir, "no-such-amp"), "asm-no-such-amp-cli"]) {
        const adapter = new AmpAdapter({ executablePath, cwd: dir, env: { AMP_API_KEY: KEY } });
        const outcome = await run(adapter);
        const error = expectError(outcome, "provider_unavailable");
        expect(error.hint).toContain("npm install -g @ampcode/cli");
        expect(error.providerError?.kind).toBe("cli_not_found");
        expect(error.retryable).toBe(true);
        expect(outcome.sink.events).toEqual([]);
      }
    });

    it("a cwd that does not exist is a validation_error, not a missing executable", async () => {
      const adapter = new AmpAdapter({ cwd: path.join(dir, "gone"), env: { AMP_API_KEY: KEY } });
      expectError(await run(adapter), "validation_error");
    });

    it("cancel of a CLI that ignores SIGTERM: SIGKILL after the grace, rejects cancelled, tree gone", async () => {
      const { adapter, recordPath } = scriptedAdapter(dir, "stall-ignoring-sigterm", { killGraceMs: 300 });
      const controller = new AbortController();
      const running = run(adapter, {}, { prompt: PROMPT }, controller.signal);
      const seen = await until(
        () => {
          const value = readScriptedCliRecord(recordPath);
          return value?.stalled ? value : undefined;
        },
        "the stall",
        20_000,
        25,
      );
      const pids = [seen.pid, ...seen.childPids];
      controller.abort();
      const outcome = await running;
      expectError(outcome, "cancelled");
      expect(pids.filter(isProcessAlive)).toEqual([]);
      expect(existsSync(settingsPathOf(seen.argv))).toBe(false);
    });
  });

  describe("settings file, argv and options", () => {
    /** A fake amp as a plain `.mjs` file (no exec bit, no shebang) that answers with what it was given. */
    async function echoAmp(): Promise<string> {
      const file = path.join(dir, "echo-amp.mjs");
      await writeFile(
        file,
        [
          'import { readFileSync } from "node:fs";',
          "const argv = process.argv.slice(2);",
          'const settings = JSON.parse(readFileSync(argv[argv.indexOf("--settings-file") + 1], "utf8"));',
          'let prompt = "";',
          'process.stdin.on("data", (chunk) => { prompt += chunk; });',
          'process.stdin.on("end", () => {',
          "  const key = process.env.AMP_API_KEY;",
          '  const say = (frame) => process.stdout.write(JSON.stringify(frame) + "\\n");',
          '  say({ type: "system", subtype: "init", session_id: "T-echo", cwd: process.cwd() });',
          '  say({ type: "result", subtype: "success", is_error: false, num_turns: 1,',
          "    result: JSON.stringify({ argv, settings, prompt, key }) });",
          "});",
        ].join("\n"),
        { mode: 0o644 },
      );
      return file;
    }

    interface Echo {
      argv: string[];
      settings: Record<string, unknown>;
      prompt: string;
      key: string;
    }

    async function echo(options: AmpAdapterOptions, runOptions: JsonObject = {}): Promise<Echo> {
      const adapter = new AmpAdapter({
        executablePath: await echoAmp(),
        cwd: dir,
        env: { AMP_API_KEY: KEY },
        ...options,
      });
      const result = expectResult(await run(adapter, runOptions));
      expect(result.providerSessionId).toBe("T-echo");
      return JSON.parse(result.output.content) as Echo;
    }

    it("a .mjs executable runs with this node; the key, prompt and settings reach it", async () => {
      const seen = await echo({ mode: "rush" });
      expect(seen.key).toBe(KEY);
      expect(seen.prompt).toBe(`${PROMPT}\n`);
      expect(seen.argv).toEqual([
        "--execute",
        "--stream-json",
        "--mode",
        "rush",
        "--settings-file",
        expect.any(String),
      ]);
      expect(seen.settings).toEqual({ "amp.permissions": [], "amp.dangerouslyAllowAll": false });
    });

    it("permissions: allowedTools allowed first, deniedTools disabled, the mode's rules, a system prompt", async () => {
      const seen = await echo({
        permissionMode: "full_auto",
        allowedTools: ["Bash"],
        deniedTools: ["web_search", "mcp__github__*"],
        systemPrompt: "Answer tersely.",
      });
      expect(seen.settings).toEqual({
        "amp.permissions": [
          { tool: "Bash", action: "allow" },
          { tool: "*", action: "allow" },
        ],
        "amp.dangerouslyAllowAll": false,
        "amp.tools.disable": ["web_search", "mcp__github__*"],
        "amp.systemPrompt": "Answer tersely.",
      });
    });

    it("per-run permissionMode and systemPrompt override the adapter's", async () => {
      const seen = await echo(
        { permissionMode: "plan", systemPrompt: "adapter" },
        { permissionMode: "dangerously_skip_permissions", systemPrompt: "run" },
      );
      expect(seen.settings).toMatchObject({ "amp.dangerouslyAllowAll": true, "amp.systemPrompt": "run" });
    });

    it("providerOptions: settingsFile as the base, settings over it, mcpConfig passed as JSON", async () => {
      const base = path.join(dir, "user-settings.json");
      await writeFile(
        base,
        JSON.stringify({
          "amp.mcpServers": { docs: { command: "docs-mcp" } },
          "amp.permissions": [{ tool: "Bash", matches: { cmd: "git push*" }, action: "reject" }],
          "amp.tools.disable": ["builtin:open"],
          "amp.dangerouslyAllowAll": true,
        }),
      );
      const mcpConfig = { playwright: { command: "npx", args: ["-y", "@playwright/mcp@latest"] } };
      const seen = await echo({
        permissionMode: "accept_edits",
        deniedTools: ["web_search"],
        providerOptions: {
          settingsFile: "user-settings.json",
          settings: { "amp.tools.stopTimeout": 600 },
          mcpConfig,
        },
      });
      expect(seen.argv.slice(-2)).toEqual(["--mcp-config", JSON.stringify(mcpConfig)]);
      expect(seen.settings).toEqual({
        "amp.mcpServers": { docs: { command: "docs-mcp" } },
        "amp.permissions": [
          { tool: "edit_file", action: "allow" },
          { tool: "create_file", action: "allow" },
          { tool: "undo_edit", action: "allow" },
          { tool: "Bash", matches: { cmd: "git push*" }, action: "reject" },
        ],
        "amp.tools.disable": ["builtin:open", "web_search"],
        "amp.tools.stopTimeout": 600,
        // The base file's `true` does not survive a mode other than dangerously_skip_permissions.
        "amp.dangerouslyAllowAll": false,
      });
    });

    it("an unreadable settingsFile is a validation_error before anything runs", async () => {
      const adapter = new AmpAdapter({
        cwd: dir,
        env: { AMP_API_KEY: KEY },
        providerOptions: { settingsFile: "missing.json" },
      });
      expectError(await run(adapter), "validation_error");
    });

    it("rejects options the CLI cannot honour and values that would read as flags", () => {
      const invalid: AmpAdapterOptions[] = [
        { model: "claude-opus-4-6" },
        { maxTurns: 3 },
        { mode: "--dangerously-allow-all" },
        { providerOptions: { mcpconfig: "{}" } },
        { providerOptions: { settings: { "amp.dangerouslyAllowAll": true } } },
      ];
      for (const options of invalid) {
        expect(() => new AmpAdapter(options), JSON.stringify(options)).toThrowError(
          expect.objectContaining({ code: "validation_error" }),
        );
      }
    });

    it("rejects per-run options it does not know, and a thread id that is not one", async () => {
      const adapter = new AmpAdapter({ cwd: dir, env: { AMP_API_KEY: KEY } });
      for (const options of [
        { resumeThreadId: "--last" },
        { resumeSessionId: THREAD },
        { resumeThreadId: "abc" },
      ]) {
        expectError(await run(adapter, options), "validation_error");
      }
    });
  });

  describe("a run's tool rules in the settings file", () => {
    /** The settings the scripted CLI was started with, for a run with `toolRules`. */
    async function settingsWith(toolRules: ToolRestrictions | undefined, options: AmpAdapterOptions = {}) {
      const { adapter, recordPath } = scriptedAdapter(dir, "success", options);
      const request = { ...makeExecuteRequest({ prompt: PROMPT }), ...(toolRules ? { toolRules } : {}) };
      await adapter.execute(request, new RecordingSink(), new AbortController().signal);
      return record(recordPath).settings;
    }

    it("canonical names become Amp's: denied tools disabled, together with the adapter's", async () => {
      const settings = await settingsWith(
        { deniedTools: ["Bash", "WebSearch", "Edit"] },
        { deniedTools: ["mermaid"] },
      );
      expect(settings).toEqual({
        "amp.permissions": [],
        "amp.dangerouslyAllowAll": false,
        "amp.tools.disable": ["mermaid", "Bash", "web_search", "edit_file", "undo_edit"],
      });
    });

    it("an allow list disables every other built-in tool and rejects MCP tools first", async () => {
      const settings = await settingsWith(
        { allowedTools: ["Read", "Grep", "Write"] },
        { allowedTools: ["Read", "Bash"] },
      );
      expect(settings).toMatchObject({
        "amp.permissions": [
          { tool: "mcp__*", action: "reject", message: expect.stringContaining("policy") },
          // The adapter's approval of Bash is dropped: the policy does not allow Bash.
          { tool: "Read", action: "allow" },
        ],
      });
      expect(settings).toMatchObject({
        "amp.tools.disable": AMP_BUILTIN_TOOLS.filter(
          (tool) => !["Read", "Grep", "create_file"].includes(tool),
        ),
      });
    });

    it("without tool rules the settings are what the options alone make", async () => {
      expect(await settingsWith(undefined)).toEqual({
        "amp.permissions": [],
        "amp.dangerouslyAllowAll": false,
      });
    });

    it("through SessionManager: Bash denied reaches Amp, and a call to it anyway is a policy_violation", async () => {
      const { adapter, recordPath } = scriptedAdapter(dir, "tool-call");
      const manager = new SessionManager({ store: new MemorySessionStore(), adapter });
      const events: AsmEvent[] = [];
      const failure = await manager
        .runOnce(PROMPT, {
          policy: { name: "no-shell", toolRules: [{ deny: ["Bash"] }] },
          onEvent: (event) => events.push(event),
        })
        .catch((error: unknown) => error);
      expect(record(recordPath).settings).toMatchObject({ "amp.tools.disable": ["Bash"] });
      // The transcript's Amp calls Bash regardless: the manager's enforcement is the safety net.
      expect(failure).toMatchObject({ code: "policy_violation" });
      expect(events.find((event) => event.type === "policy_violation")?.data).toMatchObject({
        policy: "no-shell",
        kind: "tool_denied",
        details: { toolName: "Bash" },
      });
    });

    it("through SessionManager: a canonical Edit rule catches Amp's edit_file on the events too", async () => {
      const { adapter, recordPath } = scriptedAdapter(dir, "tool-use");
      const manager = new SessionManager({ store: new MemorySessionStore(), adapter });
      const events: AsmEvent[] = [];
      const failure = await manager
        .runOnce(PROMPT, {
          policy: { name: "read-only", toolRules: [{ deny: ["Edit"] }] },
          onEvent: (event) => events.push(event),
        })
        .catch((error: unknown) => error);
      expect(record(recordPath).settings).toMatchObject({ "amp.tools.disable": ["edit_file", "undo_edit"] });
      expect(failure).toMatchObject({ code: "policy_violation" });
      expect(events.find((event) => event.type === "policy_violation")?.data).toMatchObject({
        details: { toolName: "Edit" },
      });
    });
  });
});

describe("ampSettings: the five permission modes", () => {
  const base = {
    "amp.permissions": [
      { tool: "Bash", matches: { cmd: "git status" }, action: "allow" },
      { tool: "Bash", matches: { cmd: "rm *" }, action: "reject" },
    ],
  };
  const settings = (permissionMode: Parameters<typeof ampSettings>[0]["permissionMode"]) =>
    ampSettings({ permissionMode, allowedTools: ["mcp__docs__search"], deniedTools: [], base });
  const allowed = { tool: "mcp__docs__search", action: "allow" };

  it("default: the caller's allowances, then the base rules; Amp's built-in rules decide the rest", () => {
    expect(settings("default")).toEqual({
      "amp.permissions": [allowed, ...base["amp.permissions"]],
      "amp.dangerouslyAllowAll": false,
    });
  });

  it("accept_edits: file edits approved before the base rules", () => {
    expect(settings("accept_edits")["amp.permissions"]).toEqual([
      allowed,
      { tool: "edit_file", action: "allow" },
      { tool: "create_file", action: "allow" },
      { tool: "undo_edit", action: "allow" },
      ...base["amp.permissions"],
    ]);
  });

  it("plan: base rejections, read-only tools, everything else rejected with a message (fails closed)", () => {
    const rules = settings("plan")["amp.permissions"];
    expect(Array.isArray(rules)).toBe(true);
    if (!Array.isArray(rules)) return;
    expect(rules[0]).toEqual(allowed);
    expect(rules[1]).toEqual({ tool: "Bash", matches: { cmd: "rm *" }, action: "reject" });
    expect(rules).toContainEqual({ tool: "Read", action: "allow" });
    // The base allowance of a shell command does not survive plan mode.
    expect(rules).not.toContainEqual(base["amp.permissions"][0]);
    expect(rules.at(-1)).toEqual({
      tool: "*",
      action: "reject",
      message: expect.stringContaining("plan mode"),
    });
    expect(settings("plan")["amp.dangerouslyAllowAll"]).toBe(false);
  });

  it("full_auto: everything allowed, after the base rules, so their rejections hold", () => {
    expect(settings("full_auto")).toEqual({
      "amp.permissions": [allowed, ...base["amp.permissions"], { tool: "*", action: "allow" }],
      "amp.dangerouslyAllowAll": false,
    });
  });

  it("dangerously_skip_permissions: amp.dangerouslyAllowAll, and deniedTools still disabled", () => {
    const value = ampSettings({
      permissionMode: "dangerously_skip_permissions",
      allowedTools: [],
      deniedTools: ["Bash"],
    });
    expect(value).toEqual({
      "amp.permissions": [],
      "amp.dangerouslyAllowAll": true,
      "amp.tools.disable": ["Bash"],
    });
  });

  it("a base whose rules are not a list is a validation_error", () => {
    expect(() =>
      ampSettings({
        permissionMode: "default",
        allowedTools: [],
        deniedTools: [],
        base: { "amp.permissions": { tool: "*" } },
      }),
    ).toThrowError(expect.objectContaining({ code: "validation_error" }));
  });
});

describe("ampSettings: a run's policy over the mode", () => {
  const only = (allowed: string[], permissionMode: Parameters<typeof ampSettings>[0]["permissionMode"]) =>
    ampSettings({ permissionMode, allowedTools: [], deniedTools: [], toolRules: { allowed, denied: [] } });

  it("full_auto: the allowed tools, then everything else rejected (new tools included)", () => {
    expect(only(["Read", "Bash"], "full_auto")["amp.permissions"]).toEqual([
      { tool: "mcp__*", action: "reject", message: expect.any(String) },
      { tool: "Read", action: "allow" },
      { tool: "Bash", action: "allow" },
      { tool: "*", action: "reject", message: expect.any(String) },
    ]);
  });

  it("an allow list naming an MCP tool leaves MCP tools to the mode; plan stays fail-closed", () => {
    const rules = only(["Read", "mcp__docs__search"], "plan")["amp.permissions"];
    expect(rules).not.toContainEqual(expect.objectContaining({ tool: "mcp__*" }));
    expect(Array.isArray(rules) ? rules.at(-1) : undefined).toMatchObject({ tool: "*", action: "reject" });
  });

  it("dangerously_skip_permissions ignores rules, so the allow list holds through disabled tools", () => {
    const value = only(["Read"], "dangerously_skip_permissions");
    expect(value["amp.dangerouslyAllowAll"]).toBe(true);
    expect(value["amp.tools.disable"]).toContain("Bash");
    expect(value["amp.tools.disable"]).not.toContain("Read");
  });
});
