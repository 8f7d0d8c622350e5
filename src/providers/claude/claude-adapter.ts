import { access } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import type {
  Options,
  Query,
  SDKUserMessage,
  SpawnedProcess,
  SpawnOptions,
} from "@anthropic-ai/claude-agent-sdk";
import type { Capability } from "../../core/capabilities.js";
import type { AsmError } from "../../core/errors.js";
import type { JsonObject } from "../../core/session.js";
import type { TokenUsage } from "../../core/token-usage.js";
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
import type { FailureFacts } from "../shared/provider-failures.js";
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
import {
  CLAUDE_FRAMES,
  type ClaudeFrame,
  type ClaudeResultFrame,
  checkedFrame,
  RESULT_FRAMES,
  SYSTEM_FRAMES,
} from "./frames.js";
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

/**
 * API statuses no retry can fix: Claude Code would still retry them (ten times by default, minutes
 * for a bad key), so the first retry notice with one of them ends the run.
 */
const HOPELESS_RETRY_STATUSES: ReadonlySet<number> = new Set([401, 403]);

/** How a run was asked to stop: through its signal (`cancel`) or through `ClaudeAdapter.interrupt`. */
type StopRequest = "cancel" | "interrupt";

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
 * `subtype`), with the code `providerFailure` gives the API's status and error type
 * (`details.status`, `details.errorType`: the API's own `api_error_type` when Claude Code passes
 * it on, else Claude Code's label; `details.providerErrorType`: the API's raw type, or
 * `connection_failed` when no answer came;
 * `details.retryAfterMs`: the delay of Claude Code's last retry notice); when Claude Code cannot
 * be found (`provider_unavailable`) or exits without a result (`provider_error` with its stderr
 * tail). A retry notice (`system/api_retry`) for a 401 or 403 ends the run at once
 * (`provider_authentication_failed`) instead of letting Claude Code retry a bad key for minutes.
 *
 * The prompt goes in as streaming input (kept open until the turn's result), so the SDK's
 * `interrupt()` works. A cancel (the signal, or `cancel(runId)`) first asks Claude Code to stop
 * the turn through it (the model stream stops within milliseconds), and escalates to stopping
 * the process group if the CLI has not finished within `killGraceMs` (`details.processStopped`);
 * it rejects with `cancelled` once the group is gone, naming the Claude session
 * (`details.providerSessionId`) and its total cost when Claude Code reported it
 * (`details.providerTotals`). `interrupt(runId)` does the same, and the rejection says
 * `details.interrupted: true` with the Claude session to resume. Whatever way a run ends, the
 * usage reported so far is emitted (`token_usage_updated`) before it settles. Every output
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
  /** The runs being executed, for `interrupt(runId)`. */
  readonly #runs = new Map<string, ClaudeRun>();

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
      this.#runs.set(request.run.id, run);
      try {
        return await run.execute();
      } finally {
        this.#runs.delete(request.run.id);
      }
    });
  }

  /**
   * Cancels the run. Resolves (true) only once `execute` has rejected with `cancelled`, which it
   * does once Claude Code's process group is gone; false for a run this adapter is not executing.
   */
  async cancel(runId: string): Promise<boolean> {
    return this.#active.cancelAndWait(runId);
  }

  /**
   * Stops the run's turn through the Agent SDK's `interrupt()`, keeping the Claude session
   * resumable: `execute` rejects with `cancelled` (`details.interrupted: true`,
   * `details.providerSessionId`). If Claude Code has not finished within `killGraceMs`, its
   * process group is stopped as for a cancel. Resolves (true) once `execute` has settled; false
   * for a run this adapter is not executing.
   */
  async interrupt(runId: string): Promise<boolean> {
    const run = this.#runs.get(runId);
    // Tracked but Claude Code not started yet: there is no turn to keep, a cancel does.
    if (run === undefined) return this.#active.cancelAndWait(runId);
    run.stop("interrupt");
    await run.settled;
    return true;
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
  #query: Query | undefined;
  /** Set once the run was asked to stop; the first request wins. */
  #stop: StopRequest | undefined;
  /** The native interrupt did not end the turn in time (or failed): the process group was stopped. */
  #escalated = false;
  #escalation: NodeJS.Timeout | undefined;
  /** A retry notice said the API refused the credentials: the run was ended without the retries. */
  #hopelessRetry = false;
  /** A `result` frame of the wrong shape came (and was reported): the turn ended without a result. */
  #resultRefused = false;
  /** Ends the streaming input, so the SDK closes Claude Code's stdin and it exits. */
  #endInput: () => void = () => {};
  readonly #inputEnded: Promise<void>;
  #markSettled: () => void = () => {};
  /** Resolves once `execute` has settled. */
  readonly settled: Promise<void>;

  constructor(spec: ClaudeRunSpec) {
    this.#spec = spec;
    this.#mapper = new ClaudeEventMapper(spec.sink);
    this.#inputEnded = new Promise((resolve) => {
      this.#endInput = resolve;
    });
    this.settled = new Promise((resolve) => {
      this.#markSettled = resolve;
    });
  }

  async execute(): Promise<ExecuteResult> {
    try {
      return await this.#execute();
    } finally {
      this.#markSettled();
    }
  }

  /**
   * Asks the run to stop: the usage seen so far is emitted at once (the caller may not wait for
   * the rest), then Claude Code is asked to stop the turn through the SDK's `interrupt()`; if it
   * has not finished within `killGraceMs`, its process group is stopped.
   */
  stop(request: StopRequest): void {
    if (this.#stop !== undefined) return;
    this.#stop = request;
    this.#mapper.flushUsage();
    this.#escalation = setTimeout(() => this.#escalate(), this.#spec.options.killGraceMs);
    this.#interrupt();
  }

  #interrupt(): void {
    // Before the query exists, execute calls this again as soon as it does.
    this.#query?.interrupt().catch(() => this.#escalate());
  }

  /** The old way, for a CLI that did not stop on the interrupt: end its input, stop its group. */
  #escalate(): void {
    if (this.#escalated) return;
    this.#escalated = true;
    this.#endInput();
    this.#abort.abort();
    this.#process?.terminate(this.#spec.options.killGraceMs);
  }

  async #execute(): Promise<ExecuteResult> {
    const { signal } = this.#spec;
    const onAbort = (): void => this.stop("cancel");
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    let thrown: unknown;
    let afterResult: NodeJS.Timeout | undefined;
    try {
      const query = this.#spec.sdk.query({ prompt: this.#input(), options: this.#sdkOptions() });
      this.#query = query;
      if (this.#stop !== undefined) this.#interrupt();
      for await (const message of query) {
        const turnEnded = this.#take(message);
        if (this.#hopelessRetry) break;
        if (afterResult !== undefined) {
          // Still printing after the result: the wait for its exit starts over.
          afterResult.refresh();
        } else if (turnEnded) {
          // The SDK closes stdin once the input ends and waits for the CLI to exit: bound that wait.
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
      this.#endInput();
    }
    await this.#stopProcess();
    clearTimeout(this.#escalation);
    // Problems the SDK did not pass on (it may drop frames it does not know) are still reported.
    if (this.#stop === undefined) for (const index of [...this.#problems.keys()]) this.#reportProblem(index);
    // Every token reported is kept, however the run ends.
    const tokenUsage = this.#mapper.finishUsage();
    if (this.#stop !== undefined) throw this.#stoppedError();
    return this.#settle(thrown, tokenUsage);
  }

  /**
   * The prompt as streaming input: one user message, then open until the turn ends (its result,
   * a stop), as the SDK's `interrupt()` needs. Ending it makes the SDK close Claude Code's stdin.
   */
  async *#input(): AsyncGenerator<SDKUserMessage> {
    yield {
      type: "user",
      message: { role: "user", content: [{ type: "text", text: this.#spec.prompt }] },
      parent_tool_use_id: null,
    };
    await this.#inputEnded;
  }

  #stoppedError(): AsmError {
    const result = this.#mapper.result;
    const sessionId = this.#mapper.providerSessionId;
    return cancelledError(this.#spec.runId, {
      ...(this.#stop === "interrupt" ? { interrupted: true } : {}),
      ...(this.#escalated ? { processStopped: true } : {}),
      ...(sessionId ? { providerSessionId: sessionId } : {}),
      ...(result?.total_cost_usd != null ? { providerTotals: { costUsd: result.total_cost_usd } } : {}),
    });
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
      this.#endInput();
      this.#process?.child.stdin.end();
      return true;
    }
    const frame = checkedFrame(message);
    this.#mapper.handle(frame);
    if (isHopelessRetry(frame)) {
      // Claude Code would retry a refused key for minutes: stop it now, the failure is known.
      this.#hopelessRetry = true;
      this.#endInput();
      this.#process?.terminate(this.#spec.options.killGraceMs);
    }
    if (frame.type !== "result") return false;
    // The turn is over (an interrupt's result included): the input ends, and Claude Code exits.
    this.#endInput();
    return true;
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
    if (this.#stop !== undefined || this.#hopelessRetry) {
      // Asked to stop (or being stopped): the grace to exit on its own, then the group is stopped.
      await cli.stop(killGraceMs);
      return;
    }
    // Finished normally: the CLI exits on stdin EOF; processes it left behind are stopped.
    await settleWithin(cli.exited, killGraceMs);
    await cli.stop(0);
  }

  #settle(thrown: unknown, tokenUsage: TokenUsage): ExecuteResult {
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
      if (this.#hopelessRetry) throw this.#hopelessRetryFailure(stderr);
      const api = this.#apiFacts(undefined);
      throw providerFailure(PROVIDER, {
        ...api,
        ...(exit?.code != null ? { exitCode: exit.code } : {}),
        ...(exit?.signal ? { signal: exit.signal } : {}),
        ...(stderr ? { stderr } : {}),
        ...((exit?.code === 0 && !stderr.trim()) || this.#resultRefused
          ? { message: `${PROVIDER.displayName} ended without a result`, kind: "protocol_error" as const }
          : {}),
        ...(thrown !== undefined ? { cause: thrown } : {}),
        details: { ...api.details, ...this.#failureDetails() },
      });
    }
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
    const cost = this.#cost(result);
    const api = this.#apiFacts(success?.api_error_status);
    return providerFailure(PROVIDER, {
      ...api,
      // Claude reports API failures as subtype "success" with is_error: only name other subtypes.
      message: `${PROVIDER.displayName} returned an error result${result.subtype === "success" ? "" : ` (${result.subtype})`}: ${message ?? "no message"}`,
      ...(exitCode !== undefined ? { exitCode } : {}),
      ...(stderr ? { stderr } : {}),
      ...(thrown !== undefined ? { cause: thrown } : {}),
      details: {
        ...api.details,
        ...this.#failureDetails(),
        subtype: result.subtype,
        ...(result.terminal_reason ? { terminalReason: result.terminal_reason } : {}),
        ...(errors.length > 0 ? { errors } : {}),
        ...(cost.costUsd !== undefined ? { costUsd: cost.costUsd } : {}),
        ...(result.total_cost_usd != null ? { providerTotals: { costUsd: result.total_cost_usd } } : {}),
      },
    });
  }

  /**
   * What Claude Code said about the failed API call, as `providerFailure` facts: the status (the
   * result's `api_error_status`, else the last error message's or retry notice's), the error type
   * (the API's own `api_error_type` when Claude Code passed it on, else Claude Code's label), the
   * delay of the last retry notice, and the API's raw type as `details.providerErrorType`.
   */
  #apiFacts(
    resultStatus: number | null | undefined,
  ): Pick<FailureFacts, "status" | "errorType" | "retryAfterMs"> & { details: Record<string, unknown> } {
    const failure = this.#mapper.apiFailure;
    const status = resultStatus ?? failure?.status;
    const errorType = failure?.apiErrorType ?? failure?.errorType;
    const providerErrorType = failure?.apiErrorType ?? failure?.apiError;
    return {
      ...(status != null ? { status } : {}),
      ...(errorType ? { errorType } : {}),
      ...(failure?.retryDelayMs !== undefined ? { retryAfterMs: failure.retryDelayMs } : {}),
      details: providerErrorType ? { providerErrorType } : {},
    };
  }

  /** The run ended on a retry notice no retry could fix (a refused key): that notice's failure. */
  #hopelessRetryFailure(stderr: string): AsmError {
    const api = this.#apiFacts(undefined);
    return providerFailure(PROVIDER, {
      ...api,
      message: `${PROVIDER.displayName} API request failed (${[api.status, api.errorType].filter(Boolean).join(", ")}); stopped instead of retrying`,
      ...(stderr ? { stderr } : {}),
      details: { ...api.details, ...this.#failureDetails(), stoppedRetrying: true },
    });
  }

  #failureDetails(): Record<string, unknown> {
    const sessionId = this.#mapper.providerSessionId;
    return sessionId ? { providerSessionId: sessionId } : {};
  }
}

/** A retry notice for a failure no retry can fix (401, 403): Claude Code would retry it anyway. */
function isHopelessRetry(frame: ClaudeFrame): boolean {
  return (
    frame.type === "system" &&
    SYSTEM_FRAMES.is(frame, "api_retry") &&
    frame.error_status != null &&
    HOPELESS_RETRY_STATUSES.has(frame.error_status)
  );
}
