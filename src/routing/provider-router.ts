import type { Capability } from "../core/capabilities.js";
import { AsmError, type ErrorCode } from "../core/errors.js";
import type { RunInput } from "../core/run.js";
import { requireSpecification } from "../core/specification.js";
import type { EventSink, ExecuteRequest, ExecuteResult, ProviderAdapter } from "../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../ports/provider-adapter.js";
import { ActiveRuns } from "../providers/active-runs.js";
import { ownProviderOptions } from "../providers/shared/provider-request.js";
import { AttemptSink } from "./attempt-sink.js";
import { type BreakerPermit, type BreakerSnapshot, CircuitBreaker } from "./circuit-breaker.js";
import { continuationInput, type PartialOutput } from "./continuation.js";
import { type HealthSnapshot, ProviderHealth, retryAfterMs } from "./health.js";
import {
  type ProviderRouterOptions,
  parseRunRouting,
  type ResolvedRouterOptions,
  type RunRoutingOptions,
  resolveRouterOptions,
} from "./routing-options.js";
import {
  type DroppedCandidate,
  type ProviderFacts,
  planCandidates,
  type RoutingPolicy,
} from "./routing-policy.js";
import { type StickyBinding, StickyBindings } from "./sticky-bindings.js";

/** Where a routed run ended up: the result's `metadata.routing`. */
export interface RoutingRecord {
  /** The registered id of the provider that produced the result (or the last error). */
  routedProvider: string;
  /** 1 for the first provider tried, 2 after one failover, … */
  attempt: number;
  /** Every candidate, in the order they were to be tried. */
  candidates: string[];
  /** The provider the run last failed over from, and that failure's error code. */
  failoverFrom?: string;
  failoverReason?: ErrorCode;
  /**
   * True when the result continues a partial answer of an earlier provider (`midStreamFailover:
   * "continue"`); `output.content` then starts with that partial answer.
   */
  continuedPartialOutput?: boolean;
}

/** Why a failed routed run was not tried on another provider. */
export type FailoverSkipped = "non_retryable" | "mid_stream" | "max_attempts" | "no_candidate_left";

/** The routing of a failed run: an error's `details.routing`. */
export interface RoutingFailureRecord extends RoutingRecord {
  failoverSkipped: FailoverSkipped;
}

export interface ProviderStatus {
  /** The id it was registered under. */
  id: string;
  /** The adapter's own `name`. */
  provider: string;
  /** Attempts it is executing for this router now. */
  inFlight: number;
  health: HealthSnapshot;
  /** `null` when the router has no circuit breaker. */
  circuitBreaker: BreakerSnapshot | null;
}

/** A point-in-time view of a router. Times are milliseconds of the router's clock. */
export interface RouterStatus {
  name: string;
  /** In registration order. */
  providers: ProviderStatus[];
  /** Live sticky bindings, soonest to lapse first. */
  stickyBindings: StickyBinding[];
}

interface RegisteredProvider {
  readonly id: string;
  readonly adapter: ProviderAdapter;
  readonly health: ProviderHealth;
  readonly breaker: CircuitBreaker | undefined;
  inFlight: number;
}

type Admission =
  | { admitted: true; entry: RegisteredProvider; permit: BreakerPermit | undefined }
  | { admitted: false; reason: string };

type AttemptOutcome = { ok: true; result: ExecuteResult } | { ok: false; error: AsmError };

/** A retryable failure waiting to be handed over to the next provider. */
interface PendingFailover {
  provider: string;
  attempt: number;
  error: AsmError;
  /** Whether the failed attempt had put output in the log (so the next one continues from it). */
  midStream: boolean;
}

/**
 * A provider adapter that routes each run to one of the adapters registered with it, and fails
 * over to the next when a provider fails in a way worth retrying.
 *
 * Per-run options: the router reads its own namespace of `providerOptions` (under its `name`,
 * `router` by default: a `RunRoutingOptions`) and hands every candidate the request as it came,
 * so each adapter finds its own namespace and resume point in it.
 *
 * Per run: the candidates are the registered providers offering every required capability, not
 * excluded, not cooling down and admitted by their circuit breaker, ordered by the strategy (see
 * `planCandidates`), the session's sticky provider first. They are tried in order, at most
 * `maxAttempts` of them:
 * - success: the provider's health and breaker record it, the sticky key is (re)bound to it for
 *   `stickyTtlMs`, and the result carries `metadata.routing` (a `RoutingRecord`);
 * - a retryable failure (`AsmError.retryable`): health and breaker record it (a
 *   `details.retryAfterMs` benches the provider at least that long), an `error_occurred` event
 *   with `fatal: false` and `details.failover` says which provider takes over and why, and the
 *   next candidate runs;
 * - a cancel (the signal aborted, or a `cancelled` error) or any other error: rethrown at once,
 *   with no failover and no health verdict (it says nothing about the provider's availability).
 *
 * A provider that fails after it already streamed output (text or tool calls) is never silently
 * restarted elsewhere. With `midStreamFailover: "fail"` (the default) the run fails with that
 * error, the partial output staying in the log. With `"continue"` the next provider is given the
 * original conversation, the partial answer as an assistant turn and an instruction to continue
 * (see `continuationInput`), and the failover event carries the partial output. Runs whose input
 * is a `command` are never continued: re-running a command is a restart.
 *
 * Every event a provider emits reaches the caller's sink with `metadata.routing = { provider,
 * attempt }`. Errors leave with `details.routing` (a `RoutingFailureRecord`) when a provider was
 * tried. Health, breakers and sticky bindings live in this process only.
 */
export class ProviderRouter implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly name: string;
  readonly #options: ResolvedRouterOptions;
  readonly #providers = new Map<string, RegisteredProvider>();
  readonly #sticky: StickyBindings;
  readonly #active = new ActiveRuns();
  /** The provider executing each routed run's current attempt, for `cancel(runId)`. */
  readonly #executing = new Map<string, ProviderAdapter>();

  /** Throws `validation_error` for invalid options. */
  constructor(options: ProviderRouterOptions = {}) {
    this.#options = resolveRouterOptions(options);
    this.name = this.#options.name;
    this.#sticky = new StickyBindings(this.#options.stickyTtlMs, this.#options.clock);
  }

  /** Every capability of the registered providers, once each (by type, name and enabled). */
  get capabilities(): readonly Capability[] {
    const union = new Map<string, Capability>();
    for (const { adapter } of this.#providers.values()) {
      for (const capability of adapter.capabilities) {
        const key = JSON.stringify([capability.type, capability.name, capability.enabled !== false]);
        if (!union.has(key)) union.set(key, capability);
      }
    }
    return [...union.values()];
  }

  /**
   * Adds a provider under `id` (the name routing options and events use), with fresh health and
   * breaker. Throws `validation_error` for an empty id and `already_exists` for a taken one.
   */
  register(id: string, adapter: ProviderAdapter): void {
    if (id.length === 0) throw new AsmError("validation_error", "a provider id must not be empty");
    requireSpecification(
      `provider adapter "${id}"`,
      adapter.specificationVersion,
      PROVIDER_ADAPTER_SPECIFICATION,
    );
    if (this.#providers.has(id)) {
      throw new AsmError("already_exists", `a provider is already registered as "${id}"`, {
        details: { id },
        hint: "unregister it first to replace it",
      });
    }
    const { clock, health, circuitBreaker } = this.#options;
    this.#providers.set(id, {
      id,
      adapter,
      health: new ProviderHealth(health, clock),
      breaker: circuitBreaker === false ? undefined : new CircuitBreaker(circuitBreaker, clock),
      inFlight: 0,
    });
  }

  /**
   * Stops routing to `id` and drops the sticky bindings to it. Attempts it is executing go on (and
   * `cancel` still reaches them); later attempts of any run skip it. Returns whether it was
   * registered.
   */
  unregister(id: string): boolean {
    if (!this.#providers.delete(id)) return false;
    this.#sticky.unbindProvider(id);
    return true;
  }

  status(): RouterStatus {
    return {
      name: this.name,
      providers: [...this.#providers.values()].map((entry) => ({
        id: entry.id,
        provider: entry.adapter.name,
        inFlight: entry.inFlight,
        health: entry.health.snapshot(),
        circuitBreaker: entry.breaker?.snapshot() ?? null,
      })),
      stickyBindings: this.#sticky.list(),
    };
  }

  async execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
    const routing = parseRunRouting(ownProviderOptions(request, this.name), this.name);
    // Tracked before anything is awaited, so cancel(runId) works from the first moment.
    const tracked = this.#active.track(request.run.id, signal);
    try {
      return await this.#route(request, routing, sink, tracked.signal);
    } finally {
      tracked.release();
    }
  }

  /**
   * Cancels a run this router is executing: aborts the signal its current provider was given (so
   * no failover follows) and calls that provider's own `cancel`. Resolves false for a run this
   * router is not executing.
   */
  async cancel(runId: string): Promise<boolean> {
    const provider = this.#executing.get(runId);
    if (!this.#active.cancel(runId)) return false;
    if (provider) await provider.cancel(runId);
    return true;
  }

  async #route(
    request: ExecuteRequest,
    routing: RunRoutingOptions,
    sink: EventSink,
    signal: AbortSignal,
  ): Promise<ExecuteResult> {
    const runId = request.run.id;
    const stickyKey = routing.stickyKey ?? request.session.id;
    const maxAttempts = routing.maxAttempts ?? this.#options.maxAttempts;
    const plan = planCandidates(
      this.#facts(),
      this.#policyFor(routing),
      this.#options.random,
      this.#sticky.get(stickyKey),
    );
    const { candidates } = plan;
    const skipped: DroppedCandidate[] = [];
    const partial: { text: string; toolCalls: string[] } = { text: "", toolCalls: [] };
    let input: RunInput = request.run.input;
    /** Whether `input` continues a partial answer (set after the first mid-stream failover). */
    let continuing = false;
    let attempt = 0;
    let pending: PendingFailover | undefined;
    let record: RoutingRecord | undefined;

    for (const id of candidates) {
      if (attempt >= maxAttempts) break;
      throwIfCancelled(signal, runId);
      // Health may have changed since planning (other runs fail too), and the provider may be gone.
      const admission = this.#admit(id);
      if (!admission.admitted) {
        skipped.push({ provider: id, kind: "unavailable", reason: admission.reason });
        continue;
      }
      const { entry, permit } = admission;

      attempt += 1;
      if (pending) this.#announceFailover(sink, pending, id, partial);
      record = {
        routedProvider: id,
        attempt,
        candidates,
        ...(pending ? { failoverFrom: pending.provider, failoverReason: pending.error.code } : {}),
        ...(continuing ? { continuedPartialOutput: true } : {}),
      };
      const attemptSink = new AttemptSink(sink, { provider: id, attempt });
      const outcome = await this.#attempt(
        entry,
        permit,
        // Unchanged but for the input: each candidate finds its own options and resume point in it.
        { ...request, run: { ...request.run, input } },
        attemptSink,
        signal,
      );

      if (outcome.ok) {
        this.#sticky.bind(stickyKey, id);
        const { result } = outcome;
        return {
          ...result,
          provider: result.provider ?? id,
          ...(continuing
            ? { output: { ...result.output, content: partial.text + result.output.content } }
            : {}),
          metadata: { ...result.metadata, routing: record },
        };
      }

      const { error } = outcome;
      if (signal.aborted || error.code === "cancelled") throw cancelledError(error, runId);
      if (!error.retryable) throw withRouting(error, { ...record, failoverSkipped: "non_retryable" });
      if (attemptSink.streamedOutput) {
        if (this.#options.midStreamFailover === "fail" || request.run.input.command !== undefined) {
          throw withRouting(error, { ...record, failoverSkipped: "mid_stream" });
        }
        partial.text += attemptSink.partialText;
        partial.toolCalls.push(...attemptSink.toolCalls);
        input = continuationInput(request.run.input, partial);
        continuing = true;
      }
      pending = { provider: id, attempt, error, midStream: attemptSink.streamedOutput };
    }

    if (pending && record) {
      const failoverSkipped = attempt >= maxAttempts ? "max_attempts" : "no_candidate_left";
      throw withRouting(pending.error, { ...record, failoverSkipped });
    }
    throw noEligibleProvider(runId, [...plan.dropped, ...skipped]);
  }

  /** Runs one attempt and records its verdict on the provider's health and breaker. */
  async #attempt(
    entry: RegisteredProvider,
    permit: BreakerPermit | undefined,
    request: ExecuteRequest,
    sink: AttemptSink,
    signal: AbortSignal,
  ): Promise<AttemptOutcome> {
    const runId = request.run.id;
    entry.inFlight += 1;
    this.#executing.set(runId, entry.adapter);
    try {
      const result = await entry.adapter.execute(request, sink, signal);
      entry.health.recordSuccess();
      if (permit) entry.breaker?.recordSuccess(permit);
      return { ok: true, result };
    } catch (caught) {
      const error = AsmError.from(caught, "provider_error");
      // Only failures worth a failover say the provider is unwell; a cancel or a bad request does not.
      if (error.retryable && !signal.aborted) {
        entry.health.recordFailure(error.code, retryAfterMs(error));
        if (permit) entry.breaker?.recordFailure(permit);
      } else if (permit) {
        entry.breaker?.release(permit);
      }
      return { ok: false, error };
    } finally {
      entry.inFlight -= 1;
      this.#executing.delete(runId);
    }
  }

  /** Logs the hand-over from a failed provider to the next, before the next one starts. */
  #announceFailover(sink: EventSink, failed: PendingFailover, to: string, partial: PartialOutput): void {
    const { error } = failed;
    sink.emit({
      type: "error_occurred",
      data: {
        errorCode: error.code,
        errorMessage: error.message,
        ...(error.providerError ? { providerError: error.providerError } : {}),
        fatal: false,
        details: {
          failover: {
            from: failed.provider,
            to,
            reason: error.code,
            attempt: failed.attempt,
            ...(failed.midStream
              ? { resume: "partial_output", partialOutput: partial.text, toolCalls: [...partial.toolCalls] }
              : { resume: "from_start" }),
          },
        },
      },
      metadata: { routing: { provider: failed.provider, attempt: failed.attempt } },
    });
  }

  #policyFor(routing: RunRoutingOptions): RoutingPolicy {
    const base = this.#options.policy;
    return {
      strategy: routing.strategy ?? base.strategy,
      prefer: routing.prefer ?? base.prefer,
      exclude: routing.exclude ?? base.exclude,
      weights: routing.weights ?? base.weights,
      leastBusy: base.leastBusy,
      requiredCapabilities: routing.requiredCapabilities ?? [],
    };
  }

  #facts(): ProviderFacts[] {
    return [...this.#providers.values()].map((entry) => {
      const unavailable = this.#refusal(entry);
      return {
        id: entry.id,
        capabilities: entry.adapter.capabilities,
        inFlight: entry.inFlight,
        penalty: entry.health.penalty(),
        ...(unavailable === undefined ? {} : { unavailable }),
      };
    });
  }

  /** Why health or the breaker would refuse the provider now (taking no probe slot). */
  #refusal(entry: RegisteredProvider): string | undefined {
    return coolingReason(entry.health) ?? entry.breaker?.refusal();
  }

  /** Admits one attempt on provider `id`, taking a probe slot when its breaker is half-open. */
  #admit(id: string): Admission {
    const entry = this.#providers.get(id);
    if (entry === undefined)
      return { admitted: false, reason: "unregistered while the run was being routed" };
    const cooling = coolingReason(entry.health);
    if (cooling !== undefined) return { admitted: false, reason: cooling };
    if (entry.breaker === undefined) return { admitted: true, entry, permit: undefined };
    const admission = entry.breaker.admit();
    return admission.admitted ? { admitted: true, entry, permit: admission.permit } : admission;
  }
}

function coolingReason(health: ProviderHealth): string | undefined {
  const until = health.coolingUntil();
  return until === undefined ? undefined : `cooling down until ${new Date(until).toISOString()}`;
}

function throwIfCancelled(signal: AbortSignal, runId: string): void {
  if (signal.aborted) throw new AsmError("cancelled", `run ${runId} was cancelled`, { details: { runId } });
}

function cancelledError(error: AsmError, runId: string): AsmError {
  if (error.code === "cancelled") return error;
  return new AsmError("cancelled", `run ${runId} was cancelled`, { details: { runId }, cause: error });
}

function withRouting(error: AsmError, routing: RoutingFailureRecord): AsmError {
  return new AsmError(error.code, error.message, {
    details: { ...error.details, routing },
    providerError: error.providerError,
    hint: error.hint,
    cause: error,
  });
}

/**
 * `provider_unavailable` (retryable) when a provider was left out for a transient reason, so
 * waiting may help; `provider_not_found` when none can ever take this run as configured.
 */
function noEligibleProvider(runId: string, dropped: DroppedCandidate[]): AsmError {
  const transient = dropped.some((candidate) => candidate.kind === "unavailable");
  return new AsmError(
    transient ? "provider_unavailable" : "provider_not_found",
    dropped.length === 0 ? "no eligible provider: none is registered" : "no eligible provider for this run",
    {
      details: { runId, dropped },
      hint: transient
        ? "every matching provider is cooling down or its circuit is open; retry later"
        : "register a provider that offers the required capabilities and is not excluded",
    },
  );
}
