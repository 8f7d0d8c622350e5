import type { AsmError } from "../core/errors.js";

/** When a provider is benched after failures. */
export interface HealthOptions {
  /** How long a provider is benched once it reaches `failuresBeforeCooldown`. */
  cooldownMs: number;
  /** Consecutive retryable failures that bench a provider for `cooldownMs`. */
  failuresBeforeCooldown: number;
  /** How long a failure keeps counting against a provider's `weighted` score; 0: never. */
  failurePenaltyWindowMs: number;
}

/** What one fresh failure takes off a provider's `weighted` score (the seed's 0.5), in weight units. */
export const FAILURE_PENALTY = 0.5;

/**
 * Failures remembered for the score penalty. Beyond this the penalty (64 × 0.5 = 32) already
 * outweighs any sensible weight, so older ones need not be kept.
 */
const MAX_PENALIZED_FAILURES = 64;

export interface HealthSnapshot {
  /** Retryable failures in a row; reset by a success. */
  consecutiveFailures: number;
  /** While benched: when the provider becomes eligible again (clock ms). */
  cooldownUntil?: number;
  lastFailure?: { code: string; at: number; retryAfterMs?: number };
  /** What recent failures take off the provider's `weighted` score now (see `ProviderHealth.penalty`). */
  penalty: number;
}

/**
 * The short-term health of one provider: consecutive failures and a cooldown. Two things bench a
 * provider: reaching `failuresBeforeCooldown` failures in a row (for `cooldownMs`; after it ends,
 * each further failure benches it again until a success resets the count), and a failure that
 * says when to come back (Retry-After), which benches it for at least that long from the first
 * failure on. A success lifts the failure-count bench but not a Retry-After one: a request that
 * started before the provider asked for a pause proves nothing about the pause. Recent failures
 * also lower the provider's `weighted` score (`penalty`), benched or not.
 *
 * Pure state: no I/O, time only through `now`.
 */
export class ProviderHealth {
  readonly #options: HealthOptions;
  readonly #now: () => number;
  #failures = 0;
  #benchedUntil = 0;
  #retryAfterUntil = 0;
  #lastFailure: HealthSnapshot["lastFailure"];
  /** When the failures since the last success happened (clock ms), oldest first. */
  #failureTimes: number[] = [];

  constructor(options: HealthOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  recordSuccess(): void {
    this.#failures = 0;
    this.#benchedUntil = 0;
    this.#failureTimes = [];
  }

  /** Records a retryable failure; `retryAfterMs` is how long the provider asked us to wait, if it said. */
  recordFailure(code: string, retryAfterMs?: number): void {
    const now = this.#now();
    this.#failures += 1;
    this.#lastFailure = { code, at: now, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    this.#failureTimes.push(now);
    if (this.#failureTimes.length > MAX_PENALIZED_FAILURES) this.#failureTimes.shift();
    if (this.#failures >= this.#options.failuresBeforeCooldown) {
      this.#benchedUntil = Math.max(this.#benchedUntil, now + this.#options.cooldownMs);
    }
    if (retryAfterMs !== undefined) {
      this.#retryAfterUntil = Math.max(this.#retryAfterUntil, now + retryAfterMs);
    }
  }

  /** When the current cooldown ends; undefined when the provider is not cooling down. */
  coolingUntil(): number | undefined {
    const until = Math.max(this.#benchedUntil, this.#retryAfterUntil);
    return until > this.#now() ? until : undefined;
  }

  /**
   * What recent failures take off the provider's `weighted` score: each failure since the last
   * success counts `FAILURE_PENALTY` (0.5) when fresh, fading linearly to 0 over
   * `failurePenaltyWindowMs`. A success clears it (as the seed's success resets its failure count).
   * It applies whether or not the provider is benched, so a failing provider sinks in the order
   * even with cooldowns off.
   */
  penalty(): number {
    const window = this.#options.failurePenaltyWindowMs;
    if (window <= 0) return 0;
    const now = this.#now();
    let penalty = 0;
    for (const at of this.#failureTimes) {
      penalty += FAILURE_PENALTY * Math.max(0, 1 - (now - at) / window);
    }
    return penalty;
  }

  snapshot(): HealthSnapshot {
    const until = this.coolingUntil();
    return {
      consecutiveFailures: this.#failures,
      penalty: this.penalty(),
      ...(until !== undefined ? { cooldownUntil: until } : {}),
      ...(this.#lastFailure ? { lastFailure: { ...this.#lastFailure } } : {}),
    };
  }
}

/**
 * How long a provider asked to be left alone, from `error.details.retryAfterMs` (adapters put a
 * parsed Retry-After header or rate-limit reset there). Undefined when absent or not a
 * non-negative finite number.
 */
export function retryAfterMs(error: AsmError): number | undefined {
  const value = error.details.retryAfterMs;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}
