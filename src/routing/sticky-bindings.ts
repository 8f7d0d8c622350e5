/** A live binding of a sticky key (by default a session id) to a provider. */
export interface StickyBinding {
  key: string;
  provider: string;
  /** When the binding lapses (clock ms). */
  expiresAt: number;
}

/**
 * Which provider each sticky key is bound to, for `ttlMs` after it was last (re)bound. Every bind
 * uses the configured TTL, including rebinds (the seed ignored its own TTL option on rebind).
 *
 * The map is kept in expiry order (a rebind deletes and re-inserts, and the TTL is the same for
 * every entry), so lapsed bindings are pruned from the front at the cost of the lapsed ones only.
 * Pure state: no timers, time only through `now`.
 */
export class StickyBindings {
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #bindings = new Map<string, { provider: string; expiresAt: number }>();

  /** `ttlMs` 0 turns stickiness off: nothing is ever bound. */
  constructor(ttlMs: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The provider `key` is bound to, if the binding is alive. */
  get(key: string): string | undefined {
    this.#prune();
    const binding = this.#bindings.get(key);
    return binding !== undefined && binding.expiresAt > this.#now() ? binding.provider : undefined;
  }

  /** Binds (or rebinds) `key` to `provider` for the next `ttlMs`. */
  bind(key: string, provider: string): void {
    if (this.#ttlMs <= 0) return;
    this.#bindings.delete(key);
    this.#bindings.set(key, { provider, expiresAt: this.#now() + this.#ttlMs });
    this.#prune();
  }

  /** Drops every binding to `provider` (it was unregistered). */
  unbindProvider(provider: string): void {
    for (const [key, binding] of this.#bindings) {
      if (binding.provider === provider) this.#bindings.delete(key);
    }
  }

  list(): StickyBinding[] {
    this.#prune();
    const now = this.#now();
    return [...this.#bindings]
      .filter(([, binding]) => binding.expiresAt > now)
      .map(([key, binding]) => ({ key, ...binding }));
  }

  /**
   * Memory hygiene only: stops at the first live binding, which is exact while the clock never
   * goes backwards; reads still check each binding's own expiry, so a clock step cannot revive one.
   */
  #prune(): void {
    const now = this.#now();
    for (const [key, binding] of this.#bindings) {
      if (binding.expiresAt > now) return;
      this.#bindings.delete(key);
    }
  }
}
