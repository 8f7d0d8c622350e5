import { describe, expect, it } from "vitest";
import type { Capability } from "../core/capabilities.js";
import { mulberry32, type RandomSource } from "./random.js";
import { type ProviderFacts, planCandidates, type RoutingPolicy } from "./routing-policy.js";

const policy = (overrides: Partial<RoutingPolicy> = {}): RoutingPolicy => ({
  strategy: "prefer",
  prefer: [],
  exclude: [],
  weights: {},
  leastBusy: false,
  requiredCapabilities: [],
  ...overrides,
});

const facts = (id: string, overrides: Partial<ProviderFacts> = {}): ProviderFacts => ({
  id,
  capabilities: [],
  inFlight: 0,
  ...overrides,
});

const noRandom: RandomSource = () => {
  throw new Error("the prefer strategy must not draw random numbers");
};

describe("planCandidates", () => {
  const three = [facts("claude"), facts("codex"), facts("amp")];

  it("prefer: the listed ids in order, then the rest in registration order", () => {
    expect(planCandidates(three, policy(), noRandom).candidates).toEqual(["claude", "codex", "amp"]);
    expect(planCandidates(three, policy({ prefer: ["amp"] }), noRandom).candidates).toEqual([
      "amp",
      "claude",
      "codex",
    ]);
    // Unknown and repeated ids in `prefer` are ignored.
    expect(planCandidates(three, policy({ prefer: ["x", "codex", "codex"] }), noRandom).candidates).toEqual([
      "codex",
      "claude",
      "amp",
    ]);
  });

  it("exclude drops a provider whatever else says it should come first", () => {
    const plan = planCandidates(three, policy({ prefer: ["codex"], exclude: ["codex"] }), noRandom, "codex");
    expect(plan.candidates).toEqual(["claude", "amp"]);
    expect(plan.dropped).toEqual([{ provider: "codex", kind: "excluded", reason: "excluded" }]);
  });

  it("keeps only providers meeting every required capability, by type or by type and name", () => {
    const read: Capability = { name: "read", type: "tool" };
    const bash: Capability = { name: "bash", type: "tool" };
    const providers = [
      facts("claude", { capabilities: [read, bash] }),
      facts("codex", { capabilities: [bash] }),
      facts("amp", { capabilities: [{ ...read, enabled: false }] }),
    ];
    const byName = planCandidates(
      providers,
      policy({ requiredCapabilities: [{ type: "tool", name: "read" }] }),
      noRandom,
    );
    expect(byName.candidates).toEqual(["claude"]);
    expect(byName.dropped).toEqual([
      { provider: "codex", kind: "missing_capabilities", reason: "lacks required capabilities: tool:read" },
      { provider: "amp", kind: "missing_capabilities", reason: "lacks required capabilities: tool:read" },
    ]);
    const byType = planCandidates(providers, policy({ requiredCapabilities: ["tool"] }), noRandom);
    expect(byType.candidates).toEqual(["claude", "codex"]);
  });

  it("drops providers that health or the breaker refuse, saying why", () => {
    const plan = planCandidates(
      [facts("claude", { unavailable: "circuit open until later" }), facts("codex")],
      policy(),
      noRandom,
    );
    expect(plan.candidates).toEqual(["codex"]);
    expect(plan.dropped).toEqual([
      { provider: "claude", kind: "unavailable", reason: "circuit open until later" },
    ]);
  });

  it("weighted: highest weight first, deterministically, unlisted providers weighing 1", () => {
    const weighted = policy({ strategy: "weighted", weights: { claude: 10, codex: 3, amp: 1 } });
    expect(planCandidates(three, weighted, noRandom).candidates).toEqual(["claude", "codex", "amp"]);
    const unlisted = policy({ strategy: "weighted", weights: { amp: 2, codex: 0.5 } });
    expect(planCandidates(three, unlisted, noRandom).candidates).toEqual(["amp", "claude", "codex"]);
  });

  it("weighted: ties keep the prefer order, unlisted ids after it in registration order", () => {
    const providers = [facts("a"), facts("b"), facts("c"), facts("d")];
    const tied = policy({ strategy: "weighted", weights: { d: 2 }, prefer: ["c", "b"] });
    expect(planCandidates(providers, tied, noRandom).candidates).toEqual(["d", "c", "b", "a"]);
  });

  it("weighted: score = weight − failure penalty, so a failing provider sinks below a lighter one", () => {
    const weighted = policy({ strategy: "weighted", weights: { claude: 2, codex: 1.6 } });
    const failing = [facts("claude", { penalty: 0.5 }), facts("codex"), facts("amp")];
    // claude 1.5 < codex 1.6; amp 1.
    expect(planCandidates(failing, weighted, noRandom).candidates).toEqual(["codex", "claude", "amp"]);
    const lightly = [facts("claude", { penalty: 0.25 }), facts("codex"), facts("amp")];
    expect(planCandidates(lightly, weighted, noRandom).candidates).toEqual(["claude", "codex", "amp"]);
  });

  it("weighted_random: the first pick follows the weights (2000 seeded draws)", () => {
    const random = mulberry32(20_260_101);
    const weighted = policy({ strategy: "weighted_random", weights: { claude: 10, codex: 3, amp: 1 } });
    const first = { claude: 0, codex: 0, amp: 0 };
    const secondAfterClaude = { codex: 0, amp: 0 };
    const draws = 2000;
    for (let i = 0; i < draws; i += 1) {
      const [head, second, ...rest] = planCandidates(three, weighted, random).candidates;
      expect(rest).toHaveLength(1);
      if (head === "claude" || head === "codex" || head === "amp") first[head] += 1;
      if (head === "claude" && (second === "codex" || second === "amp")) secondAfterClaude[second] += 1;
    }
    // Expected 10/14, 3/14, 1/14; 0.03 is about three standard deviations at 2000 draws.
    expect(Math.abs(first.claude / draws - 10 / 14)).toBeLessThan(0.03);
    expect(Math.abs(first.codex / draws - 3 / 14)).toBeLessThan(0.03);
    expect(Math.abs(first.amp / draws - 1 / 14)).toBeLessThan(0.03);
    // Without replacement: after claude, codex comes next with probability 3 / (3 + 1).
    const afterClaude = secondAfterClaude.codex + secondAfterClaude.amp;
    expect(Math.abs(secondAfterClaude.codex / afterClaude - 3 / 4)).toBeLessThan(0.05);
  });

  it("weighted_random: unlisted providers weigh 1, weight-0 ones come last in prefer order", () => {
    const providers = [facts("a"), facts("b"), facts("c"), facts("d")];
    const weighted = policy({ strategy: "weighted_random", weights: { a: 0, c: 0 }, prefer: ["c"] });
    const random = mulberry32(1);
    for (let i = 0; i < 50; i += 1) {
      const { candidates } = planCandidates(providers, weighted, random);
      expect(candidates.slice(2)).toEqual(["c", "a"]);
      expect(candidates.slice(0, 2).toSorted()).toEqual(["b", "d"]);
    }
  });

  it("weighted_random is reproducible for a seed", () => {
    const weighted = policy({ strategy: "weighted_random", weights: { claude: 1, codex: 1, amp: 1 } });
    const run = (seed: number) => {
      const random = mulberry32(seed);
      return Array.from({ length: 20 }, () => planCandidates(three, weighted, random).candidates.join());
    };
    expect(run(5)).toEqual(run(5));
  });

  it("leastBusy sorts by in-flight attempts first, the strategy order breaking ties", () => {
    const busy = [
      facts("claude", { inFlight: 2 }),
      facts("codex", { inFlight: 0 }),
      facts("amp", { inFlight: 0 }),
    ];
    expect(planCandidates(busy, policy({ leastBusy: true, prefer: ["amp"] }), noRandom).candidates).toEqual([
      "amp",
      "codex",
      "claude",
    ]);
  });

  it("puts the sticky provider first when it is still a candidate", () => {
    expect(planCandidates(three, policy({ leastBusy: true }), noRandom, "amp").candidates).toEqual([
      "amp",
      "claude",
      "codex",
    ]);
    const cooling = [facts("claude"), facts("amp", { unavailable: "cooling down" })];
    expect(planCandidates(cooling, policy(), noRandom, "amp").candidates).toEqual(["claude"]);
  });
});
