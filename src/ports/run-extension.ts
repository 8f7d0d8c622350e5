import type { z } from "zod";
import type { AsmError } from "../core/errors.js";
import type { AdapterEvent, AsmEvent } from "../core/events.js";
import type { Run } from "../core/run.js";
import type { JsonObject, Session } from "../core/session.js";
import type { TokenUsage } from "../core/token-usage.js";
import type { ExecuteRequest, ExecuteResult } from "./provider-adapter.js";
import type { SessionStore } from "./session-store.js";

/** The run-extension contract this package drives; an extension declares the one it was built for. */
export const RUN_EXTENSION_SPECIFICATION = "v1";

/** How a run ends. The first outcome decided wins; later ones are ignored. */
export type RunOutcome =
  | { status: "completed"; result: ExecuteResult }
  | { status: "failed"; error: AsmError }
  | {
      status: "cancelled";
      reason: string;
      /** Stopped by an interrupt (`interruptRun`): the provider's native session stays resumable. */
      interrupted?: boolean;
    }
  | { status: "timeout"; timeoutMs: number };

/** Where a run's `costUsd` came from. */
export type CostSource = "provider" | "priced" | "unknown";

/** A run's cost as decided at its end. */
export interface RunCostFigure {
  /** USD; `null` when it cannot be known (no price for the model). */
  usd: number | null;
  source: CostSource;
  /** Why the cost is unknown or approximate, in words a person can act on. */
  warning?: string;
}

/**
 * Fields run extensions add to `RunResult`. Extensions declare theirs by module augmentation
 * (`declare module "agent-session-manager" { interface RunResultExtensions { policy?: PolicyReport } }`),
 * so the result stays typed while the manager knows no feature.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface RunResultExtensions {}

/**
 * `executeRun` options that run extensions own. Extensions declare theirs by module augmentation,
 * as for `RunResultExtensions`, and validate them with `RunExtension.optionSchemas`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface RunExtensionOptions {}

/**
 * A feature that takes part in runs — policy, cost, workspace snapshots, continuity, telemetry,
 * run slots — plugged into the `SessionManager` (`new SessionManager({ extensions })`) instead of
 * into its run loop. A plain object of optional parts, in the spirit of the AI SDK's model
 * middleware, with the moments a run has:
 *
 * 1. `optionSchemas` — the `executeRun` options the extension owns, validated with the call's
 *    other options before anything is stored: a bad value is a `validation_error` and the run
 *    stays `pending`.
 *    `checkOptions` then checks them together (a policy stack, say), with the same effect.
 * 2. `start` — the run is `running`, nothing has been sent to the provider yet. Returns this run's
 *    hooks (or nothing to sit the run out). Throwing vetoes the run: it fails with that error
 *    (a `run_failed` event; the provider is never started) after the hooks already started get
 *    `finish` and `close`.
 * 3. `transformRequest` — adds to the provider request (tool rules, a resume point, a transcript…).
 * 4. `onEvent` — each stored event of the run, in sequence order (the terminal one comes after
 *    `finish`, which decides it).
 * 5. `finish` — before the terminal event: adds to the run's metadata and result, sets its cost,
 *    or fails a run that was completing.
 * 6. `close` — always, last, once the run is over (or abandoned): release timers and resources.
 *
 * Order: extensions run in the order given, for every hook; each `finish` sees what the earlier
 * ones contributed (the built-in cost extension comes first, so later ones see the run's cost).
 */
export interface RunExtension {
  /** The contract the extension was written against: `RUN_EXTENSION_SPECIFICATION`. */
  readonly specificationVersion: typeof RUN_EXTENSION_SPECIFICATION;
  /** Unique among a manager's extensions; names the extension in errors and warnings. */
  readonly name: string;
  /** `executeRun` option keys this extension owns, each with its schema. Default: none. */
  readonly optionSchemas?: Readonly<Record<string, z.ZodType>>;
  /**
   * Checks this extension's options together, after each passed its schema and before anything
   * is stored. Throw (a `validation_error`) to reject the call; the run stays `pending`.
   */
  checkOptions?(options: Readonly<Record<string, unknown>>): void;
  start?(context: RunExtensionContext): RunHooks | undefined | Promise<RunHooks | undefined>;
}

/** What an extension sees of a run that has started. */
export interface RunExtensionContext {
  /** The run, `running`. */
  readonly run: Run;
  readonly session: Session;
  /** The provider adapter executing the run (a router counts as one). */
  readonly provider: { readonly name: string };
  /** The `executeRun` options as validated; an extension reads the keys it declared. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly store: SessionStore;
  /** Appends an event to the run's log, in order with the provider's; resolves once stored. */
  append(event: AdapterEvent): Promise<AsmEvent>;
  /** Ends the run with this failure and stops the provider; the run's first outcome wins. */
  fail(error: AsmError): void;
  /** Aborted when the run is cancelled, times out or fails: stop any work done for the run. */
  readonly signal: AbortSignal;
}

/** One extension's part in one run. Every hook is optional. */
export interface RunHooks {
  /** Returns the provider request with this extension's additions; called in extension order. */
  transformRequest?(request: ExecuteRequest): ExecuteRequest | Promise<ExecuteRequest>;
  /**
   * Called with each stored event of the run, in sequence order, as it is stored. It must not
   * block; a throw is contained — reported once as an `error_occurred` event, and the hook is not
   * called again in this run — so the log and the other extensions are unaffected.
   */
  onEvent?(event: AsmEvent): void;
  /**
   * The run is decided and its provider has stopped. Contributions apply in extension order;
   * a throw fails the run with the error (its terminal event is still written).
   */
  finish?(end: RunEnd): RunContribution | undefined | Promise<RunContribution | undefined>;
  /** Always called once, last. Errors are reported as warnings, never thrown. */
  close?(): void | Promise<void>;
}

/** The end of a run as the extensions before this one left it. */
export interface RunEnd {
  readonly run: Run;
  readonly outcome: RunOutcome;
  /** Usage for the run: the provider's result, else the sum of its `token_usage_updated` events. */
  readonly tokenUsage: TokenUsage;
  readonly model: string | undefined;
  /** The cost the provider itself reported (on its result, or on its failure's details). */
  readonly reportedCostUsd: number | undefined;
  /** The run's cost as set by an earlier extension; absent when none set it. */
  readonly cost: RunCostFigure | undefined;
  /** Run metadata contributed so far (merged over the run's own). */
  readonly metadata: JsonObject;
  /**
   * The failure an earlier extension's `finish` decided (a policy limit found exceeded at the
   * end): the run will fail with it even though `outcome` may say `completed`.
   */
  readonly failure: AsmError | undefined;
  /** Every stored event of the run so far, in sequence order. */
  readonly events: readonly AsmEvent[];
}

/** What one extension adds to a run's end. */
export interface RunContribution {
  cost?: RunCostFigure;
  /** Merged into `run.metadata` (shallow). */
  metadata?: JsonObject;
  /** Merged into the `RunResult` of a completed run. */
  result?: Partial<RunResultExtensions>;
  /** Fails a run that was completing; ignored when the run already ended otherwise. */
  failure?: AsmError;
}
