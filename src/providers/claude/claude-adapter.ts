import { access } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import type { Options, SpawnedProcess, SpawnOptions } from "@anthropic-ai/claude-agent-sdk";
import type { Capability } from "../../core/capabilities.js";
import type { AsmError } from "../../core/errors.js";
import type { JsonObject } from "../../core/session.js";
import type {
  EventSink,
  ExecuteRequest,
  ExecuteResult,
  ProviderAdapter,
  ToolRestrictions,
} from "../../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../../ports/provider-adapter.js";
import { settleWithin } from "../../utils/settle-within.js";
import { ActiveRuns } from "../active-runs.js";
import { promptFromInput } from "../shared/agent-options.js";
import { CliProcess } from "../shared/cli-process.js";
import { createJsonlFilter, type LineProblem } from "../shared/jsonl-reader.js";
import { requireProcessGroups } from "../shared/process-group.js";
import {
  cancelledError,
  executableNotFound,
  PROVIDERS,
  parseErrorEvent,
  providerFailure,
  spawnFailure,
} from "../shared/provider-failures.js";
import { ownProviderOptions, resumePointFor } from "../shared/provider-request.js";
import { costFromCumulative } from "../shared/usage-tracker.js";
import { CLAUDE_CAPABILITIES } from "./descriptor.js";
import { ClaudeEventMapper } from "./event-mapper.js";
import { CLAUDE_FRAMES, type ClaudeResultFrame, checkedFrame, RESULT_FRAMES } from "./frames.js";
import {
  type ClaudeAdapterOptions,
  type ClaudeRunOptions,
  claudePermissionMode,
  parseClaudeRunOptions,
  type ResolvedClaudeOptions,
  resolveClaudeOptions,
} from "./options.js";
import { type ClaudeSdkModule, loadClaudeSdk } from "./sdk-loader.js";
import { claudeToolOptions } from "./tool-rules.js";

const PROVIDER = PROVIDERS.claude;

/** Frame the stdout filter puts in place of a bad line, so the problem is reported in stream order. */
const LINE_PROBLEM_FRAME = "asm_line_problem";

interface LineProblemFrame {
  type: typeof LINE_PROBLEM_FRAME;
  index: number;
}

function isLineProblemFrame(value: unknown): value is LineProblemFrame {
  return (
    typeof value === "object" &&
    value !== null &&
    "type" in value &&
    value.type === LINE_PROBLEM_FRAME &&
    "index" in value &&
    typeof value.index === "number"
  );
}

/** After the result, how long the SDK may take to finish before the CLI is stopped. */
const AFTER_RESULT_MS = 5000;

type ExitListener = (code: number | null, signal: NodeJS.Signals | null) => void;
type ErrorListener = (error: Error) => void;

/**
 * What the SDK gets instead of a plain ChildProcess: stdout through the line filter, and kill()
 * aimed at the whole process group.
 */
class FilteredCliProcess implements SpawnedProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly #process: CliProcess;

  constructor(process: CliProcess, stdout: Readable) {
    this.#process = process;
    this.stdin = process.child.stdin;
    this.stdout = stdout;
  }

  get killed(): boolean {
    return this.#process.child.killed;
  }

  get exitCode(): number | null {
    return this.#process.child.exitCode;
  }

  get signalCode(): NodeJS.Signals | null {
    return this.#process.child.signalCode;
  }

  kill(signal: NodeJS.Signals): boolean {
    this.#process.signal(signal);
    return true;
  }

  on(event: "exit", listener: ExitListener): void;
  on(event: "error", listener: ErrorListener): void;
  on(event: "exit" | "error", listener: ExitListener | ErrorListener): void {
    this.#process.child.on(event, listener as (...args: unknown[]) => void);
  }

  once(event: "exit", listener: ExitListener): void;
  once(event: "error", listener: ErrorListener): void;
  once(event: "exit" | "error", listener: ExitListener | ErrorListener): void {
    this.#process.child.once(event, listener as (...args: unknown[]) => void);
  }

  off(event: "exit", listener: ExitListener): void;
  off(event: "error", listener: ErrorListener): void;
  off(event: "exit" | "error", listener: ExitListener | ErrorListener): void {
    this.#process.child.off(event, listener as (...args: unknown[]) => void);
  }
}

/**
 * Runs Claude Code through the Claude Agent SDK (`@anthropic-ai/claude-agent-sdk`, an optional
 * peer dependency loaded on the first run). POSIX only: Claude Code runs in its own process
 * group, so a cancel stops everything it started.
 *
 * Each run is one `query()` with the run's prompt. It emits `run_started` (with Claude's session
 * id as `providerSessionId`), then messages, thinking, tool calls, permission denials, retries
 * and usage as they stream (see `ClaudeEventMapper`), and resolves with the result's text, stop
 * reason, usage and this run's cost. It rejects when the result says `is_error` (whatever its
 * `subtype`): `provider_authentication_failed` (401), `provider_rate_limited` (429/529,
 * overloaded), `provider_quota_exceeded` (billing), else `provider_error`; when Claude Code
 * cannot be found (`provider_unavailable`) or exits without a result (`provider_error` with its
 * stderr tail); and with `cancelled` once its process group is gone after a cancel. Every output
 * line is checked before the SDK reads it (`CLAUDE_FRAMES`): one that is not JSON, is oversized, or
 * is not a Claude Code frame of the right shape is reported as `error_occurred` (`parse_error`,
 * with the line's start) and skipped, and the run goes on; a refused `result` still ends the turn,
 * and the run fails "ended without a result" unless a valid one follows.
 *
 * Per-run options (`executeRun({ providerOptions: { claude: {…} } })`): see `ClaudeRunOptions`;
 * `resumeSessionId` continues a Claude session. Claude reports cost per session, history
 * included (`total_cost_usd`), so a resumed run's own cost is that minus the session's total
 * before the run, which the adapter takes from the request's resume point (`resumePoints.claude`,
 * derived by the manager from the stored runs) when it is for the session being resumed; else the
 * run's cost is unknown (`metadata.claude.costNote` says why). The result reports the session's
 * total as `providerTotals.costUsd`, for the next resume point. The adapter keeps no state between
 * runs.
 * A run's policy (`request.toolRules`) becomes Claude Code's `--tools`/`--disallowedTools`: see
 * `claudeToolOptions`.
 */
export class ClaudeAdapter implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly name = PROVIDER.name;
  readonly capabilities: readonly Capability[] = CLAUDE_CAPABILITIES;
  readonly #options: ResolvedClaudeOptions;
  readonly #active = new ActiveRuns();

  /** Throws `validation_error` for invalid options, `capability_not_supported` on Windows. */
  constructor(options: ClaudeAdapterOptions = {}) {
    requireProcessGroups("claude");
    this.#options = resolveClaudeOptions(options);
  }

  async execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
    // Tracked before anything is awaited, so cancel(runId) works from the first moment.
    return this.#active.runTracked(request.run.id, signal, async (runSignal) => {
      const runOptions = parseClaudeRunOptions(ownProviderOptions(request, this.name));
      const prompt = promptFromInput(request.run.input, PROVIDER.name);
      const sdk = await loadClaudeSdk();
      await this.#checkExecutable();
      if (runSignal.aborted) throw cancelledError(request.run.id, { phase: "before start" });
      const run = new ClaudeRun({
        sdk,
        prompt,
        options: this.#options,
        runOptions,
        costBefore: this.#previousCost(request, runOptions),
        sink,
        signal: runSignal,
        runId: request.run.id,
        toolRules: request.toolRules,
      });
      return run.execute();
    });
  }

  /**
   * Cancels the run. Resolves (true) only once `execute` has rejected with `cancelled`, which it
   * does once Claude Code's process group is gone; false for a run this adapter is not executing.
   */
  async cancel(runId: string): Promise<boolean> {
    return this.#active.cancelAndWait(runId);
  }

  async #checkExecutable(): Promise<void> {
    const executable = this.#options.executablePath;
    if (executable === undefined) return;
    try {
      await access(path.resolve(this.#options.cwd, executable));
    } catch (error) {
      throw executableNotFound(PROVIDER, executable, error);
    }
  }

  /** The resumed session's total cost before this run: 0 for a new session, undefined when unknown. */
  #previousCost(request: ExecuteRequest, runOptions: ClaudeRunOptions): number | undefined {
    if (runOptions.resumeSessionId === undefined) return 0;
    return resumePointFor(request, this.name, runOptions.resumeSessionId)?.totals?.costUsd;
  }
}

interface ClaudeRunSpec {
  sdk: ClaudeSdkModule;
  prompt: string;
  options: ResolvedClaudeOptions;
  runOptions: ClaudeRunOptions;
  /** The resumed session's total cost before this run (0 for a new session); undefined when unknown. */
  costBefore: number | undefined;
  sink: EventSink;
  signal: AbortSignal;
  runId: string;
  /** The run's policy, compiled into Claude Code's tool options (see `claudeToolOptions`). */
  toolRules: ToolRestrictions | undefined;
}

/** One execution: the SDK query, the CLI process it spawned, and how it ended. */
class ClaudeRun {
  readonly #spec: ClaudeRunSpec;
  readonly #mapper: ClaudeEventMapper;
  readonly #abort = new AbortController();
  /** Skipped lines not yet reported, by their position in the filter's output. */
  readonly #problems = new Map<number, LineProblem>();
  #problemCount = 0;
  #process: CliProcess | undefined;
  #command: string | undefined;
  #cancelled = false;
  /** A `result` frame of the wrong shape came (and was reported): the turn ended without a result. */
  #resultRefused = false;

  constructor(spec: ClaudeRunSpec) {
    this.#spec = spec;
    this.#mapper = new ClaudeEventMapper(spec.sink);
  }

  async execute(): Promise<ExecuteResult> {
    const { signal } = this.#spec;
    let stopTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      this.#cancelled = true;
      // The SDK closes stdin, so Claude Code can stop on its own. If it has not within the grace,
      // its group is stopped here, rather than after the SDK's own (longer, fixed) grace.
      this.#abort.abort();
      stopTimer = setTimeout(
        () => this.#process?.terminate(this.#spec.options.killGraceMs),
        this.#spec.options.killGraceMs,
      );
    };
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    let thrown: unknown;
    let afterResult: NodeJS.Timeout | undefined;
    try {
      const query = this.#spec.sdk.query({ prompt: this.#spec.prompt, options: this.#sdkOptions() });
      for await (const message of query) {
        if (this.#cancelled) break;
        const turnEnded = this.#take(message);
        if (afterResult !== undefined) {
          // Still printing after the result: the wait for its exit starts over.
          afterResult.refresh();
        } else if (turnEnded) {
          // The SDK closes stdin at the result and waits for the CLI to exit: bound that wait.
          afterResult = setTimeout(
            () => this.#process?.terminate(this.#spec.options.killGraceMs),
            AFTER_RESULT_MS,
          );
        }
      }
    } catch (error) {
      thrown = error;
    } finally {
      signal.removeEventListener("abort", onAbort);
      clearTimeout(afterResult);
    }
    await this.#stopProcess();
    clearTimeout(stopTimer);
    // Problems the SDK did not pass on (it may drop frames it does not know) are still reported.
    if (!this.#cancelled) for (const index of [...this.#problems.keys()]) this.#reportProblem(index);
    if (this.#cancelled) throw cancelledError(this.#spec.runId);
    return this.#settle(thrown);
  }

  #sdkOptions(): Options {
    const { options, runOptions } = this.#spec;
    const mode = claudePermissionMode(runOptions.permissionMode ?? options.permissionMode);
    const systemPrompt = runOptions.systemPrompt ?? options.systemPrompt;
    const model = runOptions.model ?? options.model;
    const maxTurns = runOptions.maxTurns ?? options.maxTurns;
    const passThrough: Partial<Options> = options.providerOptions;
    return {
      ...passThrough,
      cwd: options.cwd,
      // The SDK's env replaces process.env; ours is merged over it.
      env: { ...process.env, ...options.env },
      ...(options.executablePath
        ? { pathToClaudeCodeExecutable: path.resolve(options.cwd, options.executablePath) }
        : {}),
      ...(model ? { model } : {}),
      ...(maxTurns ? { maxTurns } : {}),
      systemPrompt:
        systemPrompt !== undefined
          ? systemPrompt
          : (passThrough.systemPrompt ?? { type: "preset", preset: "claude_code" }),
      permissionMode: passThrough.permissionMode ?? mode.permissionMode,
      ...(mode.allowDangerouslySkipPermissions || passThrough.permissionMode === "bypassPermissions"
        ? { allowDangerouslySkipPermissions: true }
        : {}),
      ...claudeToolOptions({
        allowedTools: options.allowedTools,
        deniedTools: options.deniedTools,
        passThrough,
        toolRules: this.#spec.toolRules,
      }),
      includePartialMessages: options.includePartialMessages,
      ...(runOptions.resumeSessionId ? { resume: runOptions.resumeSessionId } : {}),
      ...(runOptions.forkSession ? { forkSession: true } : {}),
      abortController: this.#abort,
      spawnClaudeCodeProcess: (spawnOptions) => this.#spawn(spawnOptions),
    };
  }

  #spawn(spawnOptions: SpawnOptions): SpawnedProcess {
    // A script path is run with "node" from PATH by default: use the node running us instead.
    const command = spawnOptions.command === "node" ? process.execPath : spawnOptions.command;
    this.#command = command;
    const cli = new CliProcess({
      command,
      args: spawnOptions.args,
      ...(spawnOptions.cwd ? { cwd: spawnOptions.cwd } : {}),
      env: spawnOptions.env,
    });
    this.#process = cli;
    // If the SDK asks for a stop (after its own grace), the whole group gets it.
    spawnOptions.signal.addEventListener("abort", () => cli.terminate(this.#spec.options.killGraceMs), {
      once: true,
    });
    const stdout = cli.child.stdout.pipe(
      createJsonlFilter(
        (problem) => {
          const index = this.#problemCount++;
          this.#problems.set(index, problem);
          return JSON.stringify({ type: LINE_PROBLEM_FRAME, index } satisfies LineProblemFrame);
        },
        // Frames are checked here, before the SDK: some wrong shapes would make it throw.
        { maxLineBytes: this.#spec.options.maxLineBytes, frames: CLAUDE_FRAMES },
      ),
    );
    return new FilteredCliProcess(cli, stdout);
  }

  /**
   * Maps one message the SDK yielded (typed as its union, but it also passes on frames it does
   * not know, like the filter's). True when it ended the turn: a result, valid or refused.
   */
  #take(message: unknown): boolean {
    if (isLineProblemFrame(message)) {
      if (this.#reportProblem(message.index)?.frameType !== "result") return false;
      // A result of the wrong shape ends the turn too. Claude Code then waits for stdin to close,
      // which the SDK, never seeing a result, would not do: it is done here.
      this.#resultRefused = true;
      this.#process?.child.stdin.end();
      return true;
    }
    const frame = checkedFrame(message);
    this.#mapper.handle(frame);
    return frame.type === "result";
  }

  /** Reports the problem the filter put in the output at `index`, once; returns it. */
  #reportProblem(index: number): LineProblem | undefined {
    const problem = this.#problems.get(index);
    if (problem === undefined) return undefined;
    this.#problems.delete(index);
    this.#mapper.emit(parseErrorEvent(PROVIDER, problem));
    return problem;
  }

  /** Makes sure Claude Code and everything it started are gone before the run settles. */
  async #stopProcess(): Promise<void> {
    const cli = this.#process;
    if (cli === undefined) return;
    const { killGraceMs } = this.#spec.options;
    if (this.#cancelled) {
      // Stdin is closed: give it the grace to stop on its own, then stop the group.
      await cli.stop(killGraceMs);
      return;
    }
    // Finished normally: the CLI exits on stdin EOF; processes it left behind are stopped.
    await settleWithin(cli.exited, killGraceMs);
    await cli.stop(0);
  }

  #settle(thrown: unknown): ExecuteResult {
    const result = this.#mapper.result;
    const cli = this.#process;
    const stderr = cli?.stderrText() ?? "";
    const exit = cli?.exit;
    if (cli?.spawnError) throw spawnFailure(PROVIDER, this.#command ?? "claude", cli.spawnError);
    if (result === undefined) {
      if (cli === undefined && thrown !== undefined) {
        // Nothing was spawned: the SDK could not find or start Claude Code.
        const message = thrown instanceof Error ? thrown.message : String(thrown);
        if (/not found|ENOENT|no such file/i.test(message)) {
          throw executableNotFound(PROVIDER, this.#spec.options.executablePath, thrown);
        }
        throw providerFailure(PROVIDER, { message, kind: "process_error", cause: thrown });
      }
      const failure = this.#mapper.apiFailure;
      throw providerFailure(PROVIDER, {
        ...(failure?.status != null ? { status: failure.status } : {}),
        ...(failure?.errorType ? { errorType: failure.errorType } : {}),
        ...(exit?.code != null ? { exitCode: exit.code } : {}),
        ...(exit?.signal ? { signal: exit.signal } : {}),
        ...(stderr ? { stderr } : {}),
        ...((exit?.code === 0 && !stderr.trim()) || this.#resultRefused
          ? { message: `${PROVIDER.displayName} ended without a result`, kind: "protocol_error" as const }
          : {}),
        ...(thrown !== undefined ? { cause: thrown } : {}),
        details: this.#failureDetails(),
      });
    }
    const tokenUsage = this.#mapper.finishUsage();
    if (result.is_error) throw this.#resultFailure(result, stderr, exit?.code ?? undefined, thrown);
    const cost = this.#cost(result);
    const providerSessionId = this.#mapper.providerSessionId ?? result.session_id;
    const model = this.#mapper.model;
    const success = RESULT_FRAMES.is(result, "success") ? result : undefined;
    return {
      output: {
        content: success?.result ?? "",
        ...(success?.structured_output !== undefined ? { structuredOutput: success.structured_output } : {}),
      },
      stopReason: result.stop_reason ?? "end_turn",
      tokenUsage,
      ...(cost.costUsd !== undefined ? { costUsd: cost.costUsd } : {}),
      ...(providerSessionId ? { providerSessionId } : {}),
      ...(model ? { model } : {}),
      ...(result.num_turns != null ? { turnCount: result.num_turns } : {}),
      ...(result.total_cost_usd != null ? { providerTotals: { costUsd: result.total_cost_usd } } : {}),
      metadata: { claude: this.#resultMetadata(result, cost.note) },
    };
  }

  /** This run's cost: the session's cumulative cost minus what it had reached before the run. */
  #cost(result: ClaudeResultFrame): { costUsd?: number; note?: string } {
    if (result.total_cost_usd == null) return { note: "Claude Code's result carried no total_cost_usd" };
    const previous = this.#spec.costBefore;
    if (previous === undefined) {
      return {
        note:
          "resumed session: Claude's total_cost_usd includes earlier runs, and this session's log " +
          "holds no total for the resumed Claude session before this run, so this run's own cost is unknown",
      };
    }
    const { costUsd, reset } = costFromCumulative(result.total_cost_usd, previous);
    return {
      costUsd,
      ...(reset ? { note: "the session's cumulative cost went down; counted from zero" } : {}),
    };
  }

  #resultMetadata(result: ClaudeResultFrame, costNote: string | undefined): JsonObject {
    const denials = result.permission_denials ?? [];
    return {
      ...(result.session_id ? { sessionId: result.session_id } : {}),
      subtype: result.subtype,
      ...(result.duration_ms != null ? { durationMs: result.duration_ms } : {}),
      ...(result.duration_api_ms != null ? { durationApiMs: result.duration_api_ms } : {}),
      ...(result.terminal_reason ? { terminalReason: result.terminal_reason } : {}),
      ...(denials.length > 0
        ? {
            permissionDenials: denials.map((denial) => ({
              toolName: denial.tool_name,
              toolCallId: denial.tool_use_id,
            })),
          }
        : {}),
      ...(costNote ? { costNote } : {}),
    };
  }

  #resultFailure(
    result: ClaudeResultFrame,
    stderr: string,
    exitCode: number | undefined,
    thrown: unknown,
  ): AsmError {
    const failure = this.#mapper.apiFailure;
    const success = RESULT_FRAMES.is(result, "success") ? result : undefined;
    const errors = RESULT_FRAMES.isOther(result) ? result.errors : [];
    const message = [...errors, success?.result, failure?.message].find(
      (part) => typeof part === "string" && part.trim() !== "",
    );
    const status = success ? (success.api_error_status ?? failure?.status) : failure?.status;
    const cost = this.#cost(result);
    return providerFailure(PROVIDER, {
      ...(status != null ? { status } : {}),
      ...(failure?.errorType ? { errorType: failure.errorType } : {}),
      // Claude reports API failures as subtype "success" with is_error: only name other subtypes.
      message: `${PROVIDER.displayName} returned an error result${result.subtype === "success" ? "" : ` (${result.subtype})`}: ${message ?? "no message"}`,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(stderr ? { stderr } : {}),
      ...(thrown !== undefined ? { cause: thrown } : {}),
      details: {
        ...this.#failureDetails(),
        subtype: result.subtype,
        ...(result.terminal_reason ? { terminalReason: result.terminal_reason } : {}),
        ...(errors.length > 0 ? { errors } : {}),
        ...(cost.costUsd !== undefined ? { costUsd: cost.costUsd } : {}),
        ...(result.total_cost_usd != null ? { providerTotals: { costUsd: result.total_cost_usd } } : {}),
      },
    });
  }

  #failureDetails(): Record<string, unknown> {
    const sessionId = this.#mapper.providerSessionId;
    return sessionId ? { providerSessionId: sessionId } : {};
  }
}
