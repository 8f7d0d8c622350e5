import { randomUUID } from "node:crypto";
import path from "node:path";
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
import { cancelledError, providerFailure, spawnFailure } from "../shared/provider-failures.js";
import { ownProviderOptions } from "../shared/provider-request.js";
import { nativeToolRules } from "../shared/tool-rules.js";
import { GEMINI_CAPABILITIES, GEMINI_IDENTITY } from "./descriptor.js";
import { GeminiEventMapper } from "./event-mapper.js";
import { geminiFailure } from "./failures.js";
import {
  type GeminiAdapterOptions,
  type GeminiRunOptions,
  parseGeminiRunOptions,
  type ResolvedGeminiOptions,
  resolveGeminiOptions,
} from "./options.js";
import { GEMINI_FRAMES } from "./protocol.js";
import { type GeminiHome, geminiApprovalMode, geminiSettings, prepareGeminiHome } from "./settings.js";
import { GEMINI_TOOL_NAMES } from "./tool-names.js";

const PROVIDER = GEMINI_IDENTITY;

/** Characters of an asm session id kept as a directory name. */
const SAFE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Runs the Gemini CLI headless: `gemini -p "" -o stream-json --approval-mode M [-m MODEL]
 * [--skip-trust] (--session-id ID | --resume ID)`, the prompt on stdin (the CLI prepends piped
 * input to `-p`; stdin has no length limit and keeps the prompt out of `ps`). Never through a
 * shell. POSIX only: the CLI runs in its own process group, and a cancel signals the whole group
 * (SIGTERM, SIGKILL after `killGraceMs`): the CLI's launcher, when it runs (`GEMINI_CLI_NO_RELAUNCH`
 * is set to `true` unless the adapter's `env` says otherwise), ignores signals to its own pid.
 *
 * State: each asm session gets its own `GEMINI_CLI_HOME` (`<stateDir>/<sessionId>`, owner-only)
 * with this run's `settings.json` (see `geminiSettings`: approval and tool rules, auth type,
 * `maxAttempts`, no telemetry) and `TMPDIR`, so the user's `~/.gemini` is neither read nor written,
 * and the session's chats are there for `--resume`.
 *
 * Events: see `GeminiEventMapper`. The run resolves on a `result` with `status: "success"` and
 * exit code 0: `output.content` is the text after the last tool call, `providerSessionId` the
 * Gemini session id (also given to a first run's `--session-id`, so a failure knows it too),
 * `model` the model that answered, usage from `result.stats` (per run, not per session, so a
 * resumed run needs no baseline). No cost is reported: the manager prices the usage from its table.
 * It rejects with (see `geminiFailure`): `provider_authentication_failed` (401/403, exit 41),
 * `provider_rate_limited` (429, `details.retryAfterMs`), a server error's code for 5xx,
 * `provider_error` for an untrusted folder (exit 55, hinting `trustWorkspace`), an error result,
 * an exit without a result; `provider_unavailable` when the executable is missing; `cancelled`
 * once the process group is gone after an abort or `cancel(runId)`.
 */
export class GeminiAdapter implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly name = PROVIDER.name;
  readonly capabilities: readonly Capability[] = GEMINI_CAPABILITIES;
  readonly #options: ResolvedGeminiOptions;
  readonly #active = new ActiveRuns();

  /** Throws `validation_error` for invalid options, `capability_not_supported` on Windows. */
  constructor(options: GeminiAdapterOptions = {}) {
    requireProcessGroups("gemini");
    this.#options = resolveGeminiOptions(options);
  }

  async execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
    // Tracked before anything is awaited, so cancel(runId) works from the first moment.
    return this.#active.runTracked(request.run.id, signal, async (runSignal) => {
      const runOptions = parseGeminiRunOptions(ownProviderOptions(request, this.name));
      const prompt = promptFromInput(request.run.input, PROVIDER.name);
      // The CLI's launcher re-spawns itself only to raise the heap limit: one node start and one
      // process fewer per run (the caller's env may turn it back on).
      const env: NodeJS.ProcessEnv = { ...process.env, GEMINI_CLI_NO_RELAUNCH: "true", ...this.#options.env };
      await checkCliPaths(PROVIDER, this.#options.cwd, this.#options.executablePath);
      const home = await this.#prepareHome(request, runOptions, env);
      if (runSignal.aborted) throw cancelledError(request.run.id, { phase: "before start" });
      const sessionId = runOptions.resumeSessionId ?? randomUUID();
      const run = new GeminiRun({
        options: this.#options,
        command: this.#commandLine(runOptions, sessionId),
        env: {
          ...env,
          GEMINI_CLI_HOME: home.dir,
          TMPDIR: home.tmpDir,
          ...(home.systemPromptPath ? { GEMINI_SYSTEM_MD: home.systemPromptPath } : {}),
        },
        prompt,
        sink,
        signal: runSignal,
        runId: request.run.id,
        sessionId,
      });
      return await run.execute();
    });
  }

  /**
   * Cancels the run. Resolves (true) only once `execute` has rejected with `cancelled`, which it
   * does once the CLI's process group is gone; false for a run this adapter is not executing.
   */
  async cancel(runId: string): Promise<boolean> {
    return this.#active.cancelAndWait(runId);
  }

  async #prepareHome(
    request: ExecuteRequest,
    runOptions: GeminiRunOptions,
    env: NodeJS.ProcessEnv,
  ): Promise<GeminiHome> {
    const options = this.#options;
    const sessionName = SAFE_NAME.test(request.session.id)
      ? request.session.id
      : Buffer.from(request.session.id).toString("base64url").slice(0, 128);
    const settings = geminiSettings({
      ...(options.providerOptions.settings ? { base: options.providerOptions.settings } : {}),
      allowedTools: options.allowedTools,
      deniedTools: options.deniedTools,
      ...(request.toolRules ? { toolRules: nativeToolRules(request.toolRules, GEMINI_TOOL_NAMES) } : {}),
      maxAttempts: options.maxAttempts,
      ...(options.maxTurns !== undefined ? { maxTurns: options.maxTurns } : {}),
      env,
    });
    return prepareGeminiHome(
      path.join(options.stateDir, sessionName),
      settings,
      runOptions.systemPrompt ?? options.systemPrompt,
    ).catch((error: unknown) => {
      throw new AsmError(
        "internal_error",
        `cannot prepare the Gemini CLI's state directory: ${String(error)}`,
        {
          details: { stateDir: options.stateDir },
          cause: error,
        },
      );
    });
  }

  #commandLine(runOptions: GeminiRunOptions, sessionId: string): { command: string; args: string[] } {
    const options = this.#options;
    const model = runOptions.model ?? options.model;
    const mode = geminiApprovalMode(runOptions.permissionMode ?? options.permissionMode);
    const args = [
      "-p",
      "",
      "--output-format",
      "stream-json",
      "--approval-mode",
      mode,
      ...(model ? ["--model", model] : []),
      ...(options.trustWorkspace ? ["--skip-trust"] : []),
      ...(runOptions.resumeSessionId ? ["--resume", sessionId] : ["--session-id", sessionId]),
    ];
    return cliCommandLine(options.executablePath, args);
  }
}

interface GeminiRunSpec {
  options: ResolvedGeminiOptions;
  command: { command: string; args: string[] };
  env: NodeJS.ProcessEnv;
  prompt: string;
  sink: EventSink;
  signal: AbortSignal;
  runId: string;
  /** The Gemini session id the run starts or resumes. */
  sessionId: string;
}

/** One execution: the CLI process, its output mapped to events, and how it ended. */
class GeminiRun {
  readonly #spec: GeminiRunSpec;
  readonly #mapper: GeminiEventMapper;

  constructor(spec: GeminiRunSpec) {
    this.#spec = spec;
    this.#mapper = new GeminiEventMapper(spec.sink, PROVIDER, spec.sessionId);
  }

  async execute(): Promise<ExecuteResult> {
    const { signal, options, command } = this.#spec;
    const cli = new CliProcess({ ...command, cwd: options.cwd, env: this.#spec.env });
    const cancelled = await runCliToEnd({
      cli,
      signal,
      killGraceMs: options.killGraceMs,
      stdin: this.#spec.prompt,
      maxLineBytes: options.maxLineBytes,
      frames: GEMINI_FRAMES,
      onFrame: (frame) => this.#mapper.handle(frame),
      onProblem: (problem) => this.#mapper.lineProblem(problem),
    });
    this.#mapper.finish();
    if (cancelled) {
      throw cancelledError(this.#spec.runId, {
        providerSessionId: this.#mapper.providerSessionId ?? this.#spec.sessionId,
      });
    }
    return this.#settle(cli);
  }

  #settle(cli: CliProcess): ExecuteResult {
    if (cli.spawnError) throw spawnFailure(PROVIDER, this.#spec.options.executablePath, cli.spawnError);
    const exit = cli.exit;
    const stderr = cli.stderrText();
    const result = this.#mapper.result;
    const details = this.#details();
    if (result === undefined && exit?.code === 0) {
      throw providerFailure(PROVIDER, {
        exitCode: 0,
        ...(stderr ? { stderr } : {}),
        message: `${PROVIDER.displayName} exited without a result`,
        kind: "protocol_error",
        details,
      });
    }
    if (result?.status !== "success" || exit?.code !== 0) {
      throw geminiFailure(PROVIDER, {
        ...(exit?.code != null ? { exitCode: exit.code } : {}),
        ...(exit?.signal ? { signal: exit.signal } : {}),
        ...(stderr ? { stderr } : {}),
        ...(result ? { result } : {}),
        details: { ...details, ...(result ? { resultReceived: true } : {}) },
      });
    }
    const providerSessionId = this.#mapper.providerSessionId;
    const model = this.#mapper.model;
    return {
      output: { content: this.#mapper.answer },
      stopReason: "end_turn",
      tokenUsage: this.#mapper.tokenUsage,
      ...(providerSessionId ? { providerSessionId } : {}),
      ...(model ? { model } : {}),
      metadata: { gemini: this.#resultMetadata() },
    };
  }

  #resultMetadata(): JsonObject {
    const stats = this.#mapper.result?.stats;
    const sessionId = this.#mapper.providerSessionId;
    return {
      ...(sessionId ? { sessionId } : {}),
      ...(stats?.duration_ms != null ? { durationMs: stats.duration_ms } : {}),
      ...(stats?.tool_calls != null ? { toolCalls: stats.tool_calls } : {}),
      ...(stats?.models ? { models: stats.models as JsonObject } : {}),
    };
  }

  #details(): Record<string, unknown> {
    const warnings = this.#mapper.warnings;
    return {
      providerSessionId: this.#mapper.providerSessionId ?? this.#spec.sessionId,
      ...(warnings.length > 0 ? { warnings: warnings.slice(-5) } : {}),
    };
  }
}
