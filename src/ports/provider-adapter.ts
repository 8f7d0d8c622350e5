import type { Capability } from "../core/capabilities.js";
import type { AdapterEvent } from "../core/events.js";
import type { Run, RunOutput } from "../core/run.js";
import type { JsonObject, Session } from "../core/session.js";
import type { TokenUsage } from "../core/token-usage.js";

/**
 * Tool restrictions a run's policy imposes, in canonical tool names. An adapter compiles them
 * into its provider's native settings so the provider refuses a tool before it runs; the
 * manager still enforces the policy on the events, as a safety net.
 */
export interface ToolRestrictions {
  /** The only tools the agent may use. */
  allowedTools?: string[];
  /** Tools the agent must not use. */
  deniedTools?: string[];
}

/**
 * What a provider reported cumulatively for one of its native sessions (a Claude session, a Codex
 * thread) by the end of a run: the figures a resumed run subtracts to get its own. Each field is
 * absent when the provider does not report it cumulatively.
 */
export interface ProviderTotals {
  /** The native session's cost so far, in USD (Claude's `total_cost_usd`). */
  costUsd?: number;
  /** The native session's token usage so far (Codex's thread-cumulative `turn.completed.usage`). */
  tokenUsage?: TokenUsage;
}

/**
 * Where a provider's native session stood at the end of this asm session's latest run on that
 * provider, as derived by the manager from the stored runs (never from an adapter's memory), so a
 * run that resumes it can report its own usage and cost in any process.
 */
export interface ResumePoint {
  /**
   * The provider's own session or thread id (Claude session id, Codex or Amp thread id), as the
   * run stored it in `providerMetadata.providerSessionId`. An adapter uses the point only when
   * this is the id it is resuming.
   */
  providerSessionId: string;
  /** The latest run of this asm session that recorded `providerSessionId` for the provider. */
  runId: string;
  /**
   * What the provider had reported cumulatively in that native session by the end of `runId`
   * (its `providerMetadata.providerTotals`). When that run ended without reporting any (a
   * cancel, a failure before the provider's totals), these are the totals of the latest earlier
   * run of the same native session that has them; absent when no run has them.
   */
  totals?: ProviderTotals;
}

/** Everything an adapter needs to execute one run. */
export interface ExecuteRequest {
  run: Run;
  session: Session;
  /**
   * Per-run options, namespaced by provider name (`executeRun({ providerOptions })`), as the AI
   * SDK's `providerOptions`: an adapter reads and validates only `providerOptions[its name]`
   * (`{}` when absent) and ignores the other namespaces, so one request can go to any provider.
   */
  providerOptions: Readonly<Record<string, JsonObject>>;
  /**
   * The resume point of each provider that ran in this session, derived by the manager from the
   * stored runs, keyed by the provider name stored on them (`run.provider`: the adapter's name;
   * behind a router, the id the provider is registered under — register providers under their
   * own names for them to find their points). An adapter reads `resumePoints[its name]`. Absent,
   * or without the adapter's entry, when nothing is known.
   */
  resumePoints?: Readonly<Record<string, ResumePoint>>;
  /** Present when the run has a policy with tool rules (provider-side enforcement). */
  toolRules?: ToolRestrictions;
}

/**
 * Where an adapter reports what happens during a run. `emit` never blocks and never throws:
 * the pipeline validates, sequences and persists events in order, in batches.
 */
export interface EventSink {
  emit(event: AdapterEvent): void;
}

/** How a run ended well. Failures are reported by rejecting with an `AsmError`. */
export interface ExecuteResult {
  output: RunOutput;
  /**
   * The provider that actually executed the run, when this adapter delegates (a router).
   * Default: the adapter's own name.
   */
  provider?: string;
  tokenUsage?: TokenUsage;
  /** Why the provider stopped, e.g. `end_turn`, `exit_code_0`. Default `end_turn`. */
  stopReason?: string;
  /** Cost the provider itself reported; wins over a computed one. */
  costUsd?: number;
  /** The provider's own session or thread id, kept for native resume. */
  providerSessionId?: string;
  /**
   * What the provider reported cumulatively for `providerSessionId` after this run (Claude: its
   * session cost; Codex: its thread usage). The manager stores them in the run's
   * `providerMetadata.providerTotals`, so the next run that resumes that session gets them in its
   * `ResumePoint`. A failing adapter that knows them puts them in its error's
   * `details.providerTotals` (and the native id in `details.providerSessionId`).
   */
  providerTotals?: ProviderTotals;
  model?: string;
  turnCount?: number;
  metadata?: JsonObject;
}

/** The `ProviderAdapter` contract this package drives; an adapter declares the one it implements. */
export const PROVIDER_ADAPTER_SPECIFICATION = "v1";

/**
 * A provider (Claude Code, Codex, Amp, a shell command, a router of providers).
 *
 * Contract:
 * - `execute` emits the run's events through `sink` (starting with `run_started`) and resolves
 *   with the result, or rejects with an `AsmError` (`provider_*`, `command_*`, `timeout`, …).
 * - It never emits the terminal events `run_completed`, `run_failed`, `run_cancelled` or
 *   `run_timeout`: the SessionManager writes exactly one of those from the outcome.
 * - When `signal` aborts, it stops all work (child processes included) and rejects with
 *   `AsmError("cancelled")` promptly.
 */
export interface ProviderAdapter {
  /** `PROVIDER_ADAPTER_SPECIFICATION`: an adapter written against another contract is refused. */
  readonly specificationVersion: typeof PROVIDER_ADAPTER_SPECIFICATION;
  /** Stable provider name, e.g. `shell`, `claude`. Stored on runs and events. */
  readonly name: string;
  readonly capabilities: readonly Capability[];
  execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult>;
  /** Cancels a run this adapter is executing; resolves false if it is not executing it. */
  cancel(runId: string): Promise<boolean>;
  /**
   * Stops the run's current turn through the provider's own interrupt (Claude: the Agent SDK's
   * streaming-input `interrupt()`), keeping the provider's native session resumable. `execute`
   * then rejects with `AsmError("cancelled")` whose `details.interrupted` is `true` (and whose
   * `details.providerSessionId` names the session to resume, when known); usage reported so far
   * is kept. Resolves false if the adapter is not executing the run. Absent when the provider has
   * no native interrupt: the manager then cancels the run instead.
   */
  interrupt?(runId: string): Promise<boolean>;
}
