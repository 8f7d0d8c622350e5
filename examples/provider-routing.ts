// Provider routing. A `ProviderRouter` is itself a provider adapter, so the SessionManager runs
// it like any other; for each run it picks one of the providers registered with it:
//
// - by capability: only providers offering every required capability are candidates;
// - by preference, failing over to the next candidate when one fails retryably (here the
//   preferred provider is down: its CLI is not installed).
//
// Where a run went is stored in the run's `metadata.routing`, and every event says which
// provider (and which attempt) emitted it.
//
//   npx tsx examples/provider-routing.ts                    # scripted Claude, Codex and Amp CLIs
//   npx tsx examples/provider-routing.ts --provider codex   # the real codex CLI behind the router
import { MemorySessionStore, ProviderRouter, SessionManager } from "agent-session-manager";
import { ShellAdapter } from "agent-session-manager/shell";
import { createAgents, runExample, unreachableAgent } from "./support.js";

runExample(async () => {
  const router = new ProviderRouter({ prefer: ["primary", "shell"] });
  router.register("primary", unreachableAgent());
  // A shell provider runs commands, but it is no agent: it lacks the `tool_use` capability.
  router.register("shell", new ShellAdapter());
  for (const agent of createAgents({ answer: "Hello from behind the router." })) {
    router.register(agent.provider, agent.adapter);
  }

  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: router });
  const result = await manager.runOnce("Say hello in a few words.", {
    // Per-run routing is the router's own namespace of `providerOptions`; the providers read theirs.
    providerOptions: { router: { requiredCapabilities: [{ type: "tool", name: "tool_use" }] } },
  });

  const run = await store.getRun(result.runId);
  console.log(`answer: ${result.output.content}`);
  console.log(`routed to ${run.provider}`);
  console.log(`routing: ${JSON.stringify(run.metadata.routing)}`);
  console.log("events (provider, attempt):");
  for (const event of result.events) {
    const routing = event.metadata.routing;
    console.log(`  ${event.type}${routing ? ` ${JSON.stringify(routing)}` : ""}`);
  }
});
