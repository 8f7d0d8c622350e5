// What every example shares: which providers to run (scripted by default, a real CLI with
// `--provider`), the agents themselves, and how a failure is reported. Not an example itself.
//
// The examples import the package by its name, as an application does (`agent-session-manager`
// and its subpaths `/claude`, `/codex`, `/amp`, `/sqlite`, `/testing`, …), which inside this
// repository resolves to the build. Each checks what it demonstrates with `check` and fails loudly.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AsmEvent, ProviderAdapter } from "agent-session-manager";
import { AsmError, checkCredentials } from "agent-session-manager";
import { AmpAdapter } from "agent-session-manager/amp";
import { ClaudeAdapter } from "agent-session-manager/claude";
import { CodexAdapter } from "agent-session-manager/codex";
import { openSqliteStore, type SqliteSessionStore } from "agent-session-manager/sqlite";
import {
  readScriptedCliRecord,
  type ScriptedCliRecord,
  scriptedCliEnv,
  scriptedCliPath,
  type TranscriptLine,
  writeTranscript,
} from "agent-session-manager/testing";

export const AGENT_PROVIDERS = ["claude", "codex", "amp"] as const;
export type AgentProvider = (typeof AGENT_PROVIDERS)[number];

/**
 * `--provider claude|codex|amp` from the command line: the real CLI to run (its credentials
 * required). Undefined without the flag: the examples then run the scripted CLIs.
 */
export function liveProvider(argv: readonly string[] = process.argv.slice(2)): AgentProvider | undefined {
  const at = argv.findIndex((arg) => arg === "--provider" || arg.startsWith("--provider="));
  if (at === -1) return undefined;
  const arg = argv[at] ?? "";
  const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[at + 1];
  const known: readonly string[] = AGENT_PROVIDERS;
  if (value === undefined || !known.includes(value)) {
    throw new AsmError("validation_error", `unknown provider "${value ?? ""}"`, {
      hint: `run with --provider ${AGENT_PROVIDERS.join("|")}, or without it for the scripted CLIs`,
    });
  }
  return value as AgentProvider;
}

/** A fresh directory for this process (agents work in it), removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `asm-example-${prefix}-`));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Makes `dir` a git repository with `files` (relative path → content) committed, as the project
 * an agent works in; the scripted CLI's own `.scripted/` folder is ignored. For the workspace
 * examples, which snapshot it.
 */
export function initGitRepo(dir: string, files: Record<string, string>): void {
  writeFileSync(path.join(dir, ".gitignore"), ".scripted/\n");
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  // An identity of its own: the machine's git may have none configured.
  const identity = [
    "-c",
    "user.name=example",
    "-c",
    "user.email=example@localhost",
    "-c",
    "commit.gpgsign=false",
  ];
  for (const args of [
    ["init", "-q", "-b", "main"],
    ["add", "-A"],
    ["commit", "-q", "-m", "initial"],
  ]) {
    execFileSync("git", [...identity, ...args], { cwd: dir, stdio: "ignore" });
  }
}

/** What a scripted agent does in one run (ignored by a real one, which does what it likes). */
export interface Script {
  /** Its final answer. */
  answer: string;
  /** A shell command it runs first: a `Bash` tool call, in every provider's events. */
  command?: string;
  /** What the command prints. Default: nothing. */
  commandOutput?: string;
  /** After the command, wait this long before answering (time for a cancel). Default 0. */
  thinkMs?: number;
  /** Tokens it reports. Default 1200 in, 80 out. */
  usage?: { input: number; output: number };
  /**
   * Cost Claude reports: the total of its session so far, as Claude Code does (a resumed
   * session reports the sum of its runs; Codex and Amp report none). Default $0.002.
   */
  costUsd?: number;
  /** The model Claude and Amp name in their messages (Codex names none). Default: Claude's `claude-sonnet-4-5`, none for Amp. */
  model?: string;
}

/** An agent of one provider, real or scripted. */
export interface ExampleAgent {
  provider: AgentProvider;
  /** True for the real CLI (`--provider`), false for a scripted one. */
  live: boolean;
  adapter: ProviderAdapter;
  /** What the scripted CLI does on its next runs; nothing for a real one. */
  play(script: Script): void;
  /**
   * How the scripted CLI was last started (argv, environment, settings file): the evidence of
   * what the adapter compiled a policy into. Undefined for a real one.
   */
  lastInvocation(): ScriptedCliRecord | undefined;
  /** The directory the agent works in (a fresh one, removed on exit). */
  cwd: string;
}

/**
 * An agent of `provider` on its real adapter: with `live`, the real CLI (failing at once, with
 * the CLI's one-line message, when it has no credentials); otherwise the scripted CLI playing
 * `script`, so nothing leaves the machine.
 */
export function createAgent(
  provider: AgentProvider,
  options: { live: boolean; script: Script },
): ExampleAgent {
  const cwd = tempDir(provider);
  if (options.live) {
    const credentials = checkCredentials(provider);
    if (!credentials.ok) throw credentials.error;
    return {
      provider,
      live: true,
      adapter: agentAdapter(provider, { cwd }),
      play: () => {},
      lastInvocation: () => undefined,
      cwd,
    };
  }
  const scenario = path.join(cwd, ".scripted", "scenario.jsonl");
  const record = path.join(cwd, ".scripted", "record.json");
  const play = (script: Script): void => {
    // The scripted CLI reads its transcript when it starts, so a rewrite takes effect on the next run.
    writeTranscript(scenario, transcript(provider, script));
  };
  play(options.script);
  const adapter = agentAdapter(provider, {
    cwd,
    executablePath: scriptedCliPath(provider),
    // Amp refuses to start without a key; the scripted CLI never uses it.
    env: {
      ...scriptedCliEnv({ scenario, record }),
      ...(provider === "amp" ? { AMP_API_KEY: "scripted" } : {}),
    },
    // The scripted CLI does not stop when its stdin closes: a short grace keeps cancels quick.
    killGraceMs: 200,
  });
  return { provider, live: false, adapter, play, lastInvocation: () => readScriptedCliRecord(record), cwd };
}

/**
 * The agents an example runs: the one `--provider` names (real), or all three scripted, each
 * playing `script`.
 */
export function createAgents(script: Script): ExampleAgent[] {
  const live = liveProvider();
  if (live) return [createAgent(live, { live: true, script })];
  return AGENT_PROVIDERS.map((provider) => createAgent(provider, { live: false, script }));
}

/** The one agent of a single-provider example: `--provider`'s (real), else a scripted Claude. */
export function createMainAgent(script: Script): ExampleAgent {
  const live = liveProvider();
  return createAgent(live ?? "claude", { live: live !== undefined, script });
}

/**
 * The agent of an example about one provider (`claude-direct.ts`, …): its scripted CLI, or the
 * real one with `--provider <provider>`. Undefined when `--provider` names another provider: the
 * example has nothing to run then, and says so.
 */
export function createProviderAgent(provider: AgentProvider, script: Script): ExampleAgent | undefined {
  const live = liveProvider();
  if (live !== undefined && live !== provider) {
    console.log(`skipped: this example runs ${provider} only (--provider ${live})`);
    return undefined;
  }
  return createAgent(provider, { live: live !== undefined, script });
}

/**
 * A provider that is down: a Claude adapter whose CLI is not installed. Every run fails with
 * `provider_unavailable`, which is retryable, so a router fails over from it.
 */
export function unreachableAgent(): ProviderAdapter {
  return new ClaudeAdapter({ executablePath: path.join(tempDir("down"), "claude-not-installed") });
}

interface AdapterSettings {
  cwd: string;
  executablePath?: string;
  env?: Record<string, string>;
  killGraceMs?: number;
}

function agentAdapter(provider: AgentProvider, settings: AdapterSettings): ProviderAdapter {
  switch (provider) {
    case "claude":
      return new ClaudeAdapter(settings);
    case "codex":
      // The agents work in a scratch directory, which is not a git repository.
      return new CodexAdapter({ ...settings, providerOptions: { skipGitRepoCheck: true } });
    case "amp":
      return new AmpAdapter(settings);
  }
}

/** The scripted CLI's transcript of `script`, in `provider`'s own output format. */
function transcript(provider: AgentProvider, script: Script): TranscriptLine[] {
  const usage = script.usage ?? { input: 1200, output: 80 };
  const wait: TranscriptLine[] = script.thinkMs ? [{ $delay: script.thinkMs }] : [];
  switch (provider) {
    case "claude": {
      const frame = { parent_tool_use_id: null, session_id: "{{sessionId}}" };
      const apiUsage = { input_tokens: usage.input, output_tokens: usage.output };
      const model = script.model ?? "claude-sonnet-4-5";
      const { message, bashCall } = streamJson(frame, apiUsage, model);
      return [
        { $awaitStdin: "user" },
        {
          type: "system",
          subtype: "init",
          cwd: "{{cwd}}",
          tools: ["Bash", "Read", "Write"],
          model,
          ...frame,
        },
        ...(script.command === undefined
          ? []
          : bashCall({ command: script.command }, script.commandOutput ?? "", wait)),
        message("msg_2", [{ type: "text", text: script.answer }]),
        {
          type: "result",
          subtype: "success",
          is_error: false,
          result: script.answer,
          num_turns: script.command === undefined ? 1 : 2,
          duration_ms: 900,
          duration_api_ms: 700,
          stop_reason: "end_turn",
          total_cost_usd: script.costUsd ?? 0.002,
          usage: apiUsage,
          permission_denials: [],
          ...frame,
        },
      ];
    }
    case "codex": {
      const command = {
        id: "item_0",
        type: "command_execution",
        command: `/bin/bash -lc '${script.command ?? ""}'`,
      };
      return [
        { type: "thread.started", thread_id: "{{threadId}}" },
        { type: "turn.started" },
        ...(script.command === undefined
          ? []
          : [
              {
                type: "item.started",
                item: { ...command, aggregated_output: "", exit_code: null, status: "in_progress" },
              },
              ...wait,
              {
                type: "item.completed",
                item: {
                  ...command,
                  aggregated_output: script.commandOutput ?? "",
                  exit_code: 0,
                  status: "completed",
                },
              },
            ]),
        { type: "item.completed", item: { id: "item_1", type: "agent_message", text: script.answer } },
        {
          type: "turn.completed",
          usage: { input_tokens: usage.input, cached_input_tokens: 0, output_tokens: usage.output },
        },
      ];
    }
    case "amp": {
      const frame = { parent_tool_use_id: null, session_id: "{{threadId}}" };
      const { message, bashCall } = streamJson(
        frame,
        { input_tokens: usage.input, output_tokens: usage.output },
        script.model,
      );
      return [
        { $awaitStdin: "eof" },
        {
          type: "system",
          subtype: "init",
          cwd: "{{cwd}}",
          tools: ["Bash", "Read", "edit_file"],
          mcp_servers: [],
          ...frame,
        },
        ...(script.command === undefined
          ? []
          : bashCall({ cmd: script.command }, script.commandOutput ?? "", wait)),
        message("msg_2", [{ type: "text", text: script.answer }]),
        {
          type: "result",
          subtype: "success",
          is_error: false,
          result: script.answer,
          num_turns: 1,
          duration_ms: 900,
          ...frame,
        },
      ];
    }
  }
}

/**
 * Lines of Claude Code's stream-json, which Amp prints too: an assistant `message`, and a
 * `bashCall` (the Bash tool_use with `input`, `wait`, then its tool_result `output`).
 */
function streamJson(
  frame: { parent_tool_use_id: null; session_id: string },
  usage: { input_tokens: number; output_tokens: number },
  model?: string,
) {
  const message = (id: string, content: unknown[]) => ({
    type: "assistant",
    message: {
      id,
      type: "message",
      role: "assistant",
      ...(model === undefined ? {} : { model }),
      content,
      usage,
    },
    ...frame,
  });
  const bashCall = (
    input: Record<string, string>,
    output: string,
    wait: TranscriptLine[],
  ): TranscriptLine[] => [
    message("msg_1", [{ type: "tool_use", id: "toolu_1", name: "Bash", input }]),
    ...wait,
    {
      type: "user",
      message: { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: output }] },
      ...frame,
    },
  ];
  return { message, bashCall };
}

/**
 * What a scripted agent's CLI was last started with to refuse tools, as its provider spells it:
 * the evidence of provider-side enforcement. Undefined for a real agent.
 */
export function nativeToolRestrictions(agent: ExampleAgent): string | undefined {
  const record = agent.lastInvocation();
  if (record === undefined) return undefined;
  const { argv } = record;
  switch (agent.provider) {
    case "claude":
      return argv.filter((arg) => /^--(tools|disallowedTools)=/.test(arg)).join(" ");
    case "codex":
      return argv
        .filter((arg, at) => /^(features\.shell_tool|web_search)=/.test(arg) || argv[at - 1] === "--sandbox")
        .join(" ");
    case "amp": {
      const { settings } = record;
      const disabled =
        typeof settings === "object" && settings !== null && "amp.tools.disable" in settings
          ? settings["amp.tools.disable"]
          : [];
      return `a settings file with amp.tools.disable ${JSON.stringify(disabled)}`;
    }
  }
}

/** One line per event, for printing a run's log. */
export function describeEvent(event: AsmEvent): string {
  const data = event.data;
  const detail =
    "toolName" in data && typeof data.toolName === "string"
      ? ` ${data.toolName}`
      : "policy" in data && typeof data.policy === "string"
        ? ` ${data.policy} (${String(data.kind)}, ${String(data.action)})`
        : "";
  return `  #${event.sequence} ${event.type}${detail}`;
}

/** A SQLite store in a fresh directory of this process (removed on exit). */
export function openExampleStore(prefix: string): Promise<SqliteSessionStore> {
  return openSqliteStore({ path: path.join(tempDir(prefix), "sessions.db") });
}

/**
 * What an example demonstrates, checked: throws (so the example exits non-zero) with `what`
 * when `condition` does not hold.
 */
export function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new AsmError("internal_error", `check failed: ${what}`);
}

/**
 * Checks that `events` carry consecutive sequence numbers starting at `first` (default: the
 * first event's): no gap, no repeat, no reordering. Returns the last sequence (`first - 1` when
 * there are none).
 */
export function checkContiguous(events: readonly AsmEvent[], first = events[0]?.sequence ?? 1): number {
  events.forEach((event, at) => {
    check(
      event.sequence === first + at,
      `event ${at} has sequence ${event.sequence}, expected ${first + at}`,
    );
  });
  return first + events.length - 1;
}

/**
 * Runs an example's `main`: a failure is printed as the `asm` CLI prints it (one line and a
 * hint, e.g. the missing credentials of `--provider`) and the process exits non-zero.
 */
export function runExample(main: () => Promise<void>): void {
  // A mistyped --provider is reported before the example does anything.
  Promise.resolve()
    .then(() => liveProvider())
    .then(main)
    .catch((error: unknown) => {
      // As the asm CLI prints a failure: one line with its code, the hint under it.
      const failure = AsmError.from(error);
      process.stderr.write(`example: error ${failure.message} [${failure.code}]\n`);
      if (failure.hint) process.stderr.write(`  hint: ${failure.hint}\n`);
      process.exitCode = failure.category === "validation" ? 2 : 1;
    });
}
