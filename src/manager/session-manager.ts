import { hostname } from "node:os";
import type { CapabilityNegotiation, CapabilityRequirement } from "../core/capabilities.js";
import { negotiateCapabilities } from "../core/capabilities.js";
import { AsmError } from "../core/errors.js";
import type { AdapterEvent, AsmEvent } from "../core/events.js";
import { newId } from "../core/ids.js";
import { createRedactor, type RedactionOptions, type Redactor } from "../core/redaction.js";
import { isTerminalRunStatus, type Run, type RunInput, type RunOutput, transitionRun } from "../core/run.js";
import {
  type JsonObject,
  ONE_SHOT_OWNER_KEY,
  type Session,
  type SessionStatus,
  transitionSession,
} from "../core/session.js";
import { requireSpecification } from "../core/specification.js";
import { EMPTY_TOKEN_USAGE, type TokenUsage } from "../core/token-usage.js";
import {
  type ExecuteRequest,
  PROVIDER_ADAPTER_SPECIFICATION,
  type ProviderAdapter,
} from "../ports/provider-adapter.js";
import type {
  RunCostFigure,
  RunExtension,
  RunExtensionOptions,
  RunResultExtensions,
} from "../ports/run-extension.js";
import { SESSION_STORE_SPECIFICATION, type SessionStore } from "../ports/session-store.js";
import { settleWithin } from "../utils/settle-within.js";
import { buildEventDraft } from "./event-builder.js";
import {
  type EventListener,
  type GroupCommitOptions,
  notifyListener,
  RunEventPipeline,
  resolveGroupCommit,
} from "./event-pipeline.js";
import { closeOpenToolCalls } from "./open-tool-calls.js";
import {
  EXECUTE_RUN_OPTION_SCHEMAS,
  inputMessages,
  parseOptions,
  parseRunInput,
  startRunSchema,
  startSessionSchema,
} from "./options.js";
import { deriveResumePoints, nativeSessionRecord } from "./resume-points.js";
import { RunExecution } from "./run-execution.js";
import {
  checkExtensionOptions,
  checkExtensions,
  executeOptionsSchema,
  RunHookChain,
} from "./run-extensions.js";
import { type RunHandle, runEvents } from "./run-handle.js";
import {
  adapterFailure,
  failureData,
  modelFromEvents,
  outcomeError,
  outcomeOfStored,
  reportedCostOf,
  terminalEvent,
  usageFromEvents,
} from "./run-outcome.js";
import {
  resolveStorageRetry,
  type StorageRetryOptions,
  type StorageRetryPolicy,
  withStorageRetry,
} from "./storage-retry.js";
import { type StreamEventsOptions, streamSessionEvents } from "./stream-events.js";

export interface SessionManagerOptions {
  store: SessionStore;
  adapter: ProviderAdapter;
  /**
   * Redact secrets before anything is stored — sessions (metadata, context, tags), runs (input,
   * output, error, metadata, provider metadata) and events (data, metadata; streamed deltas with
   * a carry-over window): `true` for the default patterns, or options. Listeners (`onEvent`)
   * receive the stored, redacted events; the provider still gets a run's input as given (when
   * the run was started by this manager). Default: off — turn it on in production.
   */
  redaction?: boolean | RedactionOptions;
  /**
   * After a cancel or timeout, how long to wait for the provider to stop so its last events are
   * logged before the run's terminal event. Default 10000 ms (Claude Code alone may take ~4 s
   * to stop: stdin closed, then SIGTERM after a grace).
   */
  cancelGraceMs?: number;
  /**
   * Features that take part in every run (policy, cost, workspace, continuity, telemetry…), in
   * the order their hooks run; see `RunExtension`. Default: none.
   */
  extensions?: readonly RunExtension[];
  /**
   * Retries of a run's event writes and of its end that fail with a retryable storage code
   * (`storage_busy`, …); see `StorageRetryOptions`. A batch that still cannot be written halts
   * the log there — nothing later is written — and fails the run, whose `run_failed` event
   * says in `details.unwrittenEvents` how many events are missing.
   * Default `{ attempts: 6, initialDelayMs: 100, maxDelayMs: 2000 }`.
   */
  storageRetry?: StorageRetryOptions;
  /**
   * How a run's events are grouped into store transactions: a write waits while events keep
   * arriving, up to `maxEvents` or `maxWaitMs` from its first; a lone event is written at once.
   * Larger groups ingest faster and delay followers of a saturating stream a little longer.
   * Default `{ maxEvents: 256, maxWaitMs: 1 }`.
   */
  groupCommit?: GroupCommitOptions;
}

export interface StartSessionInput {
  agentId: string;
  parentSessionId?: string;
  metadata?: JsonObject;
  context?: JsonObject;
  tags?: string[];
}

export interface StartRunOptions {
  /** Fail with `missing_required_capability` unless the provider offers these. */
  requiredCapabilities?: CapabilityRequirement[];
  /** Recorded as a degraded negotiation in the run's metadata when missing. */
  optionalCapabilities?: CapabilityRequirement[];
  metadata?: JsonObject;
}

/** Options of one run's execution; run extensions add theirs (`RunExtensionOptions`). */
export interface ExecuteRunOptions extends RunExtensionOptions {
  /** Called with each event of the run after it is stored (so it has its sequence). */
  onEvent?: (event: AsmEvent) => void;
  /** End the run with status `timeout` after this long. Default: no limit. */
  timeoutMs?: number;
  /** Aborting it cancels the run. */
  signal?: AbortSignal;
  /**
   * Per-run options for the providers, namespaced by provider name as the AI SDK's
   * `providerOptions` (`request.providerOptions`): each adapter reads and validates only its own
   * namespace and ignores the others, so options for every candidate of a router can be given at
   * once, e.g. `{ claude: { resumeSessionId }, codex: { resumeThreadId }, router: { prefer: ["codex"] } }`.
   * Default `{}`.
   */
  providerOptions?: Readonly<Record<string, JsonObject>>;
}

export interface RunOnceOptions extends ExecuteRunOptions, StartRunOptions {
  /** Default: the adapter's name. */
  agentId?: string;
  sessionMetadata?: JsonObject;
  context?: JsonObject;
  tags?: string[];
}

/**
 * A completed run, with what the run extensions added (`RunResultExtensions`: `policy`, …).
 * Failed, cancelled and timed-out runs reject with an `AsmError` instead.
 */
export type RunResult = CoreRunResult & Partial<RunResultExtensions>;

/** What every completed run reports, whatever extensions took part. */
export interface CoreRunResult {
  sessionId: string;
  runId: string;
  output: RunOutput;
  tokenUsage: TokenUsage;
  /** Every event of the run, in sequence order, from `message_sent` to `run_completed`. */
  events: AsmEvent[];
  stopReason: string;
  durationMs: number;
  costUsd: number | null;
  providerSessionId?: string;
  model?: string;
}

/**
 * Orchestrates sessions and runs over a store and a provider adapter: every state change is a
 * checked transition, every event goes through one pipeline into the log, and every run ends
 * with exactly one terminal status and one terminal event. It knows no feature: policy, cost
 * and the rest take part through `extensions`. Users construct `SessionManager`, this class
 * with the built-in extensions.
 */
export class SessionManagerBase {
  readonly store: SessionStore;
  readonly adapter: ProviderAdapter;
  private readonly redactor: Redactor | undefined;
  private readonly cancelGraceMs: number;
  private readonly extensions: readonly RunExtension[];
  private readonly executeSchema: ReturnType<typeof executeOptionsSchema>;
  private readonly storageRetry: StorageRetryPolicy;
  private readonly groupCommit: Required<GroupCommitOptions>;
  private readonly executions = new Map<string, RunExecution>();
  /** Inputs of runs started here whose stored input was redacted, until they execute or are cancelled. */
  private readonly givenInputs = new Map<string, RunInput>();

  constructor(options: SessionManagerOptions) {
    requireSpecification("the store", options.store?.specificationVersion, SESSION_STORE_SPECIFICATION);
    requireSpecification(
      `provider adapter "${options.adapter?.name}"`,
      options.adapter?.specificationVersion,
      PROVIDER_ADAPTER_SPECIFICATION,
    );
    this.store = options.store;
    this.adapter = options.adapter;
    this.redactor = createRedactor(options.redaction);
    this.cancelGraceMs = options.cancelGraceMs ?? 10_000;
    this.extensions = options.extensions ?? [];
    checkExtensions(this.extensions, Object.keys(EXECUTE_RUN_OPTION_SCHEMAS));
    this.executeSchema = executeOptionsSchema(EXECUTE_RUN_OPTION_SCHEMAS, this.extensions);
    this.storageRetry = resolveStorageRetry(options.storageRetry);
    this.groupCommit = resolveGroupCommit(options.groupCommit);
  }

  /** Creates a pending session and logs `session_created`. */
  startSession(input: StartSessionInput): Promise<Session> {
    return this.createSession(input);
  }

  activateSession(sessionId: string): Promise<Session> {
    return this.moveSession(sessionId, "active", { type: "session_started", data: {} });
  }

  pauseSession(sessionId: string, reason?: string): Promise<Session> {
    return this.moveSession(sessionId, "paused", { type: "session_paused", data: reason ? { reason } : {} });
  }

  resumeSession(sessionId: string): Promise<Session> {
    return this.moveSession(sessionId, "active", { type: "session_resumed", data: {} });
  }

  completeSession(sessionId: string): Promise<Session> {
    return this.moveSession(sessionId, "completed", { type: "session_completed", data: {} });
  }

  failSession(sessionId: string, error: unknown): Promise<Session> {
    const failure = AsmError.from(error);
    return this.moveSession(sessionId, "failed", {
      type: "session_failed",
      data: failureData(failure),
    });
  }

  /** Cancels the session's runs that have not ended, then the session. */
  async cancelSession(sessionId: string, reason = "session cancelled"): Promise<Session> {
    const runs = await this.store.listRuns(sessionId, { limit: 1000 });
    await Promise.all(
      runs.filter((run) => !isTerminalRunStatus(run.status)).map((run) => this.cancelRun(run.id, reason)),
    );
    return this.moveSession(sessionId, "cancelled", { type: "session_cancelled", data: { reason } });
  }

  /**
   * Creates a pending run in an active session. Capability requirements are checked against the
   * adapter now, so an impossible run fails before anything is spent.
   */
  async startRun(sessionId: string, input: RunInput | string, options: StartRunOptions = {}): Promise<Run> {
    const runInput = parseRunInput(input);
    const opts = parseOptions(startRunSchema, options, "startRun options");
    const session = await this.store.getSession(sessionId);
    if (session.status !== "active") {
      throw new AsmError(
        "invalid_status",
        `session ${sessionId} is ${session.status}; runs need an active session`,
        {
          details: { sessionId, status: session.status },
          hint: "activate the session first (activateSession)",
        },
      );
    }
    let negotiation: CapabilityNegotiation | undefined;
    if (opts.requiredCapabilities || opts.optionalCapabilities) {
      negotiation = negotiateCapabilities(this.adapter.name, this.adapter.capabilities, {
        required: opts.requiredCapabilities ?? [],
        optional: opts.optionalCapabilities ?? [],
      });
    }
    const run: Run = {
      id: newId("run"),
      sessionId,
      status: "pending",
      input: runInput,
      metadata: {
        ...opts.metadata,
        ...(negotiation
          ? { capabilities: { status: negotiation.status, warnings: negotiation.warnings } }
          : {}),
      },
      turnCount: 0,
      tokenUsage: { ...EMPTY_TOKEN_USAGE },
      costUsd: null,
      providerMetadata: {},
      createdAt: new Date().toISOString(),
    };
    const stored = this.redactRun(run);
    if (stored.input !== run.input) this.givenInputs.set(run.id, run.input);
    await this.store.saveRun(stored);
    return stored;
  }

  /**
   * Executes a pending run to its end. Resolves with the result when it completes; rejects with
   * an `AsmError` when it fails (the provider's code), is cancelled (`cancelled`) or times out
   * (`timeout`) — in every case after the run's one terminal status and event are stored.
   * Invalid options (the extensions' included) reject with `validation_error` and leave the run
   * pending; an extension that vetoes the run at its start fails it before the provider starts.
   */
  async executeRun(runId: string, options: ExecuteRunOptions = {}): Promise<RunResult> {
    const parsed = parseOptions(this.executeSchema, options, "executeRun options");
    checkExtensionOptions(this.extensions, parsed);
    const opts: ExecuteRunOptions = parsed;
    const pending = await this.store.getRun(runId);
    const session = await this.store.getSession(pending.sessionId);
    if (session.status !== "active") {
      throw new AsmError(
        "invalid_status",
        `session ${session.id} is ${session.status}; runs need an active session`,
        {
          details: { sessionId: session.id, status: session.status, runId },
        },
      );
    }
    const givenInput = this.givenInputs.get(runId);
    this.givenInputs.delete(runId);
    const run: Run = {
      ...transitionRun(pending, "running"),
      ...(givenInput ? { input: givenInput } : {}),
      provider: this.adapter.name,
      owner: { hostname: hostname(), pid: process.pid },
    };
    // The compare-and-set makes a second executor of the same run (here or elsewhere) fail here.
    await this.store.saveRun(this.redactRun(run), { expectedStatus: "pending" });

    const execution = new RunExecution(session.id);
    this.executions.set(runId, execution);
    try {
      return await this.drive(execution, run, session, opts, parsed);
    } finally {
      this.executions.delete(runId);
    }
  }

  /**
   * Cancels a run. A run executing in this process is stopped and ends `cancelled`, unless it
   * already finished; a pending run (or one running in another process) is marked `cancelled`.
   * Resolves with the run as finally stored; cancelling an ended run changes nothing.
   */
  async cancelRun(runId: string, reason = "cancelled by caller"): Promise<Run> {
    const execution = this.executions.get(runId);
    if (execution) {
      execution.decide({ status: "cancelled", reason });
      return execution.finished;
    }
    return this.cancelStoredRun(runId, reason, false);
  }

  /**
   * Stops a run's current turn and keeps the provider's native session resumable: through the
   * adapter's own `interrupt` when it has one (Claude), else as `cancelRun` does. Either way the
   * run ends `cancelled`, its `run_cancelled` event and `executeRun`'s rejection saying
   * `interrupted: true`; a pending run is cancelled so. Resolves with the run as finally stored;
   * interrupting an ended run changes nothing.
   */
  async interruptRun(runId: string, reason = "interrupted by caller"): Promise<Run> {
    const execution = this.executions.get(runId);
    if (!execution) return this.cancelStoredRun(runId, reason, true);
    if (this.adapter.interrupt && !execution.outcome) {
      const interrupting = this.adapter.interrupt(runId).catch(() => false);
      // The adapter's execute rejects with an interrupted cancel once the turn stopped; one that
      // does not stop in the grace is cancelled, so an interrupt never hangs.
      if (await interrupting) await settleWithin(execution.decided, this.cancelGraceMs);
    }
    execution.decide({ status: "cancelled", reason, interrupted: true });
    return execution.finished;
  }

  /** Cancels a run not executing in this process: pending here, or running elsewhere. */
  private async cancelStoredRun(runId: string, reason: string, interrupted: boolean): Promise<Run> {
    const run = await this.store.getRun(runId);
    if (isTerminalRunStatus(run.status)) return run;
    this.givenInputs.delete(runId);
    const cancelled = this.redactRun(transitionRun(run, "cancelled"));
    const event = buildEventDraft(
      { type: "run_cancelled", data: { reason, ...(interrupted ? { interrupted: true } : {}) } },
      { sessionId: run.sessionId, runId, ...(run.provider ? { provider: run.provider } : {}) },
      "manager",
      this.redactor,
    );
    try {
      await this.store.saveRun(cancelled, { expectedStatus: run.status, events: [event] });
      return cancelled;
    } catch (error) {
      // Someone else moved the run first (it started, or ended); report what won.
      if (AsmError.is(error, "invalid_transition")) return this.store.getRun(runId);
      throw error;
    }
  }

  /**
   * Creates and activates a session, executes one run in it, and completes (or fails, or
   * cancels) the session. `onEvent` sees every event of that session, lifecycle included.
   */
  async runOnce(input: RunInput | string, options: RunOnceOptions = {}): Promise<RunResult> {
    const {
      agentId,
      sessionMetadata,
      context,
      tags,
      requiredCapabilities,
      optionalCapabilities,
      metadata,
      ...executeOptions
    } = options;
    const listener = executeOptions.onEvent;
    const session = await this.createSession(
      {
        agentId: agentId ?? this.adapter.name,
        // Only this process can end the session: if it dies, store recovery fails the session.
        metadata: { ...sessionMetadata, [ONE_SHOT_OWNER_KEY]: { hostname: hostname(), pid: process.pid } },
        ...(context ? { context } : {}),
        ...(tags ? { tags } : {}),
      },
      listener,
    );
    await this.moveSession(session.id, "active", { type: "session_started", data: {} }, listener);
    try {
      const run = await this.startRun(session.id, input, {
        ...(requiredCapabilities ? { requiredCapabilities } : {}),
        ...(optionalCapabilities ? { optionalCapabilities } : {}),
        ...(metadata ? { metadata } : {}),
      });
      const result = await this.executeRun(run.id, executeOptions);
      await this.moveSession(session.id, "completed", { type: "session_completed", data: {} }, listener);
      return result;
    } catch (error) {
      const failure = AsmError.from(error);
      await (failure.code === "cancelled"
        ? this.moveSession(
            session.id,
            "cancelled",
            { type: "session_cancelled", data: { reason: failure.message } },
            listener,
          )
        : this.moveSession(
            session.id,
            "failed",
            { type: "session_failed", data: failureData(failure) },
            listener,
          ));
      throw failure;
    }
  }

  /**
   * Starts a run in an active session and returns at once with its handle: the run id, its
   * stored events as they are written, its result, and cancel. Start and execute options are
   * given together; see `startRun` and `executeRun`.
   */
  async streamRun(
    sessionId: string,
    input: RunInput | string,
    options: StartRunOptions & ExecuteRunOptions = {},
  ): Promise<RunHandle<RunResult>> {
    const { requiredCapabilities, optionalCapabilities, metadata, ...executeOptions } = options;
    const run = await this.startRun(sessionId, input, {
      ...(requiredCapabilities ? { requiredCapabilities } : {}),
      ...(optionalCapabilities ? { optionalCapabilities } : {}),
      ...(metadata ? { metadata } : {}),
    });
    const result = this.executeRun(run.id, executeOptions);
    // The caller may only iterate the events: a failed run must not become an unhandled rejection.
    result.catch(() => undefined);
    const { store } = this;
    return {
      runId: run.id,
      sessionId,
      events: { [Symbol.asyncIterator]: () => runEvents(store, run, result) },
      result,
      cancel: (reason) => this.cancelRun(run.id, reason),
    };
  }

  /** The session's events from a cursor; see `streamSessionEvents`. */
  streamSessionEvents(sessionId: string, options: StreamEventsOptions = {}): AsyncGenerator<AsmEvent> {
    return streamSessionEvents(this.store, sessionId, options);
  }

  private async drive(
    execution: RunExecution,
    run: Run,
    session: Session,
    opts: ExecuteRunOptions,
    extensionOptions: Readonly<Record<string, unknown>>,
  ): Promise<RunResult> {
    const startedAt = performance.now();
    const hooks = new RunHookChain(this.extensions);
    // Filled once the extensions have started; the pipeline reads the array as events are stored.
    const listeners: EventListener[] = [];
    const pipeline = new RunEventPipeline(
      this.store,
      { sessionId: run.sessionId, runId: run.id, provider: this.adapter.name },
      {
        redactor: this.redactor,
        listeners,
        onFailure: (error) => execution.decide({ status: "failed", error }),
        storageRetry: this.storageRetry,
        groupCommit: this.groupCommit,
      },
    );

    const onAbort = () => execution.decide({ status: "cancelled", reason: "signal aborted" });
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    const timer =
      opts.timeoutMs && opts.timeoutMs > 0
        ? setTimeout(
            () => execution.decide({ status: "timeout", timeoutMs: opts.timeoutMs ?? 0 }),
            opts.timeoutMs,
          )
        : undefined;

    try {
      const veto = await hooks.start({
        run,
        session,
        provider: { name: this.adapter.name },
        options: extensionOptions,
        store: this.store,
        append: (event) => pipeline.append(event),
        fail: (error) => execution.decide({ status: "failed", error }),
        signal: execution.controller.signal,
      });
      listeners.push(
        ...hooks.listeners((extension, error) => {
          pipeline
            .append({
              type: "error_occurred",
              data: { ...failureData(error), fatal: false, details: { ...error.details, extension } },
            })
            .catch(() => undefined); // a write failure has already decided the outcome
        }),
      );
      if (opts.onEvent) listeners.push(opts.onEvent);
      if (veto) execution.decide({ status: "failed", error: veto });

      await Promise.all(
        inputMessages(run.input).map((message) => pipeline.append({ type: "message_sent", data: message })),
      ).catch(() => undefined); // a write failure has already decided the outcome

      let adapterSettled: Promise<unknown> = Promise.resolve();
      if (!execution.outcome) {
        // Where each provider's native session stands comes from the log, not from adapter memory.
        adapterSettled = withStorageRetry(() => deriveResumePoints(this.store, session.id), this.storageRetry)
          .then((resumePoints) => {
            const request: ExecuteRequest = {
              run,
              session,
              providerOptions: opts.providerOptions ?? {},
              resumePoints,
            };
            return hooks.transformRequest(request);
          })
          .then((transformed) => this.adapter.execute(transformed, pipeline, execution.controller.signal))
          .then(
            (result) => execution.decide({ status: "completed", result }),
            (error: unknown) => execution.decide(adapterFailure(error)),
          );
      }
      const outcome = await execution.decided;
      if (outcome.status !== "completed") {
        // Let the provider wind down so its last events precede the terminal one, but never hang.
        await settleWithin(adapterSettled, this.cancelGraceMs);
      }
      await pipeline.drain();
      return await this.finalize(execution, run, pipeline, hooks, performance.now() - startedAt);
    } finally {
      await hooks.close();
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }

  private async finalize(
    execution: RunExecution,
    run: Run,
    pipeline: RunEventPipeline,
    hooks: RunHookChain,
    durationMs: number,
  ): Promise<RunResult> {
    let outcome = execution.outcome ?? {
      status: "failed",
      error: new AsmError("internal_error", "run ended undecided"),
    };
    // What the provider reported if it completed: its usage and facts hold even if the run fails below.
    const result = outcome.status === "completed" ? outcome.result : undefined;
    const tokenUsage = result?.tokenUsage ?? usageFromEvents(pipeline.events);
    const model = result?.model ?? modelFromEvents(pipeline.events);
    const reportedCostUsd = reportedCostOf(outcome);
    const metadata = { ...run.metadata, ...result?.metadata };

    // The extensions have their last word before the terminal event (a policy may fail a run the
    // provider completed: the outcome latch had already settled on "completed").
    const conclusion = await hooks.finish(
      { run, outcome, tokenUsage, model, reportedCostUsd, events: pipeline.events },
      metadata,
    );
    const cost = conclusion.cost ?? costAsReported(reportedCostUsd);
    // Events missing from the log decide the run, whatever else happened: its terminal event
    // must say how many (`details.unwrittenEvents`). A failure the store recovered from in time
    // (everything written after all) leaves a completed run completed.
    const unwritten = await pipeline.settle();
    const failure = (unwritten > 0 ? pipeline.failure : undefined) ?? conclusion.failure;
    if (failure && (outcome.status === "completed" || unwritten > 0)) {
      outcome = { status: "failed", error: failure };
    }
    const ended: Run = {
      ...transitionRun(run, outcome.status),
      tokenUsage,
      costUsd: cost.usd,
      turnCount: result?.turnCount ?? run.turnCount,
      ...(result?.provider ? { provider: result.provider } : {}),
      ...(outcome.status === "completed" ? { output: outcome.result.output } : {}),
      ...(outcome.status === "failed" ? { error: outcome.error.toJSON() } : {}),
      providerMetadata: {
        ...run.providerMetadata,
        ...nativeSessionRecord(result, outcome, pipeline.events),
        ...(model ? { model } : {}),
      },
      metadata: { ...metadata, ...conclusion.metadata },
    };
    // Tool calls the provider left open end with the run, in the same write as its terminal event.
    const closers = closeOpenToolCalls(pipeline.events, outcome).map((event) =>
      pipeline.build(event, "manager"),
    );
    const terminal = pipeline.build(terminalEvent(outcome, tokenUsage, durationMs, cost.usd), "manager");

    let stored: Run = this.redactRun(ended);
    try {
      pipeline.delivered(
        await withStorageRetry(
          () => this.store.saveRun(stored, { expectedStatus: "running", events: [...closers, terminal] }),
          this.storageRetry,
        ),
      );
    } catch (error) {
      if (!AsmError.is(error, "invalid_transition")) {
        execution.finish(run);
        throw error;
      }
      // Another writer (a cancel from another process) ended the run first: its outcome stands.
      stored = await this.store.getRun(run.id);
      outcome =
        stored.status === "completed" || stored.status === "running"
          ? { status: "failed", error: new AsmError("internal_error", `run ${run.id} was ended elsewhere`) }
          : outcomeOfStored(stored);
    }
    execution.finish(stored);

    if (outcome.status !== "completed") throw outcomeError(outcome, run);
    return {
      ...conclusion.result,
      sessionId: run.sessionId,
      runId: run.id,
      output: outcome.result.output,
      tokenUsage,
      events: pipeline.events,
      stopReason: outcome.result.stopReason ?? "end_turn",
      durationMs,
      costUsd: cost.usd,
      ...(outcome.result.providerSessionId ? { providerSessionId: outcome.result.providerSessionId } : {}),
      ...(outcome.result.model ? { model: outcome.result.model } : {}),
    };
  }

  private async createSession(input: StartSessionInput, listener?: EventListener): Promise<Session> {
    const attrs = parseOptions(startSessionSchema, input, "session attributes");
    const now = new Date().toISOString();
    const session = this.redactSession({
      id: newId("ses"),
      agentId: attrs.agentId,
      status: "pending",
      ...(attrs.parentSessionId ? { parentSessionId: attrs.parentSessionId } : {}),
      metadata: { provider: this.adapter.name, ...attrs.metadata },
      context: attrs.context ?? {},
      tags: attrs.tags ?? [],
      createdAt: now,
      updatedAt: now,
    });
    await this.store.saveSession(session);
    await this.logSessionEvent(
      session.id,
      { type: "session_created", data: { provider: this.adapter.name } },
      listener,
    );
    return session;
  }

  private async moveSession(
    sessionId: string,
    to: SessionStatus,
    event: AdapterEvent,
    listener?: EventListener,
  ): Promise<Session> {
    const session = this.redactSession(transitionSession(await this.store.getSession(sessionId), to));
    await this.store.saveSession(session);
    await this.logSessionEvent(sessionId, event, listener);
    return session;
  }

  private async logSessionEvent(
    sessionId: string,
    event: AdapterEvent,
    listener?: EventListener,
  ): Promise<void> {
    const stored = await this.store.appendEvent(
      buildEventDraft(event, { sessionId }, "manager", this.redactor),
    );
    if (listener) notifyListener(listener, stored);
  }

  /** The session as it may be stored: redacted when redaction is on. */
  private redactSession(session: Session): Session {
    return this.redactor ? this.redactor.redactSession(session).value : session;
  }

  /** The run as it may be stored: redacted when redaction is on. */
  private redactRun(run: Run): Run {
    return this.redactor ? this.redactor.redactRun(run).value : run;
  }
}

/** A run's cost when no extension priced it: what the provider reported, else unknown. */
function costAsReported(reportedCostUsd: number | undefined): RunCostFigure {
  return reportedCostUsd === undefined
    ? {
        usd: null,
        source: "unknown",
        warning: "the provider reported no cost and no extension priced the run",
      }
    : { usd: reportedCostUsd, source: "provider" };
}
