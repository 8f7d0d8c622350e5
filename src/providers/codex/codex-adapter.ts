import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import type { CodexOptions, Thread, ThreadOptions } from "@openai/codex-sdk";
import type { Capability } from "../../core/capabilities.js";
import type { JsonObject } from "../../core/session.js";
import type { TokenUsage } from "../../core/token-usage.js";
import type {
  EventSink,
  ExecuteRequest,
  ExecuteResult,
  ProviderAdapter,
} from "../../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../../ports/provider-adapter.js";
import { ActiveRuns } from "../active-runs.js";
import { promptFromInput } from "../shared/agent-options.js";
import {
  groupHasLiveMembers,
  KILLED_GROUP_WAIT_MS,
  killGroupAndWait,
  processIsLive,
  registerGroup,
  requireProcessGroups,
  signalGroup,
  unregisterGroup,
  waitUntil,
} from "../shared/process-group.js";
import {
  cancelledError,
  executableNotFound,
  PROVIDERS,
  parseErrorEvent,
  providerFailure,
  type SuggestedProviderOption,
  spawnFailure,
  withSuggestedOption,
} from "../shared/provider-failures.js";
import { ownProviderOptions, resumePointFor } from "../shared/provider-request.js";
import { type CodexBinary, findBundledCodex } from "./codex-binary.js";
import { CODEX_CAPABILITIES } from "./descriptor.js";
import { CodexEventMapper, codexFailureFacts } from "./event-mapper.js";
import { checkedFrame } from "./frames.js";
import { guardLauncherPath } from "./guard-launcher.js";
import { GUARD_CONFIG_ENV, type GuardConfig, type GuardFrame, parseGuardFrame } from "./guard-protocol.js";
import {
  type CodexAdapterOptions,
  type CodexRunOptions,
  codexPermissionSettings,
  parseCodexRunOptions,
  type ResolvedCodexOptions,
  resolveCodexOptions,
} from "./options.js";
import { type CodexSdkModule, loadCodexSdk } from "./sdk-loader.js";
import { type CodexToolSwitches, codexToolSwitches, NO_SHELL_OVERRIDE } from "./tool-rules.js";

const PROVIDER = PROVIDERS.codex;

/** After a cancel, how long beyond the kill grace the guard gets before it and Codex are SIGKILLed. */
const HARD_STOP_MARGIN_MS = 3000;
/** After that, how long the SDK's stream gets to end before the run stops waiting for it. */
const GIVE_UP_MS = 2000;
/** Once the SDK's stream is over, how long the guard gets to finish exiting before SIGKILL. */
const GUARD_EXIT_MS = 1000;

/** The SDK's error when the CLI (here: the guard, which exits as Codex did) ended badly. */
const EXIT_MESSAGE = /^Codex Exec exited with (?:code (-?\d+)|signal ([A-Z0-9]+)): ?([\s\S]*)$/;

interface ExitFacts {
  exitCode?: number;
  signal?: string;
  stderr: string;
}

function exitFacts(error: unknown): ExitFacts | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = EXIT_MESSAGE.exec(error.message);
  if (!match) return undefined;
  const [, code, signal, stderr] = match;
  return {
    ...(code !== undefined ? { exitCode: Number(code) } : {}),
    ...(signal !== undefined ? { signal } : {}),
    stderr: stderr ?? "",
  };
}

const SKIP_GIT_REPO_CHECK: SuggestedProviderOption = { key: "skipGitRepoCheck", value: true };

function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  return env;
}

/**
 * Runs the Codex CLI (`codex exec --experimental-json`) through OpenAI's Codex SDK
 * (`@openai/codex-sdk`, an optional peer dependency loaded on the first run). POSIX only.
 *
 * Each run is one Codex turn: `startThread(...).runStreamed(prompt)`, or `resumeThread(id, ...)`
 * with `resumeThreadId`. The SDK builds the command line, writes the prompt to stdin and parses
 * the events; the thread options are passed again on every run, since Codex does not remember
 * them. The SDK has no hook for the process it spawns and throws on the first malformed output
 * line, so it is given the path of a small guard (codex-guard.ts) instead of Codex's: the guard
 * runs the same Codex executable with the argv, environment and stdin the SDK gave it, in its own
 * process group, and passes its stdout through the shared JSONL filter.
 *
 * It emits `run_started` (with the thread id as `providerSessionId`), messages, reasoning, tool
 * calls, warnings and usage (see `CodexEventMapper`), and resolves with the last agent message,
 * `stopReason: "end_turn"`, this run's usage and the thread id. Codex reports no cost: the
 * manager prices the tokens by model. It rejects on `turn.failed` with the failure classified by
 * `providerFailure`'s table (a 401 `provider_authentication_failed`, a 429 — "last status: 429"
 * — `provider_rate_limited`, Codex's words for a 500 and dropped streams `provider_unavailable`,
 * else `provider_error` with Codex's stderr tail); when Codex exits non-zero or is killed without
 * a `turn.failed` (classified the same way, stderr tail; outside a git repository with
 * `details.suggestedProviderOption` skipGitRepoCheck); when it cannot be found (`provider_unavailable`);
 * and with `cancelled` once its process group is gone after a cancel. Every output line is
 * checked in the guard before the SDK reads it (`CODEX_FRAMES`): one that is not JSON, is
 * oversized, or is not a Codex event of the right shape is reported as `error_occurred`
 * (`parse_error`, with the line's start) and skipped, and the run goes on.
 *
 * Usage on resumed threads: Codex's `turn.completed.usage` is summed over the whole thread, so a
 * run's own usage is the total minus the thread's total before it. That previous total comes from
 * the request's resume point (`resumePoints.codex`, derived by the manager from the stored runs)
 * when it is for the thread being resumed; the adapter keeps no state between runs. When it is
 * not known, the run reports the thread's whole total and says so
 * (`metadata.codex.usageIncludesEarlierRuns`): it over-counts rather than hides usage. The result
 * reports the thread's total as `providerTotals.tokenUsage`, for the next resume point.
 *
 * A run's policy (`request.toolRules`) switches off what Codex can switch off natively (the
 * shell tool, file changes, web search; see `codexToolSwitches`); the manager's enforcement on
 * events covers the rest.
 */
export class CodexAdapter implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly name = PROVIDER.name;
  readonly capabilities: readonly Capability[] = CODEX_CAPABILITIES;
  readonly #options: ResolvedCodexOptions;
  readonly #active = new ActiveRuns();

  /**
   * Throws `validation_error` for invalid options, `capability_not_supported` for options Codex
   * cannot honour (see `CodexAdapterOptions`) and on Windows.
   */
  constructor(options: CodexAdapterOptions = {}) {
    requireProcessGroups("codex");
    this.#options = resolveCodexOptions(options);
  }

  async execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
    // Tracked before anything is awaited, so cancel(runId) works from the first moment.
    return this.#active.runTracked(request.run.id, signal, async (runSignal) => {
      const runOptions = parseCodexRunOptions(ownProviderOptions(request, this.name));
      const prompt = promptFromInput(request.run.input, PROVIDER.name);
      const sdk = await loadCodexSdk();
      const binary = await this.#executable();
      if (runSignal.aborted) throw cancelledError(request.run.id, { phase: "before start" });
      const baseline = this.#baseline(request, runOptions);
      const run = new CodexRun({
        sdk,
        prompt,
        binary,
        options: this.#options,
        runOptions,
        baseline,
        sink,
        signal: runSignal,
        runId: request.run.id,
        switches: codexToolSwitches(request.toolRules),
      });
      return run.execute();
    });
  }

  /**
   * Cancels the run. Resolves (true) only once `execute` has rejected with `cancelled`, which it
   * does once Codex's process group is gone; false for a run this adapter is not executing.
   */
  async cancel(runId: string): Promise<boolean> {
    return this.#active.cancelAndWait(runId);
  }

  async #executable(): Promise<CodexBinary> {
    const configured = this.#options.executablePath;
    if (configured === undefined) {
      const bundled = findBundledCodex();
      if (bundled === undefined) throw executableNotFound(PROVIDER, undefined);
      return bundled;
    }
    const executablePath = path.resolve(this.#options.cwd, configured);
    try {
      await access(executablePath, constants.X_OK);
    } catch (error) {
      throw executableNotFound(PROVIDER, configured, error);
    }
    return { executablePath, pathDirs: [] };
  }

  /** The thread's usage before this run: zero for a new thread, from the resume point, else unknown. */
  #baseline(request: ExecuteRequest, runOptions: CodexRunOptions): { usage?: TokenUsage; known: boolean } {
    const threadId = runOptions.resumeThreadId;
    if (threadId === undefined) return { known: true };
    const usage = resumePointFor(request, this.name, threadId)?.totals?.tokenUsage;
    return usage === undefined ? { known: false } : { usage, known: true };
  }
}

interface CodexRunSpec {
  sdk: CodexSdkModule;
  prompt: string;
  binary: CodexBinary;
  options: ResolvedCodexOptions;
  runOptions: CodexRunOptions;
  baseline: { usage?: TokenUsage; known: boolean };
  sink: EventSink;
  signal: AbortSignal;
  runId: string;
  /** What the run's policy switches off (see `codexToolSwitches`); undefined without tool rules. */
  switches: CodexToolSwitches | undefined;
}

/** One execution: the SDK turn, the guard and the Codex process group behind it, and how it ended. */
class CodexRun {
  readonly #spec: CodexRunSpec;
  readonly #mapper: CodexEventMapper;
  readonly #token = randomUUID();
  readonly #timers: NodeJS.Timeout[] = [];
  #giveUp: () => void = () => {};
  #guardPid: number | undefined;
  #codexPid: number | undefined;
  #spawnFailed: { message: string; errno?: string } | undefined;
  #cancelled = false;

  constructor(spec: CodexRunSpec) {
    this.#spec = spec;
    const model = spec.runOptions.model ?? spec.options.model;
    this.#mapper = new CodexEventMapper(spec.sink, {
      runId: spec.runId,
      ...(model ? { model } : {}),
      ...(spec.baseline.usage ? { baseline: spec.baseline.usage } : {}),
      ...(spec.runOptions.resumeThreadId ? { resumed: true } : {}),
    });
  }

  async execute(): Promise<ExecuteResult> {
    const { signal, sdk, runOptions } = this.#spec;
    const codex = new sdk.Codex(this.#codexOptions());
    const threadOptions = this.#threadOptions();
    const thread = runOptions.resumeThreadId
      ? codex.resumeThread(runOptions.resumeThreadId, threadOptions)
      : codex.startThread(threadOptions);
    const gaveUp = new Promise<{ gaveUp: true }>((resolve) => {
      this.#giveUp = () => resolve({ gaveUp: true });
    });
    const onAbort = (): void => {
      // The SDK SIGTERMs the guard through the same signal; the guard stops Codex's group.
      this.#cancelled = true;
      this.#hardStopLater();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    let thrown: unknown;
    try {
      const consumed = await Promise.race([this.#consume(thread), gaveUp]);
      if ("thrown" in consumed) thrown = consumed.thrown;
    } finally {
      signal.removeEventListener("abort", onAbort);
      for (const timer of this.#timers) clearTimeout(timer);
    }
    await this.#ensureGone();
    if (this.#cancelled) throw cancelledError(this.#spec.runId);
    return this.#settle(thrown);
  }

  async #consume(thread: Thread): Promise<{ thrown?: unknown }> {
    const { outputSchema } = this.#spec.runOptions;
    try {
      const { events } = await thread.runStreamed(this.#spec.prompt, {
        signal: this.#spec.signal,
        ...(outputSchema ? { outputSchema } : {}),
      });
      // Read to the end even after a cancel: the stream ends when the guard has stopped Codex.
      for await (const event of events) {
        const frame = parseGuardFrame(event, this.#token);
        if (frame) this.#onFrame(frame);
        else if (!this.#cancelled) this.#mapper.handle(checkedFrame(event));
      }
      return {};
    } catch (error) {
      return { thrown: error };
    }
  }

  #onFrame(frame: GuardFrame): void {
    switch (frame.type) {
      case "asm.codex_guard.started":
        this.#guardPid = frame.guardPid;
        this.#codexPid = frame.pid;
        // If this process exits mid-run, its exit hook kills Codex's group too.
        registerGroup(frame.pid);
        this.#mapper.setPid(frame.pid);
        return;
      case "asm.codex_guard.line_problem":
        if (!this.#cancelled) this.#mapper.emit(parseErrorEvent(PROVIDER, frame.problem));
        return;
      case "asm.codex_guard.spawn_failed":
        this.#spawnFailed = { message: frame.message, ...(frame.errno ? { errno: frame.errno } : {}) };
        return;
    }
  }

  #codexOptions(): CodexOptions {
    const { options, runOptions, binary } = this.#spec;
    const guard: GuardConfig = {
      executable: binary.executablePath,
      pathDirs: binary.pathDirs,
      token: this.#token,
      maxLineBytes: options.maxLineBytes,
      killGraceMs: options.killGraceMs,
    };
    const systemPrompt = runOptions.systemPrompt ?? options.systemPrompt;
    // Raw overrides come after `config` on the command line, and the policy's last: they win.
    const configOverrides = [
      ...(options.codex.configOverrides ?? []),
      ...(this.#spec.switches?.noShell ? [NO_SHELL_OVERRIDE] : []),
    ];
    // Codex rejects blank developer instructions; a blank prompt means "none".
    const config =
      systemPrompt !== undefined && systemPrompt.trim() !== ""
        ? { ...options.codex.config, developer_instructions: systemPrompt }
        : options.codex.config;
    return {
      codexPathOverride: guardLauncherPath(),
      // The SDK's env replaces process.env; ours is merged over it.
      env: { ...processEnv(), ...options.env, [GUARD_CONFIG_ENV]: JSON.stringify(guard) },
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.codex.apiKey ? { apiKey: options.codex.apiKey } : {}),
      ...(config ? { config } : {}),
      ...(configOverrides.length > 0 ? { configOverrides } : {}),
    };
  }

  #threadOptions(): ThreadOptions {
    const { options, runOptions } = this.#spec;
    const {
      sandboxMode,
      approvalPolicy,
      config: _config,
      apiKey: _key,
      configOverrides: _raw,
      ...thread
    } = options.codex;
    const mode = codexPermissionSettings(runOptions.permissionMode ?? options.permissionMode);
    const model = runOptions.model ?? options.model;
    const switches = this.#spec.switches;
    // A policy that forbids file changes wins over the mode and providerOptions: it is stricter.
    const sandbox = switches?.noFileChanges ? "read-only" : (sandboxMode ?? mode.sandboxMode);
    const approval = switches?.noFileChanges ? "never" : (approvalPolicy ?? mode.approvalPolicy);
    return {
      ...thread,
      ...(switches?.noWebSearch ? { webSearchMode: "disabled" as const } : {}),
      ...(thread.additionalDirectories ? { additionalDirectories: [...thread.additionalDirectories] } : {}),
      ...(model ? { model } : {}),
      workingDirectory: options.cwd,
      ...(sandbox ? { sandboxMode: sandbox } : {}),
      ...(approval ? { approvalPolicy: approval } : {}),
    };
  }

  /** After a cancel: if the guard has not stopped Codex in time, kill both, then stop waiting. */
  #hardStopLater(): void {
    const grace = this.#spec.options.killGraceMs;
    const timer = setTimeout(() => {
      if (this.#codexPid !== undefined) signalGroup(this.#codexPid, "SIGKILL");
      if (this.#guardPid !== undefined) {
        try {
          process.kill(this.#guardPid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      this.#timers.push(setTimeout(() => this.#giveUp(), GIVE_UP_MS));
    }, grace + HARD_STOP_MARGIN_MS);
    this.#timers.push(timer);
  }

  /**
   * Resolves once nothing of Codex's process group is left, nor the guard. The guard stops the
   * group before it exits, so this is mostly a check; a group still there (after a cancel: once
   * the kill grace and a second more are over) is SIGKILLed, and the run settles only once the
   * kernel has removed it. The guard is waited for too: after an abort the SDK's stream ends when
   * the guard's stdout closes, which comes before its exit is complete (and the run may have given
   * up on that stream after SIGKILLing it).
   */
  async #ensureGone(): Promise<void> {
    const pgid = this.#codexPid;
    if (pgid !== undefined) {
      const grace = this.#cancelled ? this.#spec.options.killGraceMs + 1000 : 0;
      if (!(await waitUntil(() => !groupHasLiveMembers(pgid), grace))) await killGroupAndWait(pgid);
      unregisterGroup(pgid);
    }
    const guard = this.#guardPid;
    if (guard === undefined || (await waitUntil(() => !processIsLive(guard), GUARD_EXIT_MS))) return;
    try {
      // Still running, so not reaped: the pid is still the guard's, and safe to signal.
      process.kill(guard, "SIGKILL");
    } catch {
      // It ended in between.
    }
    await waitUntil(() => !processIsLive(guard), KILLED_GROUP_WAIT_MS);
  }

  #settle(thrown: unknown): ExecuteResult {
    const mapper = this.#mapper;
    const { binary } = this.#spec;
    if (this.#spawnFailed) {
      const { message, errno } = this.#spawnFailed;
      throw spawnFailure(
        PROVIDER,
        binary.executablePath,
        Object.assign(new Error(message), errno ? { code: errno } : {}),
      );
    }
    if (this.#guardPid === undefined && thrown !== undefined && exitFacts(thrown) === undefined) {
      // The guard never ran: its launcher could not be started.
      throw providerFailure(PROVIDER, {
        message: `cannot start the codex guard: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        kind: "process_error",
        cause: thrown,
      });
    }
    const exit = exitFacts(thrown);
    const stderr = exit?.stderr ?? "";
    const facts = {
      ...(exit?.exitCode !== undefined ? { exitCode: exit.exitCode } : {}),
      ...(exit?.signal !== undefined ? { signal: exit.signal } : {}),
      ...(stderr ? { stderr } : {}),
      ...(thrown !== undefined ? { cause: thrown } : {}),
      details: this.#failureDetails(),
    };
    const failure = mapper.turnFailure;
    if (failure !== undefined) {
      throw providerFailure(PROVIDER, {
        ...facts,
        ...codexFailureFacts(failure),
        message: `${PROVIDER.displayName} turn failed: ${failure}`,
      });
    }
    if (thrown !== undefined) {
      if (exit === undefined) {
        // Not an exit: the SDK could not read the stream (the guard lets only JSON objects through).
        throw providerFailure(PROVIDER, {
          ...facts,
          message: `${PROVIDER.displayName} stream failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
          kind: "protocol_error",
        });
      }
      const lastError = mapper.lastError;
      const error = providerFailure(PROVIDER, {
        ...facts,
        // Without stderr, Codex's last error event says the most.
        ...(!stderr.trim() && lastError
          ? { ...codexFailureFacts(lastError), message: `${PROVIDER.displayName} failed: ${lastError}` }
          : {}),
        ...(lastError ? { details: { ...facts.details, lastError } } : {}),
      });
      throw /skip-git-repo-check/.test(stderr)
        ? withSuggestedOption(error, SKIP_GIT_REPO_CHECK, "run Codex in a git repository, or")
        : error;
    }
    if (!mapper.turnCompleted) {
      throw providerFailure(PROVIDER, {
        ...facts,
        message: `${PROVIDER.displayName} ended without completing the turn`,
        kind: "protocol_error",
      });
    }
    return this.#result();
  }

  #result(): ExecuteResult {
    const mapper = this.#mapper;
    const { runOptions, options, baseline } = this.#spec;
    const content = mapper.finalMessage ?? "";
    const model = runOptions.model ?? options.model;
    const threadId = mapper.threadId;
    const threadTotal = mapper.threadTotal;
    const codex: JsonObject = {
      ...(threadId ? { threadId } : {}),
      ...(runOptions.resumeThreadId ? { resumed: true } : {}),
      ...(baseline.known
        ? {}
        : {
            usageIncludesEarlierRuns: true,
            usageNote:
              "resumed thread: Codex's usage covers the whole thread, and this session's log holds " +
              "no usage total for the thread before this run, so the usage reported is the thread's whole total",
          }),
    };
    return {
      output: { content, ...this.#structuredOutput(content) },
      stopReason: "end_turn",
      tokenUsage: mapper.usage,
      ...(threadId ? { providerSessionId: threadId } : {}),
      ...(model ? { model } : {}),
      turnCount: 1,
      ...(threadTotal ? { providerTotals: { tokenUsage: threadTotal } } : {}),
      metadata: { codex },
    };
  }

  #structuredOutput(content: string): { structuredOutput?: unknown } {
    if (this.#spec.runOptions.outputSchema === undefined) return {};
    try {
      return { structuredOutput: JSON.parse(content) };
    } catch {
      return {};
    }
  }

  /** The thread and, if Codex reported one before failing, its usage total: the next resume point's. */
  #failureDetails(): Record<string, unknown> {
    const { threadId, threadTotal } = this.#mapper;
    return {
      ...(threadId ? { providerSessionId: threadId } : {}),
      ...(threadTotal ? { providerTotals: { tokenUsage: threadTotal } } : {}),
    };
  }
}
