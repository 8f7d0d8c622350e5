import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import type { AdapterEvent } from "../core/events.js";
import type { ExecuteRequest } from "../ports/provider-adapter.js";
import { CONTINUATION_NOTE } from "./continuation.js";
import { ProviderRouter, type RoutingRecord } from "./provider-router.js";
import { mulberry32 } from "./random.js";
import type { ProviderRouterOptions } from "./routing-options.js";
import {
  CollectingSink,
  fail,
  held,
  ManualClock,
  runRequest,
  ScriptedProvider,
  succeed,
} from "./test-support/scripted-provider.js";

function setup(providers: ScriptedProvider[], options: ProviderRouterOptions = {}) {
  const clock = new ManualClock();
  const router = new ProviderRouter({ clock: clock.now, ...options });
  for (const provider of providers) router.register(provider.name, provider);
  return { router, clock };
}

function execute(router: ProviderRouter, request: ExecuteRequest = runRequest(), signal?: AbortSignal) {
  const sink = new CollectingSink();
  const promise = router.execute(request, sink, signal ?? new AbortController().signal);
  return { sink, promise, request };
}

async function rejection(promise: Promise<unknown>, code: string): Promise<AsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AsmError);
  expect((error as AsmError).code).toBe(code);
  return error as AsmError;
}

function routedTo(events: readonly AdapterEvent[]) {
  return events.map((event) => [event.type, event.metadata?.routing]);
}

describe("ProviderRouter: choosing a provider", () => {
  it("routes to the preferred provider and says so on the result and every event", async () => {
    const claude = new ScriptedProvider("claude", succeed("from claude"));
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex], { prefer: ["codex"] });
    const { sink, promise } = execute(router);

    const result = await promise;
    expect(result.output.content).toBe("from codex");
    expect(result.metadata?.routing).toEqual({
      routedProvider: "codex",
      attempt: 1,
      candidates: ["codex", "claude"],
    });
    expect(routedTo(sink.events)).toEqual([
      ["run_started", { provider: "codex", attempt: 1 }],
      ["message_streamed", { provider: "codex", attempt: 1 }],
      ["message_received", { provider: "codex", attempt: 1 }],
    ]);
    expect(claude.calls).toHaveLength(0);
  });

  it("hands the chosen provider the request's options and resume points unchanged, every namespace", async () => {
    const claude = new ScriptedProvider("claude", succeed("ok"));
    const { router } = setup([claude]);
    const providerOptions = { router: { maxAttempts: 1 }, claude: { model: "opus" }, codex: { model: "o3" } };
    const resumePoints = {
      claude: { providerSessionId: "sess-1", runId: "run_a", totals: { costUsd: 0.1 } },
      codex: { providerSessionId: "thread-1", runId: "run_b" },
    };
    await execute(router, { ...runRequest({ providerOptions }), resumePoints }).promise;
    expect(claude.calls[0]?.providerOptions).toEqual(providerOptions);
    expect(claude.calls[0]?.resumePoints).toEqual(resumePoints);
  });

  it("a run may choose its strategy: weighted by score, or weighted_random", async () => {
    const claude = new ScriptedProvider("claude", succeed("claude"));
    const codex = new ScriptedProvider("codex", succeed("codex"));
    const { router } = setup([claude, codex], { prefer: ["claude"], seed: 7 });
    const weights = { claude: 1, codex: 5 };
    const scored = await execute(
      router,
      runRequest({ providerOptions: { router: { strategy: "weighted", weights } } }),
    ).promise;
    expect(scored.metadata?.routing).toMatchObject({
      routedProvider: "codex",
      candidates: ["codex", "claude"],
    });
    const drawn = await execute(
      router,
      runRequest({ providerOptions: { router: { strategy: "weighted_random", weights } } }),
    ).promise;
    expect(drawn.metadata?.routing).toMatchObject({
      candidates: expect.arrayContaining(["claude", "codex"]),
    });
  });

  it("per-run prefer and exclude replace the router's", async () => {
    const claude = new ScriptedProvider("claude", succeed("claude"));
    const codex = new ScriptedProvider("codex", succeed("codex"));
    const amp = new ScriptedProvider("amp", succeed("amp"));
    const { router } = setup([claude, codex, amp], { prefer: ["claude"], exclude: ["amp"] });

    const routing = { prefer: ["amp"], exclude: ["claude"] };
    const result = await execute(router, runRequest({ providerOptions: { router: routing } })).promise;
    expect(result.metadata?.routing).toMatchObject({ routedProvider: "amp", candidates: ["amp", "codex"] });
  });

  it("keeps only providers offering the required capabilities", async () => {
    const claude = new ScriptedProvider("claude", succeed("claude"), [{ name: "read", type: "tool" }]);
    const shell = new ScriptedProvider("shell", succeed("shell"), [{ name: "exec", type: "code_execution" }]);
    const { router } = setup([shell, claude]);
    const routing = { requiredCapabilities: [{ type: "tool", name: "read" }] };
    const result = await execute(router, runRequest({ providerOptions: { router: routing } })).promise;
    expect(result.metadata?.routing).toMatchObject({ routedProvider: "claude", candidates: ["claude"] });
  });

  it("fails with provider_not_found when no provider can ever take the run, listing why", async () => {
    const shell = new ScriptedProvider("shell", succeed("shell"));
    const { router } = setup([shell]);
    const routing = { requiredCapabilities: ["file_access"] };
    const error = await rejection(
      execute(router, runRequest({ providerOptions: { router: routing } })).promise,
      "provider_not_found",
    );
    expect(error.details.dropped).toEqual([
      { provider: "shell", kind: "missing_capabilities", reason: "lacks required capabilities: file_access" },
    ]);
    await rejection(execute(new ProviderRouter()).promise, "provider_not_found");
  });

  it("fails with retryable provider_unavailable when every candidate is only temporarily out", async () => {
    const claude = new ScriptedProvider(
      "claude",
      fail("provider_rate_limited", { details: { retryAfterMs: 60_000 } }),
    );
    const { router } = setup([claude]);
    await rejection(execute(router).promise, "provider_rate_limited");
    const error = await rejection(execute(router).promise, "provider_unavailable");
    expect(error.retryable).toBe(true);
    expect(error.details.dropped).toEqual([
      { provider: "claude", kind: "unavailable", reason: expect.stringContaining("cooling down until") },
    ]);
    expect(claude.calls).toHaveLength(1);
  });

  it("weighted routing selects the best provider by weight (the seed guide's router), every run", async () => {
    const read = [{ name: "read", type: "tool" as const }];
    const providers = ["claude", "codex", "amp"].map(
      (name) => new ScriptedProvider(name, succeed(name), read),
    );
    // Seed 001, "Weighted Routing + Policy Stacks", as TypeScript.
    const { router } = setup(providers, {
      strategy: "weighted",
      weights: { claude: 10, codex: 3, amp: 1 },
      maxAttempts: 3,
      circuitBreaker: { failureThreshold: 5, cooldownMs: 30_000 },
    });
    const routing = { requiredCapabilities: [{ type: "tool", name: "read" }] };
    for (let i = 0; i < 20; i += 1) {
      const result = await execute(router, runRequest({ providerOptions: { router: routing } })).promise;
      expect(result.metadata?.routing).toEqual({
        routedProvider: "claude",
        attempt: 1,
        candidates: ["claude", "codex", "amp"],
      });
    }
  });

  it("weighted: a failing provider is demoted by its score even with cooldowns and breaker off", async () => {
    const claude = new ScriptedProvider("claude", [fail("provider_unavailable"), succeed("from claude")]);
    const codex = new ScriptedProvider("codex", [fail("provider_unavailable"), succeed("from codex")]);
    const amp = new ScriptedProvider("amp", succeed("from amp"));
    // Cooldowns off: no run of failures benches a provider, and there is no breaker.
    const { router, clock } = setup([claude, codex, amp], {
      strategy: "weighted",
      weights: { claude: 2, codex: 2, amp: 1.8 },
      cooldownMs: 0,
      failuresBeforeCooldown: 1_000,
      circuitBreaker: false,
    });

    // claude fails (penalty 0.5 → score 1.5), codex takes over and fails too (1.5), amp (1.8) answers.
    const first = await execute(router).promise;
    expect(first.metadata?.routing).toMatchObject({ routedProvider: "amp", attempt: 3 });
    expect(router.status().providers.map((provider) => provider.health.penalty)).toEqual([0.5, 0.5, 0]);

    // Nothing is benched, but amp now ranks first; the tied failures keep registration order.
    const second = await execute(router).promise;
    expect(second.metadata?.routing).toEqual({
      routedProvider: "amp",
      attempt: 1,
      candidates: ["amp", "claude", "codex"],
    });

    // Half the 60 s window later each penalty is 0.25 (score 1.75 < 1.8); after the window, 0.
    clock.advance(30_000);
    expect((await execute(router).promise).metadata?.routing).toMatchObject({ routedProvider: "amp" });
    clock.advance(30_000);
    const recovered = await execute(router).promise;
    expect(recovered.metadata?.routing).toMatchObject({
      routedProvider: "claude",
      candidates: ["claude", "codex", "amp"],
    });
    expect(claude.calls).toHaveLength(2);
  });

  it("weighted_random spreads the load by the weights with a fixed seed (2000 runs)", async () => {
    const read = [{ name: "read", type: "tool" as const }];
    const providers = ["claude", "codex", "amp"].map(
      (name) => new ScriptedProvider(name, succeed(name), read),
    );
    const { router } = setup(providers, {
      strategy: "weighted_random",
      weights: { claude: 10, codex: 3, amp: 1 },
      maxAttempts: 3,
      circuitBreaker: { failureThreshold: 5, cooldownMs: 30_000 },
      random: mulberry32(1234),
    });
    const counts = new Map<string, number>();
    const runs = 2000;
    for (let i = 0; i < runs; i += 1) {
      const routing = { requiredCapabilities: [{ type: "tool", name: "read" }] };
      const result = await execute(router, runRequest({ providerOptions: { router: routing } })).promise;
      const provider = (result.metadata?.routing as RoutingRecord | undefined)?.routedProvider ?? "none";
      counts.set(provider, (counts.get(provider) ?? 0) + 1);
    }
    const share = (name: string) => (counts.get(name) ?? 0) / runs;
    // Expected 10/14, 3/14, 1/14; 0.03 is about three standard deviations at 2000 runs.
    expect(Math.abs(share("claude") - 10 / 14)).toBeLessThan(0.03);
    expect(Math.abs(share("codex") - 3 / 14)).toBeLessThan(0.03);
    expect(Math.abs(share("amp") - 1 / 14)).toBeLessThan(0.03);
  });

  it("unions the providers' capabilities, once each", () => {
    const read = { name: "read", type: "tool" as const };
    const { router } = setup([
      new ScriptedProvider("claude", succeed(""), [read, { name: "streaming", type: "sampling" }]),
      new ScriptedProvider("codex", succeed(""), [read, { ...read, enabled: false }]),
    ]);
    expect(router.capabilities).toEqual([
      read,
      { name: "streaming", type: "sampling" },
      { ...read, enabled: false },
    ]);
    expect(router.name).toBe("router");
  });
});

describe("ProviderRouter: failover", () => {
  it("fails over on a retryable error and logs the hand-over", async () => {
    const claude = new ScriptedProvider("claude", fail("provider_unavailable"));
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex]);
    const { sink, promise } = execute(router);

    const result = await promise;
    expect(result.output.content).toBe("from codex");
    expect(result.metadata?.routing).toEqual({
      routedProvider: "codex",
      attempt: 2,
      candidates: ["claude", "codex"],
      failoverFrom: "claude",
      failoverReason: "provider_unavailable",
    });
    expect(routedTo(sink.events)).toEqual([
      ["run_started", { provider: "claude", attempt: 1 }],
      ["error_occurred", { provider: "claude", attempt: 1 }],
      ["run_started", { provider: "codex", attempt: 2 }],
      ["message_streamed", { provider: "codex", attempt: 2 }],
      ["message_received", { provider: "codex", attempt: 2 }],
    ]);
    expect(sink.events[1]?.data).toEqual({
      errorCode: "provider_unavailable",
      errorMessage: "scripted provider_unavailable",
      fatal: false,
      details: {
        failover: {
          from: "claude",
          to: "codex",
          reason: "provider_unavailable",
          attempt: 1,
          resume: "from_start",
        },
      },
    });
    expect(codex.calls[0]?.run.input).toEqual({ prompt: "hello" });
  });

  it("does not fail over on a non-retryable error, nor count it against the provider", async () => {
    const claude = new ScriptedProvider("claude", fail("provider_authentication_failed"));
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex]);

    const error = await rejection(execute(router).promise, "provider_authentication_failed");
    expect(error.details.routing).toEqual({
      routedProvider: "claude",
      attempt: 1,
      candidates: ["claude", "codex"],
      failoverSkipped: "non_retryable",
    });
    expect(codex.calls).toHaveLength(0);
    expect(router.status().providers[0]?.health.consecutiveFailures).toBe(0);
  });

  it("does not fail over when the provider reports a cancel", async () => {
    const claude = new ScriptedProvider("claude", fail("cancelled"));
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex]);
    await rejection(execute(router).promise, "cancelled");
    expect(codex.calls).toHaveLength(0);
  });

  it("does not fail over when the caller aborts, even if the provider then fails retryably", async () => {
    const step = held();
    const claude = new ScriptedProvider("claude", step.step);
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex]);
    const caller = new AbortController();
    const { promise } = execute(router, runRequest(), caller.signal);
    await step.started;

    caller.abort();
    await rejection(promise, "cancelled");
    expect(codex.calls).toHaveLength(0);
    expect(router.status().providers[0]?.health.consecutiveFailures).toBe(0);
  });

  it("tries at most maxAttempts providers, per router or per run", async () => {
    const providers = ["a", "b", "c", "d"].map(
      (name) => new ScriptedProvider(name, fail("provider_timeout")),
    );
    const { router } = setup(providers, { maxAttempts: 2 });

    const error = await rejection(execute(router).promise, "provider_timeout");
    expect(error.details.routing).toMatchObject({
      routedProvider: "b",
      attempt: 2,
      failoverSkipped: "max_attempts",
    });
    expect(providers.map((provider) => provider.calls.length)).toEqual([1, 1, 0, 0]);

    const routing = { maxAttempts: 4, prefer: ["c", "d"] };
    const last = await rejection(
      execute(router, runRequest({ providerOptions: { router: routing } })).promise,
      "provider_timeout",
    );
    expect(last.details.routing).toMatchObject({ routedProvider: "b", attempt: 4, failoverFrom: "a" });
    expect(providers.map((provider) => provider.calls.length)).toEqual([2, 2, 1, 1]);
  });

  it("says when no candidate was left to fail over to", async () => {
    const claude = new ScriptedProvider("claude", fail("provider_timeout"));
    const { router } = setup([claude]);
    const error = await rejection(execute(router).promise, "provider_timeout");
    expect(error.details.routing).toMatchObject({
      failoverSkipped: "no_candidate_left",
      candidates: ["claude"],
    });
  });
});

describe("ProviderRouter: health", () => {
  it("benches a provider after failuresBeforeCooldown consecutive failures, for cooldownMs", async () => {
    const claude = new ScriptedProvider("claude", fail("provider_unavailable"));
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router, clock } = setup([claude, codex], { failuresBeforeCooldown: 2, cooldownMs: 30_000 });

    await execute(router).promise;
    expect((await execute(router).promise).metadata?.routing).toMatchObject({ failoverFrom: "claude" });
    expect(router.status().providers[0]?.health).toMatchObject({
      consecutiveFailures: 2,
      cooldownUntil: clock.now() + 30_000,
    });

    const benched = await execute(router).promise;
    expect(benched.metadata?.routing).toEqual({ routedProvider: "codex", attempt: 1, candidates: ["codex"] });
    expect(claude.calls).toHaveLength(2);

    clock.advance(30_000);
    expect((await execute(router).promise).metadata?.routing).toMatchObject({
      candidates: ["claude", "codex"],
    });
    expect(claude.calls).toHaveLength(3);
  });

  it("one failure does not bench a provider by default", async () => {
    const claude = new ScriptedProvider("claude", [fail("provider_unavailable"), succeed("from claude")]);
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex]);
    await execute(router).promise;
    expect((await execute(router).promise).output.content).toBe("from claude");
  });

  it("honours Retry-After: the provider sits out at least retryAfterMs, even past the cooldown", async () => {
    const claude = new ScriptedProvider("claude", [
      fail("provider_rate_limited", { details: { retryAfterMs: 45_000 } }),
      succeed("from claude"),
    ]);
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router, clock } = setup([claude, codex], { cooldownMs: 30_000 });

    expect((await execute(router).promise).output.content).toBe("from codex");
    expect(router.status().providers[0]?.health.cooldownUntil).toBe(clock.now() + 45_000);
    clock.advance(44_999);
    expect((await execute(router).promise).output.content).toBe("from codex");
    clock.advance(1);
    expect((await execute(router).promise).output.content).toBe("from claude");
  });
});

describe("ProviderRouter: circuit breaker", () => {
  // Health benches never: these tests watch the breaker alone.
  const breakerOnly = {
    failuresBeforeCooldown: 1_000,
    circuitBreaker: { failureThreshold: 2, cooldownMs: 10_000, halfOpenMaxProbes: 1 },
  };

  /** Claude fails twice (opening its breaker), then runs a held probe, then fails. */
  async function openClaude() {
    const probe = held();
    const claude = new ScriptedProvider("claude", [
      fail("provider_unavailable"),
      fail("provider_unavailable"),
      probe.step,
      fail("provider_unavailable"),
    ]);
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router, clock } = setup([claude, codex], breakerOnly);
    await execute(router).promise;
    await execute(router).promise;
    return { router, clock, claude, codex, probe };
  }

  it("opens after failureThreshold failures and keeps runs away until the cooldown ends", async () => {
    const { router, clock, claude } = await openClaude();
    expect(router.status().providers[0]?.circuitBreaker).toMatchObject({ state: "open" });
    const result = await execute(router).promise;
    expect(result.metadata?.routing).toMatchObject({ routedProvider: "codex", candidates: ["codex"] });
    clock.advance(9_999);
    await execute(router).promise;
    expect(claude.calls).toHaveLength(2);
  });

  it("half-open: one probe at a time, and a probe success closes the breaker", async () => {
    const { router, clock, claude, codex, probe } = await openClaude();
    clock.advance(10_000);
    expect(router.status().providers[0]?.circuitBreaker?.state).toBe("half_open");

    const first = execute(router);
    await probe.started;
    expect(router.status().providers[0]).toMatchObject({
      inFlight: 1,
      circuitBreaker: { probesInFlight: 1 },
    });
    // A second run while the probe is in flight does not probe: it goes to codex.
    const second = await execute(router).promise;
    expect(second.metadata?.routing).toMatchObject({ routedProvider: "codex", candidates: ["codex"] });
    expect(claude.calls).toHaveLength(3);
    expect(codex.calls).toHaveLength(3);

    probe.succeed("probe ok");
    expect((await first.promise).metadata?.routing).toMatchObject({ routedProvider: "claude", attempt: 1 });
    expect(router.status().providers[0]?.circuitBreaker).toEqual({
      state: "closed",
      consecutiveFailures: 0,
      probesInFlight: 0,
    });
  });

  it("half-open: a probe failure reopens the breaker, and the run fails over", async () => {
    const { router, clock, codex, probe } = await openClaude();
    clock.advance(10_000);
    const run = execute(router);
    await probe.started;
    probe.fail("provider_timeout");

    expect((await run.promise).metadata?.routing).toMatchObject({
      routedProvider: "codex",
      failoverFrom: "claude",
    });
    expect(router.status().providers[0]?.circuitBreaker).toMatchObject({
      state: "open",
      openedAt: clock.now(),
    });
    expect(codex.calls).toHaveLength(3);
  });

  it("can be turned off", async () => {
    const claude = new ScriptedProvider("claude", fail("provider_unavailable"));
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex], { circuitBreaker: false, failuresBeforeCooldown: 1_000 });
    for (let i = 0; i < 10; i += 1) await execute(router).promise;
    expect(claude.calls).toHaveLength(10);
    expect(router.status().providers[0]?.circuitBreaker).toBeNull();
  });
});

describe("ProviderRouter: stickiness", () => {
  it("keeps a session on the provider it was bound to, across runs", async () => {
    const claude = new ScriptedProvider("claude", [fail("provider_unavailable"), succeed("from claude")]);
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex], { prefer: ["claude", "codex"] });

    // Run 1 fails over to codex, which binds the session there…
    await execute(router, runRequest({ sessionId: "ses_sticky" })).promise;
    // …so run 2 stays on codex though claude is preferred and healthy again.
    const second = await execute(router, runRequest({ sessionId: "ses_sticky" })).promise;
    expect(second.metadata?.routing).toMatchObject({
      routedProvider: "codex",
      candidates: ["codex", "claude"],
    });
    // Another session is not bound.
    expect((await execute(router, runRequest({ sessionId: "ses_other" })).promise).output.content).toBe(
      "from claude",
    );
    expect(router.status().stickyBindings.map(({ key, provider }) => [key, provider])).toEqual([
      ["ses_sticky", "codex"],
      ["ses_other", "claude"],
    ]);
  });

  it("lets the binding lapse stickyTtlMs after the last run, each run refreshing it with that TTL", async () => {
    const claude = new ScriptedProvider("claude", [fail("provider_unavailable"), succeed("from claude")]);
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router, clock } = setup([claude, codex], { stickyTtlMs: 600_000 });
    const run = () => execute(router, runRequest({ sessionId: "ses_1" })).promise;

    expect((await run()).output.content).toBe("from codex");
    clock.advance(599_999);
    expect((await run()).output.content).toBe("from codex");
    // The rebind above restarted the configured TTL: still bound 599_999 ms later.
    clock.advance(599_999);
    expect((await run()).output.content).toBe("from codex");
    expect(router.status().stickyBindings).toEqual([
      { key: "ses_1", provider: "codex", expiresAt: clock.now() + 600_000 },
    ]);
    clock.advance(600_000);
    expect((await run()).output.content).toBe("from claude");
  });

  it("binds under routing.stickyKey when given", async () => {
    const claude = new ScriptedProvider("claude", succeed("from claude"));
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex]);
    const options = (prefer: string[]) => ({ router: { stickyKey: "user-7", prefer } });

    await execute(router, runRequest({ providerOptions: options(["codex"]) })).promise;
    const later = await execute(router, runRequest({ providerOptions: options(["claude"]) })).promise;
    expect(later.output.content).toBe("from codex");
  });

  it("drops a provider's bindings when it is unregistered", async () => {
    const claude = new ScriptedProvider("claude", succeed("from claude"));
    const { router } = setup([claude]);
    await execute(router).promise;
    expect(router.unregister("claude")).toBe(true);
    expect(router.unregister("claude")).toBe(false);
    expect(router.status()).toEqual({ name: "router", providers: [], stickyBindings: [] });
  });
});

describe("ProviderRouter: cancel", () => {
  it("reaches the provider running the run, with no failover after it", async () => {
    const step = held();
    const claude = new ScriptedProvider("claude", step.step);
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex]);
    const { promise, request } = execute(router);
    await step.started;

    expect(await router.cancel(request.run.id)).toBe(true);
    expect(claude.cancels).toEqual([request.run.id]);
    expect(step.signal()?.aborted).toBe(true);
    await rejection(promise, "cancelled");
    expect(codex.calls).toHaveLength(0);
    expect(await router.cancel(request.run.id)).toBe(false);
  });

  it("resolves false for a run it is not executing", async () => {
    const { router } = setup([new ScriptedProvider("claude", succeed(""))]);
    expect(await router.cancel("run_unknown")).toBe(false);
  });
});

describe("ProviderRouter: failure after output was streamed", () => {
  it("by default fails the run: the partial output stays logged and no other provider is tried", async () => {
    const claude = new ScriptedProvider(
      "claude",
      fail("provider_timeout", { afterStreaming: "The answer is" }),
    );
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex]);
    const { sink, promise } = execute(router);

    const error = await rejection(promise, "provider_timeout");
    expect(error.details.routing).toMatchObject({ routedProvider: "claude", failoverSkipped: "mid_stream" });
    expect(codex.calls).toHaveLength(0);
    expect(sink.events.map((event) => [event.type, event.data])).toEqual([
      ["run_started", {}],
      ["message_streamed", { delta: "The answer is" }],
    ]);
    // The failure still counts against the provider.
    expect(router.status().providers[0]?.health.consecutiveFailures).toBe(1);
  });

  it("counts tool activity as output", async () => {
    const claude = new ScriptedProvider("claude", fail("provider_timeout", { afterTool: "bash" }));
    const codex = new ScriptedProvider("codex", succeed("from codex"));
    const { router } = setup([claude, codex]);
    await rejection(execute(router).promise, "provider_timeout");
    expect(codex.calls).toHaveLength(0);
  });

  it('with "continue", hands the partial transcript to the next provider and logs the failover', async () => {
    const claude = new ScriptedProvider(
      "claude",
      fail("provider_timeout", { afterStreaming: "The answer is", afterTool: "read" }),
    );
    const codex = new ScriptedProvider("codex", succeed(" 42."));
    const { router } = setup([claude, codex], { midStreamFailover: "continue" });
    const input = { messages: [{ role: "system" as const, content: "Be brief." }], prompt: "What is it?" };
    const { sink, promise } = execute(router, runRequest({ input }));

    const result = await promise;
    expect(result.output.content).toBe("The answer is 42.");
    expect(result.metadata?.routing).toEqual({
      routedProvider: "codex",
      attempt: 2,
      candidates: ["claude", "codex"],
      failoverFrom: "claude",
      failoverReason: "provider_timeout",
      continuedPartialOutput: true,
    });

    const continued = codex.calls[0]?.run.input;
    expect(continued?.prompt).toBeUndefined();
    expect(continued?.messages?.slice(0, 3)).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is it?" },
      { role: "assistant", content: "The answer is" },
    ]);
    expect(continued?.messages?.[3]).toMatchObject({
      role: "user",
      content: expect.stringContaining(CONTINUATION_NOTE),
    });
    expect(continued?.messages?.[3]?.content).toContain("read");

    const failover = sink.events.find((event) => event.type === "error_occurred");
    expect(failover?.data).toEqual({
      errorCode: "provider_timeout",
      errorMessage: "scripted provider_timeout",
      fatal: false,
      details: {
        failover: {
          from: "claude",
          to: "codex",
          reason: "provider_timeout",
          attempt: 1,
          resume: "partial_output",
          partialOutput: "The answer is",
          toolCalls: ["read"],
        },
      },
    });
    expect(routedTo(sink.events).map(([type]) => type)).toEqual([
      "run_started",
      "message_streamed",
      "tool_call_started",
      "error_occurred",
      "run_started",
      "message_streamed",
      "message_received",
    ]);
  });

  it('with "continue", carries the partial output of every failed attempt forward', async () => {
    const claude = new ScriptedProvider("claude", fail("provider_timeout", { afterStreaming: "One, " }));
    const codex = new ScriptedProvider("codex", fail("provider_unavailable", { afterStreaming: "two, " }));
    const amp = new ScriptedProvider("amp", succeed("three."));
    const { router } = setup([claude, codex, amp], { midStreamFailover: "continue" });

    const result = await execute(router).promise;
    expect(result.output.content).toBe("One, two, three.");
    expect(codex.calls[0]?.run.input.messages?.[1]).toEqual({ role: "assistant", content: "One, " });
    expect(amp.calls[0]?.run.input.messages?.[1]).toEqual({ role: "assistant", content: "One, two, " });
    expect(result.metadata?.routing).toMatchObject({
      attempt: 3,
      failoverFrom: "codex",
      continuedPartialOutput: true,
    });
  });

  it('with "continue", still never re-runs a command elsewhere', async () => {
    const first = new ScriptedProvider("shell-a", fail("provider_timeout", { afterStreaming: "partial" }));
    const second = new ScriptedProvider("shell-b", succeed("done"));
    const { router } = setup([first, second], { midStreamFailover: "continue" });
    const request = runRequest({ input: { command: ["make", "deploy"] } });
    const error = await rejection(execute(router, request).promise, "provider_timeout");
    expect(error.details.routing).toMatchObject({ failoverSkipped: "mid_stream" });
    expect(second.calls).toHaveLength(0);
  });
});

describe("ProviderRouter: options", () => {
  it("rejects invalid router options with validation_error", () => {
    expect(() => new ProviderRouter({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => new ProviderRouter({ failurePenaltyWindowMs: -1 })).toThrow(/failurePenaltyWindowMs/);
    const bad = { weights: { claude: -1 } } as ProviderRouterOptions;
    expect(() => new ProviderRouter(bad)).toThrowError(expect.objectContaining({ code: "validation_error" }));
    const unknown = { stickyTTL: 5 } as unknown as ProviderRouterOptions;
    expect(() => new ProviderRouter(unknown)).toThrowError(
      expect.objectContaining({ code: "validation_error" }),
    );
  });

  it("rejects invalid per-run routing with validation_error before any provider runs", async () => {
    const claude = new ScriptedProvider("claude", succeed(""));
    const { router } = setup([claude]);
    const options = { router: { strategy: "fastest" } };
    const error = await rejection(
      execute(router, runRequest({ providerOptions: options })).promise,
      "validation_error",
    );
    expect(error.message).toContain("strategy");
    // A typo in the router's own namespace is refused too, never dropped.
    const typo = await rejection(
      execute(router, runRequest({ providerOptions: { router: { maxAttempt: 1 } } })).promise,
      "validation_error",
    );
    expect(typo.message).toContain("providerOptions.router");
    // A router named otherwise reads its routing under its own name, and leaves `router` to others.
    const named = new ProviderRouter({ name: "front" });
    named.register("claude", claude);
    await rejection(
      execute(named, runRequest({ providerOptions: { front: { strategy: "fastest" } } })).promise,
      "validation_error",
    );
    expect(claude.calls).toHaveLength(0);
    const ok = await execute(named, runRequest({ providerOptions: { router: { strategy: "fastest" } } }))
      .promise;
    expect(ok.output.content).toBe("");
    expect(claude.calls).toHaveLength(1);
  });

  it("refuses a second provider under the same id", () => {
    const { router } = setup([new ScriptedProvider("claude", succeed(""))]);
    expect(() => router.register("claude", new ScriptedProvider("claude", succeed("")))).toThrowError(
      expect.objectContaining({ code: "already_exists" }),
    );
  });
});
