// Cost tracking: every run stores `costUsd` — the provider's own figure when it reports one
// (Claude Code), else its tokens priced by model from a pricing table (`DEFAULT_PRICING`: list
// prices), else `null` with a warning in the run's metadata, never a guessed price. A custom
// table (`new SessionManager({ pricing })`) prices other models; a policy's `maxCostUsd` turns
// the figure into a budget; `store.query.getUsageSummary` adds it all up.
//
// Checks (scripted CLIs): Claude's reported $0.002 is stored as is; Codex's run costs exactly
// `costOf(usage, priceFor("gpt-5.1-codex"))`; Amp naming a model no table knows gives `null` and
// a `costWarning`, and the same run with a custom table is priced; the usage summary's total is
// the sum of the known costs with one unpriced run; a $0.001 budget fails a $0.002 run with
// `policy_violation`.
//
//   npx tsx examples/cost-tracking.ts                    # scripted Claude, Codex and Amp CLIs
//   npx tsx examples/cost-tracking.ts --provider codex   # the real codex CLI
import type { PricingTable } from "agent-session-manager";
import { AsmError, costOf, DEFAULT_PRICING, priceFor, SessionManager } from "agent-session-manager";
import { check, createAgents, openExampleStore, runExample } from "./support.js";

const CODEX_MODEL = "gpt-5.1-codex";
/** A model no default table knows, as a new or private model would be. */
const PRIVATE_MODEL = "acme-coder-1";
const PRICING: PricingTable = {
  ...DEFAULT_PRICING,
  [PRIVATE_MODEL]: { input: 1, output: 4, cacheRead: 0.1, cacheWrite: 1 },
};

runExample(async () => {
  const store = await openExampleStore("cost");
  try {
    const agents = createAgents({ answer: "Done.", usage: { input: 10_000, output: 2_000 }, costUsd: 0.002 });
    const known: number[] = [];
    let unpriced = 0;
    for (const agent of agents) {
      if (agent.provider === "amp")
        agent.play({ answer: "Done.", usage: { input: 10_000, output: 2_000 }, model: PRIVATE_MODEL });
      const manager = new SessionManager({ store, adapter: agent.adapter });
      const result = await manager.runOnce("Say done.", {
        // Codex names no model in its output: the one it runs is the one asked for.
        ...(agent.provider === "codex" ? { providerOptions: { codex: { model: CODEX_MODEL } } } : {}),
      });
      const run = await store.getRun(result.runId);
      const warning = run.metadata.costWarning;
      console.log(
        `${agent.provider}: ${result.tokenUsage.inputTokens} in / ${result.tokenUsage.outputTokens} out, model ${result.model ?? "unnamed"}, cost ${result.costUsd ?? "unknown"}${warning ? ` (${String(warning)})` : ""}`,
      );
      check(run.costUsd === result.costUsd, "the run stores the result's cost");
      if (result.costUsd === null) unpriced++;
      else known.push(result.costUsd);
      if (agent.live) continue;

      if (agent.provider === "claude") check(result.costUsd === 0.002, "Claude's own figure is kept");
      if (agent.provider === "codex") {
        const price = priceFor(CODEX_MODEL);
        check(
          price !== undefined && result.costUsd === costOf(result.tokenUsage, price),
          "Codex priced by model",
        );
      }
      if (agent.provider === "amp") {
        check(
          result.costUsd === null && typeof warning === "string",
          "an unknown model: null with a warning",
        );
        const custom = new SessionManager({ store, adapter: agent.adapter, pricing: PRICING });
        const priced = await custom.runOnce("Say done.");
        const expected = costOf(priced.tokenUsage, { input: 1, output: 4, cacheRead: 0.1, cacheWrite: 1 });
        check(priced.costUsd === expected, "the custom table prices it");
        console.log(`amp with a custom pricing table: cost ${priced.costUsd}`);
        known.push(priced.costUsd);
      }
    }

    const summary = await store.query.getUsageSummary();
    const byProvider = Object.entries(summary.byProvider).map(
      ([name, totals]) => `${name} ${totals.costUsd}`,
    );
    console.log(
      `usage summary: ${summary.runCount} runs, $${summary.costUsd.toFixed(6)}, ${summary.unpricedRuns} unpriced; by provider: ${byProvider.join(", ")}`,
    );
    const sum = known.reduce((total, cost) => total + cost, 0);
    check(Math.abs(summary.costUsd - sum) < 1e-9 && summary.unpricedRuns === unpriced, "the summary adds up");

    const claude = agents.find((agent) => agent.provider === "claude" && !agent.live);
    if (claude) {
      const manager = new SessionManager({ store, adapter: claude.adapter });
      const over = await manager
        .runOnce("Say done.", {
          policy: { name: "budget", limits: { maxCostUsd: 0.001 }, onViolation: "cancel" },
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      check(AsmError.is(over, "policy_violation"), "the $0.001 budget stops the run");
      console.log(`budget $0.001: ${over.code}: ${over.message}`);
    }
  } finally {
    await store.close();
  }
});
