import { z } from "zod";
import { CAPABILITY_TYPES, type CapabilityRequirement } from "../core/capabilities.js";
import type { JsonObject } from "../core/session.js";
import { parseWith } from "../core/validation.js";
import { type CircuitBreakerOptions, resolveBreakerOptions } from "./circuit-breaker.js";
import type { HealthOptions } from "./health.js";
import { mulberry32, type RandomSource } from "./random.js";
import { ROUTING_STRATEGIES, type RoutingPolicy, type RoutingStrategy } from "./routing-policy.js";

/** What the router does when a provider fails after it has already streamed output. */
export type MidStreamFailover = "fail" | "continue";

/** Options of a `ProviderRouter`, fixed for every run it routes. */
export interface ProviderRouterOptions {
  /** The router's provider name, stored on runs and events. Default `"router"`. */
  name?: string;
  /**
   * How candidates are ordered. Default `"prefer"`.
   * - `"prefer"`: the `prefer` list, then the rest in registration order.
   * - `"weighted"`: the best score first, score = weight − 0.5 per recent failure (each failure's
   *   0.5 fades linearly to 0 over `failurePenaltyWindowMs`; a success clears them); equal scores
   *   keep the `prefer` order. Deterministic: the highest weight takes every run while it is healthy.
   * - `"weighted_random"`: load spreading; a provider comes first with probability weight / sum of
   *   weights (then the next among the rest, …). Failures do not change the odds (cooldowns and
   *   the breaker still drop a failing provider).
   */
  strategy?: RoutingStrategy;
  /** Provider ids to try first, in this order. Default `[]`. */
  prefer?: string[];
  /** Provider ids never routed to. Default `[]`. */
  exclude?: string[];
  /**
   * Weights of provider ids (non-negative) for `"weighted"` (the score before failure penalties) and
   * `"weighted_random"` (the odds). Unlisted providers weigh 1; weight 0 means "only as a last
   * resort". Default `{}`.
   */
  weights?: Record<string, number>;
  /**
   * Order candidates by fewest attempts in flight on this router first, the strategy's order
   * breaking ties (a sticky binding still wins). Default `false`.
   */
  leastBusy?: boolean;
  /** Most providers tried for one run, counting the first. Default `3`. */
  maxAttempts?: number;
  /** How long a provider is benched once it reaches `failuresBeforeCooldown`. Default `30_000` ms. */
  cooldownMs?: number;
  /**
   * Consecutive retryable failures that bench a provider for `cooldownMs`. Default `3`: one blip
   * must not bench a provider for 30 s (the seed's known defect); the circuit breaker handles
   * sustained failure, and a Retry-After benches at once whatever this says.
   */
  failuresBeforeCooldown?: number;
  /**
   * How long a retryable failure keeps lowering a provider's `"weighted"` score: its 0.5 penalty
   * fades linearly to 0 over this window. It applies even when cooldowns never bench the provider.
   * `0` turns the penalty off. Default `60_000` ms.
   */
  failurePenaltyWindowMs?: number;
  /**
   * A per-provider circuit breaker (closed → open → half-open → closed): `true` for the defaults
   * (`failureThreshold` 5, `cooldownMs` 30_000, `halfOpenMaxProbes` 1), an object to tune them, or
   * `false` for none. Default `true`.
   */
  circuitBreaker?: boolean | CircuitBreakerOptions;
  /**
   * How long a sticky key (by default the session id) stays bound to the provider that last
   * completed one of its runs, from that run's end; every success rebinds with this TTL. While bound,
   * that provider is tried first whatever the strategy says; if it cannot take a run (benched,
   * circuit open, excluded), the run goes elsewhere and the key follows the provider that completes
   * it. `0` turns stickiness off. Default `300_000` ms (5 minutes).
   */
  stickyTtlMs?: number;
  /**
   * When a provider fails (retryably) after it has streamed output: `"fail"` fails the run, its
   * partial output kept in the log; `"continue"` logs an explicit failover event and continues on
   * the next provider, giving it the partial output as context. Default `"fail"`.
   */
  midStreamFailover?: MidStreamFailover;
  /** Uniform numbers in [0, 1) for `"weighted_random"`. Default `Math.random` (or seeded by `seed`). */
  random?: RandomSource;
  /** Makes `"weighted_random"` reproducible: the same seed, the same order of choices. Ignored with `random`. */
  seed?: number;
  /** Milliseconds since the epoch, for cooldowns, the breaker and sticky TTLs. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Per-run routing: the router's own namespace of `executeRun({ providerOptions })`, under its name
 * (`providerOptions.router` by default). Each field replaces the router's own for that run. The
 * providers' namespaces are left for them: the router hands every candidate the request unchanged.
 */
export interface RunRoutingOptions {
  /** Only providers offering every one of these are candidates. Default none. */
  requiredCapabilities?: CapabilityRequirement[];
  prefer?: string[];
  exclude?: string[];
  weights?: Record<string, number>;
  strategy?: RoutingStrategy;
  maxAttempts?: number;
  /** The key the sticky binding is kept under. Default: the run's session id. */
  stickyKey?: string;
}

export const PROVIDER_ROUTER_DEFAULTS = Object.freeze({
  name: "router",
  strategy: "prefer",
  maxAttempts: 3,
  cooldownMs: 30_000,
  failuresBeforeCooldown: 3,
  failurePenaltyWindowMs: 60_000,
  stickyTtlMs: 300_000,
  midStreamFailover: "fail",
} as const);

/** Router options with every default applied. */
export interface ResolvedRouterOptions {
  name: string;
  policy: Omit<RoutingPolicy, "requiredCapabilities">;
  maxAttempts: number;
  health: HealthOptions;
  circuitBreaker: Readonly<Required<CircuitBreakerOptions>> | false;
  stickyTtlMs: number;
  midStreamFailover: MidStreamFailover;
  random: RandomSource;
  clock: () => number;
}

const ids = z.array(z.string().min(1));
const weights = z.record(z.string().min(1), z.number().nonnegative());
const strategy = z.enum(ROUTING_STRATEGIES);
const durationMs = z.number().int().nonnegative();
const maxAttempts = z.number().int().min(1);
const fn = <T>(what: string) =>
  z.custom<T>((value) => typeof value === "function", { message: `${what} must be a function` });

const routerOptionsSchema = z.strictObject({
  name: z.string().min(1).optional(),
  strategy: strategy.optional(),
  prefer: ids.optional(),
  exclude: ids.optional(),
  weights: weights.optional(),
  leastBusy: z.boolean().optional(),
  maxAttempts: maxAttempts.optional(),
  cooldownMs: durationMs.optional(),
  failuresBeforeCooldown: z.number().int().min(1).optional(),
  failurePenaltyWindowMs: durationMs.optional(),
  circuitBreaker: z
    .union([
      z.boolean(),
      z.strictObject({
        failureThreshold: z.number().int().min(1).optional(),
        cooldownMs: durationMs.optional(),
        halfOpenMaxProbes: z.number().int().min(1).optional(),
      }),
    ])
    .optional(),
  stickyTtlMs: durationMs.optional(),
  midStreamFailover: z.enum(["fail", "continue"]).optional(),
  random: fn<RandomSource>("random").optional(),
  seed: z.number().int().optional(),
  clock: fn<() => number>("clock").optional(),
});

const requirement = z.union([
  z.enum(CAPABILITY_TYPES),
  z.strictObject({ type: z.enum(CAPABILITY_TYPES), name: z.string().min(1).optional() }),
]);

const runRoutingSchema = z.strictObject({
  requiredCapabilities: z.array(requirement).optional(),
  prefer: ids.optional(),
  exclude: ids.optional(),
  weights: weights.optional(),
  strategy: strategy.optional(),
  maxAttempts: maxAttempts.optional(),
  stickyKey: z.string().min(1).optional(),
});

/** Validates router options and applies defaults. Throws `validation_error`. */
export function resolveRouterOptions(options: ProviderRouterOptions): ResolvedRouterOptions {
  const value = parseWith(routerOptionsSchema, options, "provider router options");
  const defaults = PROVIDER_ROUTER_DEFAULTS;
  const breaker = value.circuitBreaker ?? true;
  return {
    name: value.name ?? defaults.name,
    policy: {
      strategy: value.strategy ?? defaults.strategy,
      prefer: value.prefer ?? [],
      exclude: value.exclude ?? [],
      weights: value.weights ?? {},
      leastBusy: value.leastBusy ?? false,
    },
    maxAttempts: value.maxAttempts ?? defaults.maxAttempts,
    health: {
      cooldownMs: value.cooldownMs ?? defaults.cooldownMs,
      failuresBeforeCooldown: value.failuresBeforeCooldown ?? defaults.failuresBeforeCooldown,
      failurePenaltyWindowMs: value.failurePenaltyWindowMs ?? defaults.failurePenaltyWindowMs,
    },
    circuitBreaker: breaker === false ? false : resolveBreakerOptions(breaker === true ? {} : breaker),
    stickyTtlMs: value.stickyTtlMs ?? defaults.stickyTtlMs,
    midStreamFailover: value.midStreamFailover ?? defaults.midStreamFailover,
    random: value.random ?? (value.seed === undefined ? Math.random : mulberry32(value.seed)),
    clock: value.clock ?? Date.now,
  };
}

/**
 * Validates a run's routing, the router's namespace of `providerOptions` (named `name`, for the
 * message). Throws `validation_error`, for unknown keys too.
 */
export function parseRunRouting(options: JsonObject, name: string): RunRoutingOptions {
  return parseWith(runRoutingSchema, options, `routing options (providerOptions.${name})`);
}
