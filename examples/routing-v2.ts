// Routing, v2: weighted choice, failover, a circuit breaker and sticky sessions.
//
// - `strategy: "weighted_random"` orders the candidates by a weighted random draw (`weights`); a seeded
//   `random` makes the draw reproducible.
// - "primary" carries most of the weight but is down: each run fails over from it, and after
//   `failureThreshold` failures its circuit breaker opens, so later runs skip it until the
//   breaker's cooldown lets a probe through.
// - Stickiness: a run's sticky key (by default its session id; here `routing.stickyKey`) stays
//   bound to the provider that completed its last run, which is tried first next time.
//
//   npx tsx examples/routing-v2.ts                    # scripted Claude, Codex and Amp CLIs
//   npx tsx examples/routing-v2.ts --provider claude  # the real claude CLI behind the router
import { MemorySessionStore, ProviderRouter, SessionManager } from "agent-session-manager";
import { createAgents, runExample, unreachableAgent } from "./support.js";

runExample(async () => {
  const router = new ProviderRouter({
    strategy: "weighted_random",
    weights: { primary: 100, claude: 10, codex: 3, amp: 1 },
    seed: 17,
    circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 },
    stickyTtlMs: 10 * 60_000,
  });
  router.register("primary", unreachableAgent());
  for (const agent of createAgents({ answer: "Done." })) router.register(agent.provider, agent.adapter);

  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: router });
  // Two failovers open primary's breaker; carol is routed without trying it; alice and bob come
  // back to the providers that served them.
  for (const user of ["alice", "bob", "carol", "alice", "bob"]) {
    const result = await manager.runOnce(`A task for ${user}.`, {
      providerOptions: { router: { stickyKey: user } },
    });
    // The run's `metadata.routing` is the router's `RoutingRecord`.
    const { metadata } = await store.getRun(result.runId);
    console.log(`${user} -> ${JSON.stringify(metadata.routing)}`);
  }

  const { providers, stickyBindings } = router.status();
  for (const provider of providers) {
    const breaker = provider.circuitBreaker;
    console.log(
      `breaker ${provider.id}: ${breaker?.state} (${breaker?.consecutiveFailures} failures in a row)`,
    );
  }
  for (const binding of stickyBindings) console.log(`sticky ${binding.key} -> ${binding.provider}`);
});
