import type { Capability } from "../../core/capabilities.js";
import { AsmError } from "../../core/errors.js";
import type { JsonObject } from "../../core/session.js";
import type {
  EventSink,
  ExecuteRequest,
  ExecuteResult,
  ProviderAdapter,
} from "../../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../../ports/provider-adapter.js";
import { ActiveRuns } from "../active-runs.js";
import { promptFromInput } from "../shared/agent-options.js";
import { CliProcess } from "../shared/cli-process.js";
import { checkCliPaths, cliCommandLine, runCliToEnd } from "../shared/cli-run.js";
import { requireProcessGroups } from "../shared/process-group.js";
import {
  cancelledError,
  type FailureFacts,
  PROVIDERS,
  providerFailure,
  spawnFailure,
} from "../shared/provider-failures.js";
import { ownProviderOptions } from "../shared/provider-request.js";
import { nativeToolRules } from "../shared/tool-rules.js";
import { AMP_CAPABILITIES } from "./descriptor.js";
import { AmpEventMapper, type AmpOutcome } from "./event-mapper.js";
import {
  type AmpAdapterOptions,
  type AmpRunOptions,
  parseAmpRunOptions,
  type ResolvedAmpOptions,
  resolveAmpOptions,
} from "./options.js";
import { AMP_FRAMES } from "./protocol.js";
import { ampSettings, loadBaseSettings, type SettingsFile, writeSettingsFile } from "./settings.js";
import { AMP_TOOL_NAMES } from "./tool-names.js";

const PROVIDER = PROVIDERS.amp;

/** The key the CLI needs; without it, it starts an interactive browser login. */
const API_KEY_ENV = "AMP_API_KEY";

/**
 * Runs Amp by spawning the `amp` CLI directly: `amp [threads continue <id>] --execute
 * --stream-json [--stream-json-thinking] [--mode M] --settings-file <tmp> [--mcp-config C]`, the
 * prompt on stdin, then EOF. (The Amp SDK is not used: it cannot be pointed at an executable, and
 * it fails to find the CLI of today's `@ampcode/cli` package.) POSIX only: Amp runs in its own
 * process group, so a cancel stops everything it started. Never through a shell.
 *
 * Each run gets its own settings file (see `ampSettings`), so the user's
 * `~/.config/amp/settings.json` is not read: its permissions would change what `permissionMode`
 * means. Pass `providerOptions.settingsFile` to start from a settings file. A run's policy
 * (`request.toolRules`) is written into that file too, in Amp's tool names (`AMP_TOOL_NAMES`).
 *
 * Events: see `AmpEventMapper`. Every output line is checked before it is mapped (`AMP_FRAMES`):
 * one that is not JSON, is oversized, or is not an Amp frame of the right shape is reported as
 * `error_occurred` (`parse_error`, with the line's start) and skipped.
 *
 * The run resolves on a `result` frame with `subtype: "success"` and a zero exit code:
 * `output.content` is the result text, `providerSessionId` the thread id, `turnCount` Amp's
 * `num_turns`, `metadata.amp` the duration and thread. Amp reports no cost, so `costUsd` is left
 * unset. It rejects with:
 * - `provider_authentication_failed` at once, without spawning, when `AMP_API_KEY` is in neither
 *   the adapter's `env` nor `process.env`; and when Amp says the key was refused;
 * - `provider_rate_limited` when an error result or stderr says so (HTTP 429 or 529, "rate
 *   limit", "overloaded"), `provider_unavailable` for a 500/502/503 or a dropped connection,
 *   `provider_timeout` for a 504 (the table of `providerFailure`; `details.status` and
 *   `details.retryAfterMs` when the text names them);
 * - `provider_error` for any other error result (with its `error` text), an exit without a result
 *   or with a non-zero code (with the stderr tail), or a CLI that cannot be started;
 * - `provider_unavailable` when the executable does not exist (with an install hint);
 * - `cancelled` once the process group is gone after the signal aborted or `cancel(runId)`.
 *
 * Per-run options (`executeRun({ providerOptions: { amp: {…} } })`): see `AmpRunOptions`;
 * `resumeThreadId` continues a thread. Amp reports usage per message, never summed over a
 * thread, so a resumed run needs no baseline and the adapter keeps no state between runs.
 */
export class AmpAdapter implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly name = PROVIDER.name;
  readonly capabilities: readonly Capability[] = AMP_CAPABILITIES;
  readonly #options: ResolvedAmpOptions;
  readonly #active = new ActiveRuns();

  /** Throws `validation_error` for invalid options, `capability_not_supported` on Windows. */
  constructor(options: AmpAdapterOptions = {}) {
    requireProcessGroups("amp");
    this.#options = resolveAmpOptions(options);
  }

  async execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
    // Tracked before anything is awaited, so cancel(runId) works from the first moment.
    return this.#active.runTracked(request.run.id, signal, async (runSignal) => {
      let settings: SettingsFile | undefined;
      try {
        const runOptions = parseAmpRunOptions(ownProviderOptions(request, this.name));
        const prompt = promptFromInput(request.run.input, PROVIDER.name);
        const env = this.#environment();
        await checkCliPaths(PROVIDER, this.#options.cwd, this.#options.executablePath);
        const base = await loadBaseSettings(this.#options.providerOptions, this.#options.cwd);
        if (runSignal.aborted) throw cancelledError(request.run.id, { phase: "before start" });
        settings = await writeSettingsFile(
          ampSettings({
            permissionMode: runOptions.permissionMode ?? this.#options.permissionMode,
            allowedTools: this.#options.allowedTools,
            deniedTools: this.#options.deniedTools,
            toolRules: nativeToolRules(request.toolRules, AMP_TOOL_NAMES),
            base,
            ...systemPrompt(runOptions.systemPrompt ?? this.#options.systemPrompt),
          }),
        ).catch((error: unknown) => {
          throw new AsmError("internal_error", `cannot write the amp settings file: ${messageOf(error)}`, {
            cause: error,
          });
        });
        const run = new AmpRun({
          options: this.#options,
          command: this.#commandLine(runOptions, settings.path),
          env,
          prompt,
          sink,
          signal: runSignal,
          runId: request.run.id,
        });
        return await run.execute();
      } finally {
        await settings?.remove();
      }
    });
  }

  /**
   * Cancels the run. Resolves (true) only once `execute` has rejected with `cancelled`, which it
   * does once Amp's process group is gone; false for a run this adapter is not executing.
   */
  async cancel(runId: string): Promise<boolean> {
    return this.#active.cancelAndWait(runId);
  }

  /**
   * The CLI's environment: `process.env` as it is now, the adapter's `env` over it. Fails fast
   * without `AMP_API_KEY`: the CLI would start an interactive browser login instead of failing.
   */
  #environment(): NodeJS.ProcessEnv {
    const env = { ...process.env, ...this.#options.env };
    if (!env[API_KEY_ENV]) {
      throw providerFailure(PROVIDER, {
        errorType: "authentication_failed",
        message: `${API_KEY_ENV} is not set: ${PROVIDER.displayName} needs an API key to run headless`,
        details: { env: API_KEY_ENV },
      });
    }
    return env;
  }

  #commandLine(runOptions: AmpRunOptions, settingsPath: string): { command: string; args: string[] } {
    const options = this.#options;
    const mode = runOptions.mode ?? options.mode;
    const thinking = runOptions.thinking ?? options.thinking;
    const { mcpConfig } = options.providerOptions;
    const args = [
      // `threads continue` is a subcommand: it comes before the flags.
      ...(runOptions.resumeThreadId ? ["threads", "continue", runOptions.resumeThreadId] : []),
      "--execute",
      "--stream-json",
      ...(thinking ? ["--stream-json-thinking"] : []),
      ...(mode ? ["--mode", mode] : []),
      "--settings-file",
      settingsPath,
      ...(mcpConfig === undefined
        ? []
        : ["--mcp-config", typeof mcpConfig === "string" ? mcpConfig : JSON.stringify(mcpConfig)]),
    ];
    return cliCommandLine(options.executablePath, args);
  }
}

function systemPrompt(text: string | undefined): { systemPrompt?: string } {
  return text === undefined ? {} : { systemPrompt: text };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** How the CLI ended, as the failure helpers take it. */
type ExitFacts = Pick<FailureFacts, "exitCode" | "signal" | "stderr">;

interface AmpRunSpec {
  options: ResolvedAmpOptions;
  command: { command: string; args: string[] };
  env: NodeJS.ProcessEnv;
  prompt: string;
  sink: EventSink;
  signal: AbortSignal;
  runId: string;
}

/** One execution: the CLI process, its output mapped to events, and how it ended. */
class AmpRun {
  readonly #spec: AmpRunSpec;
  readonly #mapper: AmpEventMapper;

  constructor(spec: AmpRunSpec) {
    this.#spec = spec;
    this.#mapper = new AmpEventMapper(spec.sink);
  }

  async execute(): Promise<ExecuteResult> {
    const { signal, options, command } = this.#spec;
    if (signal.aborted) throw cancelledError(this.#spec.runId, { phase: "before start" });
    const cli = new CliProcess({ ...command, cwd: options.cwd, env: this.#spec.env });
    // Amp has no interrupt protocol: a cancel stops the process group (SIGTERM, then SIGKILL).
    const cancelled = await runCliToEnd({
      cli,
      signal,
      killGraceMs: options.killGraceMs,
      stdin: `${this.#spec.prompt}\n`,
      maxLineBytes: options.maxLineBytes,
      frames: AMP_FRAMES,
      onFrame: (frame) => this.#mapper.handle(frame),
      onProblem: (problem) => this.#mapper.lineProblem(problem),
    });
    if (cancelled) throw cancelledError(this.#spec.runId);
    return this.#settle(cli);
  }

  #settle(cli: CliProcess): ExecuteResult {
    if (cli.spawnError) throw spawnFailure(PROVIDER, this.#spec.options.executablePath, cli.spawnError);
    const exit = cli.exit;
    const stderr = cli.stderrText();
    const facts: ExitFacts = {
      ...(exit?.code != null ? { exitCode: exit.code } : {}),
      ...(exit?.signal ? { signal: exit.signal } : {}),
      ...(stderr ? { stderr } : {}),
    };
    const outcome = this.#mapper.outcome;
    if (outcome === undefined) {
      throw providerFailure(PROVIDER, {
        ...facts,
        ...(exit?.code === 0
          ? { message: `${PROVIDER.displayName} exited without a result`, kind: "protocol_error" as const }
          : {}),
        details: this.#details(),
      });
    }
    const tokenUsage = this.#mapper.finishUsage();
    if (outcome.isError) throw this.#resultFailure(outcome, facts);
    if (exit?.code !== 0) {
      // The answer came, but the CLI failed after it (e.g. saving the thread): not a success.
      throw providerFailure(PROVIDER, { ...facts, details: { ...this.#details(), resultReceived: true } });
    }
    const { frame } = outcome;
    const providerSessionId = this.#mapper.providerSessionId;
    const model = this.#mapper.model;
    return {
      output: { content: frame.result ?? "" },
      stopReason: this.#mapper.stopReason ?? "end_turn",
      tokenUsage,
      ...(providerSessionId ? { providerSessionId } : {}),
      ...(model ? { model } : {}),
      ...(frame.num_turns != null ? { turnCount: frame.num_turns } : {}),
      metadata: { amp: this.#resultMetadata(outcome) },
    };
  }

  #resultFailure(outcome: AmpOutcome, facts: ExitFacts): AsmError {
    const { frame } = outcome;
    const text = [frame.error, frame.result].find((part) => typeof part === "string" && part.trim() !== "");
    return providerFailure(PROVIDER, {
      ...facts,
      // The error is a string in words only: auth and rate limits are told from its text.
      message: `${PROVIDER.displayName} returned an error result (${frame.subtype}): ${text ?? "no message"}`,
      details: { ...this.#details(), ...this.#resultMetadata(outcome) },
    });
  }

  #resultMetadata(outcome: AmpOutcome): JsonObject {
    const { frame } = outcome;
    const threadId = this.#mapper.providerSessionId;
    return {
      ...(threadId ? { threadId } : {}),
      subtype: frame.subtype,
      ...(frame.duration_ms != null ? { durationMs: frame.duration_ms } : {}),
      ...(frame.num_turns != null ? { numTurns: frame.num_turns } : {}),
      ...(frame.usage ? { resultUsage: frame.usage } : {}),
      ...(frame.permission_denials && frame.permission_denials.length > 0
        ? {
            permissionDenials: frame.permission_denials.map((denial) => ({
              toolName: denial.tool_name,
              ...(denial.tool_use_id ? { toolCallId: denial.tool_use_id } : {}),
            })),
          }
        : {}),
    };
  }

  #details(): Record<string, unknown> {
    const threadId = this.#mapper.providerSessionId;
    return threadId ? { providerSessionId: threadId } : {};
  }
}
