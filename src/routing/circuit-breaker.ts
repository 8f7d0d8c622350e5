export type BreakerState = "closed" | "open" | "half_open";

/** Settings of a per-provider circuit breaker. */
export interface CircuitBreakerOptions {
  /** Consecutive failures, while closed, that open the breaker. Default `5`. */
  failureThreshold?: number;
  /** How long the breaker stays open before it turns half-open and admits probes. Default `30_000` ms. */
  cooldownMs?: number;
  /** How many probe attempts may be in flight at once while half-open. Default `1`. */
  halfOpenMaxProbes?: number;
}

export const CIRCUIT_BREAKER_DEFAULTS: Readonly<Required<CircuitBreakerOptions>> = Object.freeze({
  failureThreshold: 5,
  cooldownMs: 30_000,
  halfOpenMaxProbes: 1,
});

/** Applies the defaults to each setting left out (or given as `undefined`). */
export function resolveBreakerOptions(
  options: CircuitBreakerOptions,
): Readonly<Required<CircuitBreakerOptions>> {
  return Object.freeze({
    failureThreshold: options.failureThreshold ?? CIRCUIT_BREAKER_DEFAULTS.failureThreshold,
    cooldownMs: options.cooldownMs ?? CIRCUIT_BREAKER_DEFAULTS.cooldownMs,
    halfOpenMaxProbes: options.halfOpenMaxProbes ?? CIRCUIT_BREAKER_DEFAULTS.halfOpenMaxProbes,
  });
}

/** Permission for one attempt. Hand it back exactly once: `recordSuccess`, `recordFailure` or `release`. */
export interface BreakerPermit {
  /** The state period the attempt was admitted in (see `CircuitBreaker`). */
  readonly period: number;
  /** True when the attempt is a half-open probe, holding one of the probe slots. */
  readonly probe: boolean;
}

export type BreakerAdmission =
  | { admitted: true; permit: BreakerPermit }
  | { admitted: false; reason: string };

export interface BreakerSnapshot {
  state: BreakerState;
  /** Failures in a row while closed; reset by a success and on closing. */
  consecutiveFailures: number;
  /** When the breaker last opened (clock ms); present while open or half-open. */
  openedAt?: number;
  /** When an open breaker turns half-open (clock ms); present while open. */
  halfOpenAt?: number;
  /** Probes in flight in the current half-open period. */
  probesInFlight: number;
}

/**
 * A circuit breaker: closed → open after `failureThreshold` consecutive failures; open → half-open
 * once `cooldownMs` has passed (evaluated lazily against the injected clock, so there are no
 * timers); half-open admits at most `halfOpenMaxProbes` concurrent probes, and the first probe
 * outcome decides: success → closed, failure → open again for another `cooldownMs`.
 *
 * Outcomes count only in the state period their attempt was admitted in (each transition starts a
 * new period). A run admitted while closed that fails after the breaker has opened does not extend
 * the open period, and its late success does not close the breaker without a probe; a probe left
 * over from an earlier half-open period neither holds a slot nor decides the current one.
 *
 * Pure state: no I/O, time only through `now`.
 */
export class CircuitBreaker {
  readonly #options: Readonly<Required<CircuitBreakerOptions>>;
  readonly #now: () => number;
  #state: BreakerState = "closed";
  #period = 0;
  #failures = 0;
  #openedAt = 0;
  #probes = 0;

  constructor(options: CircuitBreakerOptions, now: () => number) {
    this.#options = resolveBreakerOptions(options);
    this.#now = now;
  }

  get state(): BreakerState {
    this.#advance();
    return this.#state;
  }

  /** Why an attempt would be refused now; undefined when one would be admitted. Takes no slot. */
  refusal(): string | undefined {
    this.#advance();
    if (this.#state === "open") {
      return `circuit open until ${new Date(this.#openedAt + this.#options.cooldownMs).toISOString()}`;
    }
    if (this.#state === "half_open" && this.#probes >= this.#options.halfOpenMaxProbes) {
      return `circuit half-open with ${this.#probes} probe(s) already in flight`;
    }
    return undefined;
  }

  /** Admits one attempt (taking a probe slot when half-open), or says why not. */
  admit(): BreakerAdmission {
    const reason = this.refusal();
    if (reason !== undefined) return { admitted: false, reason };
    const probe = this.#state === "half_open";
    if (probe) this.#probes += 1;
    return { admitted: true, permit: { period: this.#period, probe } };
  }

  recordSuccess(permit: BreakerPermit): void {
    if (!this.#settle(permit)) return;
    if (this.#state === "half_open") this.#enter("closed");
    else this.#failures = 0;
  }

  recordFailure(permit: BreakerPermit): void {
    if (!this.#settle(permit)) return;
    if (this.#state === "half_open") {
      this.#enter("open");
      return;
    }
    this.#failures += 1;
    if (this.#failures >= this.#options.failureThreshold) this.#enter("open");
  }

  /** Hands a permit back without a verdict: the attempt said nothing about the provider's health. */
  release(permit: BreakerPermit): void {
    this.#settle(permit);
  }

  snapshot(): BreakerSnapshot {
    this.#advance();
    const opened = this.#state !== "closed";
    return {
      state: this.#state,
      consecutiveFailures: this.#failures,
      ...(opened ? { openedAt: this.#openedAt } : {}),
      ...(this.#state === "open" ? { halfOpenAt: this.#openedAt + this.#options.cooldownMs } : {}),
      probesInFlight: this.#probes,
    };
  }

  /** Frees the permit's probe slot; returns whether its outcome still counts (same period). */
  #settle(permit: BreakerPermit): boolean {
    if (permit.period !== this.#period) return false;
    if (permit.probe) this.#probes -= 1;
    return true;
  }

  #advance(): void {
    if (this.#state === "open" && this.#now() >= this.#openedAt + this.#options.cooldownMs) {
      this.#enter("half_open");
    }
  }

  #enter(state: BreakerState): void {
    this.#state = state;
    this.#period += 1;
    this.#probes = 0;
    if (state === "closed") this.#failures = 0;
    if (state === "open") this.#openedAt = this.#now();
  }
}
