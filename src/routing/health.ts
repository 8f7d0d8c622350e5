import type { AsmError } from "../core/errors.js";

/** When a provider is benched after failures. */
export interface HealthOptions {
  /** How long a provider is benched once it reaches `failuresBeforeCooldown`. */
  cooldownMs: number;
  /** Consecutive retryable failures that bench a provider for `cooldownMs`. */
  failuresBeforeCooldown: number;
}

export interface HealthSnapshot {
  /** Retryable failures in a row; reset by a success. */
  consecutiveFailures: number;
  /** While benched: when the provider becomes eligible again (clock ms). */
  cooldownUntil?: number;
  lastFailure?: { code: string; at: number; retryAfterMs?: number };
}

/**
 * The short-term health of one provider: consecutive failures and a cooldown. Two things bench a
 * provider: reaching `failuresBeforeCooldown` failures in a row (for `cooldownMs`; after it ends,
 * each further failure benches it again until a success resets the count), and a failure that
 * says when to come back (Retry-After), which benches it for at least that long from the first
 * failure on. A success lifts the failure-count bench but not a Retry-After one: a request that
 * started before the provider asked for a pause proves nothing about the pause.
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

  constructor(options: HealthOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  recordSuccess(): void {
    this.#failures = 0;
    this.#benchedUntil = 0;
  }

  /** Records a retryable failure; `retryAfterMs` is how long the provider asked us to wait, if it said. */
  recordFailure(code: string, retryAfterMs?: number): void {
    const now = this.#now();
    this.#failures += 1;
    this.#lastFailure = { code, at: now, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
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

  snapshot(): HealthSnapshot {
    const until = this.coolingUntil();
    return {
      consecutiveFailures: this.#failures,
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
