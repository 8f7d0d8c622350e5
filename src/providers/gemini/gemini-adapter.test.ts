import { readFileSync, realpathSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JsonObject } from "../../core/session.js";
import type { ToolRestrictions } from "../../ports/provider-adapter.js";
import { defineAdapterConformance, makeExecuteRequest } from "../../testing/adapter-conformance.js";
import {
  type ExecuteOutcome,
  eventList,
  executeOutcome,
  expectError,
  expectResult,
} from "../../testing/execute-outcome.js";
import {
  readScriptedCliRecord,
  type ScriptedCliRecord,
  scriptedCliEnv,
  scriptedCliPath,
} from "../../testing/scripted-cli/index.js";
import { GeminiAdapter, type GeminiAdapterOptions, geminiApprovalMode } from "./index.js";

const PROMPT = "what is 3 + 5?";
const SESSION = "ses_gemini_test";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function transcript(name: string): string {
  return fileURLToPath(new URL(`./transcripts/${name}.jsonl`, import.meta.url));
}

/** An adapter on the scripted gemini CLI playing `scenario`, its state under `dir/state`. */
function scriptedAdapter(
  dir: string,
  scenario: string,
  options: GeminiAdapterOptions = {},
): { adapter: GeminiAdapter; recordPath: string; stateDir: string } {
  const recordPath = path.join(dir, "record.json");
  const stateDir = path.join(dir, "state");
  const adapter = new GeminiAdapter({
    executablePath: scriptedCliPath("gemini"),
    cwd: dir,
    stateDir,
    killGraceMs: 500,
    ...options,
    env: {
      GEMINI_API_KEY: "gemini-test-key",
      ...scriptedCliEnv({ scenario: transcript(scenario), record: recordPath }),
      ...options.env,
    },
  });
  return { adapter, recordPath, stateDir };
}

async function run(
  adapter: GeminiAdapter,
  options: JsonObject = {},
  toolRules?: ToolRestrictions,
): Promise<ExecuteOutcome> {
  const request = makeExecuteRequest(
    { prompt: PROMPT },
    { providerOptions: { gemini: options }, session: { id: SESSION } },
  );
  if (toolRules) request.toolRules = toolRules;
  return executeOutcome(adapter, request);
}

function record(recordPath: string): ScriptedCliRecord {
  const value = readScriptedCliRecord(recordPath);
  if (value === undefined) throw new Error(`no record at ${recordPath}`);
  return value;
}

function flag(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at < 0 ? undefined : argv[at + 1];
}

function settingsOf(stateDir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(stateDir, SESSION, ".gemini", "settings.json"), "utf8"));
}

defineAdapterConformance(
  {
    name: "GeminiAdapter (scripted gemini CLI)",
    providerSessionIds: true,
    async adapterFor(scenario, { tmpDir }) {
      const name = {
        text: "success",
        tool_call: "tool-call-ok",
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

describe("GeminiAdapter", () => {
  let dir = "";
  beforeEach(async () => {
    dir = realpathSync(await mkdtemp(path.join(tmpdir(), "asm-gemini-test-")));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("success: run_started with the session, deltas then the message, usage in buckets; argv, stdin, env, settings", async () => {
    const { adapter, recordPath, stateDir } = scriptedAdapter(dir, "success");
    const outcome = await run(adapter);
    const result = expectResult(outcome);
    const seen = record(recordPath);
    const sessionId = flag(seen.argv, "--session-id");
    expect(sessionId).toMatch(UUID);
    // 220 prompt tokens of which 20 cached, 42 out, and 13 thoughts only total_tokens counts.
    const usage = { inputTokens: 200, outputTokens: 55, cacheReadTokens: 20, reasoningTokens: 13 };
    expect(eventList(outcome.sink.events)).toEqual([
      ["run_started", { providerSessionId: sessionId, model: "gemini-2.5-flash" }],
      ["message_streamed", { delta: "Hello from Gemini: " }],
      ["message_streamed", { delta: "3 + 5 = 8." }],
      ["message_received", { role: "assistant", content: "Hello from Gemini: 3 + 5 = 8." }],
      ["token_usage_updated", { models: ["gemini-2.5-flash"], ...usage, cumulative: usage }],
    ]);
    expect(result).toEqual({
      output: { content: "Hello from Gemini: 3 + 5 = 8." },
      stopReason: "end_turn",
      tokenUsage: usage,
      providerSessionId: sessionId,
      model: "gemini-2.5-flash",
      metadata: {
        gemini: {
          sessionId,
          durationMs: 281,
          toolCalls: 0,
          models: {
            "gemini-2.5-flash": {
              total_tokens: 275,
              input_tokens: 220,
              output_tokens: 42,
              cached: 20,
              input: 200,
            },
          },
        },
      },
    });
    expect(seen.argv).toEqual([
      "-p",
      "",
      "--output-format",
      "stream-json",
      "--approval-mode",
      "default",
      "--session-id",
      sessionId,
    ]);
    expect(seen.stdin).toEqual([PROMPT]);
    expect(seen.cwd).toBe(dir);
    const home = path.join(stateDir, SESSION);
    expect(seen.env.GEMINI_CLI_HOME).toBe(home);
    expect(seen.env.TMPDIR).toBe(path.join(home, "tmp"));
    expect(seen.env.GEMINI_API_KEY).toBe("[redacted]");
    expect(seen.env.GEMINI_SYSTEM_MD).toBeUndefined();
    // One process, not the launcher that re-spawns the CLI with a bigger heap.
    expect(seen.env.GEMINI_CLI_NO_RELAUNCH).toBe("true");
    expect(settingsOf(stateDir)).toEqual({
      security: { auth: { selectedType: "gemini-api-key" } },
      general: { maxAttempts: 1, enableAutoUpdate: false, enableAutoUpdateNotification: false },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
    });
  });

  it("tools: canonical names beside Gemini's, a failed call with its error type; the answer is the text after the last call", async () => {
    const { adapter } = scriptedAdapter(dir, "tool-call");
    const outcome = await run(adapter);
    const result = expectResult(outcome);
    const shell = {
      toolCallId: "run_shell_command__run_shell_command_1796418089882_0",
      toolName: "Bash",
      nativeToolName: "run_shell_command",
      toolInput: { command: "echo 8" },
    };
    const write = {
      toolCallId: "write_file__write_file_1796418089900_1",
      toolName: "Write",
      nativeToolName: "write_file",
      toolInput: { file_path: "a.txt", content: "x" },
    };
    const read = {
      toolCallId: "read_file__read_file_1796418089950_2",
      toolName: "Read",
      nativeToolName: "read_file",
      toolInput: { file_path: "notes.txt" },
    };
    expect(eventList(outcome.sink.events).slice(1, -1)).toEqual([
      ["message_streamed", { delta: "Let me check." }],
      ["message_received", { role: "assistant", content: "Let me check." }],
      ["tool_call_started", shell],
      ["tool_call_completed", { ...shell, toolOutput: "8" }],
      ["tool_call_started", write],
      [
        "tool_call_failed",
        {
          ...write,
          toolOutput: "",
          errorMessage: 'Tool "write_file" not found in registry.',
          errorType: "tool_not_registered",
        },
      ],
      ["tool_call_started", read],
      ["tool_call_completed", { ...read, toolOutput: "" }],
      ["message_streamed", { delta: "3 + 5 = 8." }],
      ["message_received", { role: "assistant", content: "3 + 5 = 8." }],
    ]);
    expect(result.output.content).toBe("3 + 5 = 8.");
    expect(result.tokenUsage).toEqual({ inputTokens: 440, outputTokens: 84, cacheReadTokens: 0 });
  });

  it("maps every permission mode to an approval mode (the documented table)", () => {
    expect(
      (["default", "accept_edits", "plan", "full_auto", "dangerously_skip_permissions"] as const).map(
        geminiApprovalMode,
      ),
    ).toEqual(["default", "auto_edit", "plan", "yolo", "yolo"]);
  });

  it("run options: model, approval mode, trust, resume, system prompt; adapter tool lists and the policy reach settings", async () => {
    const { adapter, recordPath, stateDir } = scriptedAdapter(dir, "success", {
      trustWorkspace: true,
      maxAttempts: 3,
      maxTurns: 7,
      allowedTools: ["Read", "save_memory"],
      deniedTools: ["WebFetch"],
      providerOptions: {
        settings: { tools: { exclude: ["glob"] }, mcpServers: { docs: { command: "docs" } } },
      },
    });
    const resumeSessionId = "5c6f7a3e-0000-4000-8000-000000000042";
    const outcome = await run(
      adapter,
      { resumeSessionId, model: "gemini-2.5-pro", permissionMode: "full_auto", systemPrompt: "Be brief." },
      { allowedTools: ["Read", "Bash", "Grep"], deniedTools: ["Bash"] },
    );
    const result = expectResult(outcome);
    expect(result.providerSessionId).toBe(resumeSessionId);
    const seen = record(recordPath);
    expect(seen.argv).toEqual([
      "-p",
      "",
      "--output-format",
      "stream-json",
      "--approval-mode",
      "yolo",
      "--model",
      "gemini-2.5-pro",
      "--skip-trust",
      "--resume",
      resumeSessionId,
    ]);
    const systemFile = seen.env.GEMINI_SYSTEM_MD ?? "";
    expect(readFileSync(systemFile, "utf8")).toBe("Be brief.");
    expect(settingsOf(stateDir)).toMatchObject({
      general: { maxAttempts: 3 },
      model: { maxSessionTurns: 7 },
      mcpServers: { docs: { command: "docs" } },
      tools: {
        allowed: ["read_file", "read_many_files", "save_memory"],
        exclude: ["glob", "web_fetch", "run_shell_command"],
        core: ["read_file", "read_many_files", "run_shell_command", "grep_search", "search_file_content"],
      },
    });
  });

  describe("failures", () => {
    it("a 429 is provider_rate_limited, retryable, with the retry delay the CLI suggested", async () => {
      const { adapter } = scriptedAdapter(dir, "rate-limit");
      const error = expectError(await run(adapter), "provider_rate_limited");
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({
        status: 429,
        retryAfterMs: 7000,
        providerSessionId: expect.stringMatching(UUID),
      });
      expect(error.providerError).toMatchObject({ provider: "gemini", kind: "rate_limit", exitCode: 173 });
    });

    it("a 401 is provider_authentication_failed with the login hint", async () => {
      const { adapter } = scriptedAdapter(dir, "auth-failure");
      const error = expectError(await run(adapter), "provider_authentication_failed");
      expect(error.details).toMatchObject({ status: 401 });
      expect(error.hint).toContain("GEMINI_API_KEY");
    });

    it("an untrusted folder (exit 55) says to pass trustWorkspace", async () => {
      const { adapter } = scriptedAdapter(dir, "untrusted");
      const error = expectError(await run(adapter), "provider_error");
      expect(error.details).toMatchObject({ reason: "untrusted_folder" });
      expect(error.hint).toContain("trustWorkspace");
      expect(error.providerError?.exitCode).toBe(55);
    });

    it("an error result with exit code 0 fails; the CLI's warnings are events and details", async () => {
      const { adapter } = scriptedAdapter(dir, "error-result");
      const outcome = await run(adapter);
      const error = expectError(outcome, "provider_error");
      expect(error.message).toBe("Gemini CLI: Model stream ended with empty response text.");
      expect(error.details.warnings).toEqual([
        "Model stream ended with an invalid chunk or missing finish reason.",
      ]);
      expect(outcome.sink.of("error_occurred").map((event) => event.data.fatal)).toEqual([false]);
    });

    it("an exit without a result is a protocol error; the streamed text is still a message", async () => {
      const { adapter } = scriptedAdapter(dir, "no-result");
      const outcome = await run(adapter);
      const error = expectError(outcome, "provider_error");
      expect(error.providerError?.kind).toBe("protocol_error");
      expect(outcome.sink.of("message_received").map((event) => event.data.content)).toEqual(["partial"]);
    });

    it("a missing executable is provider_unavailable with the install hint", async () => {
      const { adapter } = scriptedAdapter(dir, "success", { executablePath: path.join(dir, "no-gemini.js") });
      const error = expectError(await run(adapter), "provider_unavailable");
      expect(error.hint).toContain("@google/gemini-cli");
    });

    it("unknown run options are a validation_error", async () => {
      const { adapter } = scriptedAdapter(dir, "success");
      expectError(await run(adapter, { resume: "x" }), "validation_error");
      expectError(await run(adapter, { resumeSessionId: "--help" }), "validation_error");
    });
  });
});
