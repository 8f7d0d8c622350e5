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

/** Everything an adapter needs to execute one run. */
export interface ExecuteRequest {
  run: Run;
  session: Session;
  /** Per-run options for this provider, passed through from `executeRun({ adapterOptions })`. */
  options: JsonObject;
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
  model?: string;
  turnCount?: number;
  metadata?: JsonObject;
}

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
  /** Stable provider name, e.g. `shell`, `claude`. Stored on runs and events. */
  readonly name: string;
  readonly capabilities: readonly Capability[];
  execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult>;
  /** Cancels a run this adapter is executing; resolves false if it is not executing it. */
  cancel(runId: string): Promise<boolean>;
}
