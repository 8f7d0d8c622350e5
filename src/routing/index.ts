// The provider router: a ProviderAdapter that routes each run to one of several providers, with
// failover, health, circuit breakers and sticky sessions. The pure parts (policy, breaker,
// health) stay internal; their snapshots are public through `ProviderRouter.status()`.
export type { BreakerSnapshot, BreakerState, CircuitBreakerOptions } from "./circuit-breaker.js";
export { CIRCUIT_BREAKER_DEFAULTS } from "./circuit-breaker.js";
export type { HealthSnapshot } from "./health.js";
export {
  type FailoverSkipped,
  ProviderRouter,
  type ProviderStatus,
  type RouterStatus,
  type RoutingFailureRecord,
  type RoutingRecord,
} from "./provider-router.js";
export type { RandomSource } from "./random.js";
export {
  type MidStreamFailover,
  PROVIDER_ROUTER_DEFAULTS,
  type ProviderRouterOptions,
  type RunRoutingOptions,
} from "./routing-options.js";
export type { DroppedCandidate, RoutingStrategy } from "./routing-policy.js";
export type { StickyBinding } from "./sticky-bindings.js";
