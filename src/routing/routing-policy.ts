import {
  type Capability,
  type CapabilityRequirement,
  describeRequirement,
  meetsRequirement,
} from "../core/capabilities.js";
import type { RandomSource } from "./random.js";

/**
 * How candidates are ordered:
 * - `prefer`: the `prefer` ids in their order, then the rest in registration order.
 * - `weighted`: best score first, score = weight − penalty for recent failures (the seed's
 *   "the router selects the best provider by weight").
 * - `weighted_random`: load spreading, a weighted random order (a provider comes first with
 *   probability weight / sum of weights).
 */
export type RoutingStrategy = "prefer" | "weighted" | "weighted_random";

export const ROUTING_STRATEGIES = [
  "prefer",
  "weighted",
  "weighted_random",
] as const satisfies readonly RoutingStrategy[];

/** How one run chooses among the registered providers. */
export interface RoutingPolicy {
  strategy: RoutingStrategy;
  prefer: readonly string[];
  exclude: readonly string[];
  /** Weight per provider id for `weighted` and `weighted_random`; ids not listed weigh 1. */
  weights: Readonly<Record<string, number>>;
  leastBusy: boolean;
  requiredCapabilities: readonly CapabilityRequirement[];
}

/** What the policy needs to know about one registered provider. */
export interface ProviderFacts {
  id: string;
  capabilities: readonly Capability[];
  /** Attempts this provider is executing now. */
  inFlight: number;
  /** Why health or the circuit breaker refuse it now; undefined when they admit it. */
  unavailable?: string;
  /** What its recent failures take off its `weighted` score (`ProviderHealth.penalty`). Default 0. */
  penalty?: number;
}

export interface DroppedCandidate {
  provider: string;
  /**
   * `unavailable` is transient (cooling down, circuit open, probe slots taken): waiting may help.
   * The other two hold for as long as the configuration and the run's requirements do.
   */
  kind: "excluded" | "missing_capabilities" | "unavailable";
  reason: string;
}

export interface CandidatePlan {
  /** Providers to try, in order. */
  candidates: string[];
  /** Every provider left out, with why: readers of a "no eligible provider" error need it. */
  dropped: DroppedCandidate[];
}

/** Weight of providers `weights` does not list (the seed's default). */
export const DEFAULT_WEIGHT = 1;

/**
 * Chooses and orders the candidates for one run. Pure: randomness comes only from `random`.
 *
 * 1. Drop providers that are excluded, lack a required capability, or are refused by health or
 *    the circuit breaker.
 * 2. Order by strategy:
 *    - `prefer`: the `prefer` ids in their order, then the rest in registration order.
 *    - `weighted`: by score, highest first: score = weight (unlisted: 1) − `penalty`; equal scores
 *      keep the `prefer` order (unlisted ids after the listed ones, in registration order).
 *    - `weighted_random`: a weighted random sample without replacement (the first pick is provider
 *      *i* with probability wᵢ / Σw, the next among the rest, and so on); weight-0 providers are
 *      never sampled and go last, as a fallback in `prefer` order. Failures do not change the odds.
 * 3. `leastBusy`: a stable sort by in-flight attempts, fewest first, applied as the primary key,
 *    so the strategy's order only breaks ties (a tiebreak alone would be inert: neither strategy
 *    produces ties).
 * 4. The `sticky` provider, when it is still a candidate, moves to the front: a session bound to a
 *    provider stays there whatever the strategy or load says.
 */
export function planCandidates(
  providers: readonly ProviderFacts[],
  policy: RoutingPolicy,
  random: RandomSource,
  sticky?: string,
): CandidatePlan {
  const dropped: DroppedCandidate[] = [];
  const eligible: ProviderFacts[] = [];
  for (const provider of providers) {
    const drop = dropReason(provider, policy);
    if (drop === undefined) eligible.push(provider);
    else dropped.push({ provider: provider.id, ...drop });
  }

  const ids = eligible.map((provider) => provider.id);
  let ordered: string[];
  switch (policy.strategy) {
    case "weighted":
      ordered = scoredOrder(eligible, policy.weights, policy.prefer);
      break;
    case "weighted_random":
      ordered = weightedRandomOrder(ids, policy.weights, policy.prefer, random);
      break;
    case "prefer":
      ordered = preferOrder(ids, policy.prefer);
  }
  if (policy.leastBusy) {
    const load = new Map(eligible.map((provider) => [provider.id, provider.inFlight]));
    ordered = ordered.toSorted((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0));
  }
  if (sticky !== undefined && ordered.includes(sticky)) {
    ordered = [sticky, ...ordered.filter((id) => id !== sticky)];
  }
  return { candidates: ordered, dropped };
}

function dropReason(
  provider: ProviderFacts,
  policy: RoutingPolicy,
): Omit<DroppedCandidate, "provider"> | undefined {
  if (policy.exclude.includes(provider.id)) return { kind: "excluded", reason: "excluded" };
  const missing = policy.requiredCapabilities.filter(
    (requirement) => !meetsRequirement(provider.capabilities, requirement),
  );
  if (missing.length > 0) {
    return {
      kind: "missing_capabilities",
      reason: `lacks required capabilities: ${missing.map(describeRequirement).join(", ")}`,
    };
  }
  return provider.unavailable === undefined
    ? undefined
    : { kind: "unavailable", reason: provider.unavailable };
}

/** `prefer` ids in their order (those present), then the rest in their given order. */
export function preferOrder(ids: readonly string[], prefer: readonly string[]): string[] {
  const present = new Set(ids);
  const preferred = [...new Set(prefer)].filter((id) => present.has(id));
  const listed = new Set(preferred);
  return [...preferred, ...ids.filter((id) => !listed.has(id))];
}

/**
 * Highest score first, score = weight − penalty; `toSorted` is stable, so equal scores keep the
 * `prefer` order.
 */
export function scoredOrder(
  providers: readonly ProviderFacts[],
  weights: Readonly<Record<string, number>>,
  prefer: readonly string[],
): string[] {
  const score = new Map(
    providers.map((provider) => [
      provider.id,
      (weights[provider.id] ?? DEFAULT_WEIGHT) - (provider.penalty ?? 0),
    ]),
  );
  const byPrefer = preferOrder(
    providers.map((provider) => provider.id),
    prefer,
  );
  return byPrefer.toSorted((a, b) => (score.get(b) ?? 0) - (score.get(a) ?? 0));
}

/** A weighted random sample without replacement of the positive-weight ids, then the weight-0 ones. */
export function weightedRandomOrder(
  ids: readonly string[],
  weights: Readonly<Record<string, number>>,
  prefer: readonly string[],
  random: RandomSource,
): string[] {
  const weightOf = (id: string): number => weights[id] ?? DEFAULT_WEIGHT;
  const pool = ids.filter((id) => weightOf(id) > 0);
  const order: string[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, id) => sum + weightOf(id), 0);
    let point = random() * total;
    // Falls back to the last id when rounding leaves `point` a hair above the last boundary.
    let index = pool.length - 1;
    for (const [i, id] of pool.entries()) {
      point -= weightOf(id);
      if (point < 0) {
        index = i;
        break;
      }
    }
    order.push(...pool.splice(index, 1));
  }
  return [...order, ...preferOrder(ids, prefer).filter((id) => weightOf(id) <= 0)];
}
