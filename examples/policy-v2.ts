// Policies, v2: stacking, preflight, provider-side enforcement and a cost limit.
//
// 1. Stacking: an organization's and a team's policies merge deterministically: limits take the
//    lowest value, tool rules are concatenated, the strictest `onViolation` wins
//    (cancel > request_approval > warn).
// 2. Preflight: a stack no run could satisfy is rejected before the run starts.
// 3. Provider-side enforcement: the merged tool rules reach the adapter (`compileToolRules`),
//    which compiles them into the provider's own settings (Claude: `--disallowedTools`; Amp: its
//    settings file; Codex: its sandbox), so the provider refuses the tool before it runs. The
//    manager still checks every event: when a provider calls the tool anyway (the scripted one
//    does), the run is stopped with `policy_violation`.
// 4. A cost limit: `maxCostUsd`, checked against the cost the provider reports (or the one
//    computed from the pricing table).
//
//   npx tsx examples/policy-v2.ts                    # a scripted Claude CLI
//   npx tsx examples/policy-v2.ts --provider claude  # the real claude CLI
import {
  AsmError,
  definePolicy,
  MemorySessionStore,
  mergePolicies,
  type PolicyInput,
  preflightPolicy,
  SessionManager,
} from "agent-session-manager";
import { createAgents, createMainAgent, nativeToolRestrictions, runExample } from "./support.js";

const org: PolicyInput = {
  name: "org",
  limits: { maxTotalTokens: 100_000, maxCostUsd: 0.5 },
  onViolation: "cancel",
};
const team: PolicyInput = {
  name: "team",
  toolRules: [{ deny: ["Bash"] }],
  limits: { maxDurationMs: 60_000 },
  onViolation: "warn",
};

/** Runs `prompt` under `policies`, printing how it ended. */
async function attempt(manager: SessionManager, prompt: string, policies: PolicyInput[]): Promise<void> {
  try {
    const result = await manager.runOnce(prompt, { policies });
    console.log(`  completed: ${result.output.content} (cost $${result.costUsd ?? "unknown"})`);
  } catch (error) {
    if (!AsmError.is(error, "policy_violation")) throw error;
    console.log(`  ${error.code}: ${error.message}`);
  }
}

runExample(async () => {
  console.log("== 1. stacking");
  const merged = mergePolicies([definePolicy(org), definePolicy(team)]);
  console.log(`  ${merged.name}: onViolation ${merged.onViolation}`);
  console.log(`  limits ${JSON.stringify(merged.limits)}`);
  console.log(`  tool rules ${JSON.stringify(merged.toolRules)}`);

  console.log("== 2. preflight");
  try {
    preflightPolicy(mergePolicies([definePolicy({ toolRules: [{ allow: ["Read"] }] }), definePolicy(team)]));
    console.log("  allow Read + deny Bash: accepted (the deny narrows nothing it needs)");
    preflightPolicy(mergePolicies([definePolicy({ toolRules: [{ allow: ["Bash"] }] }), definePolicy(team)]));
  } catch (error) {
    if (!AsmError.is(error, "validation_error")) throw error;
    console.log(`  allow Bash + deny Bash: rejected (${String(error.details.check)}): ${error.message}`);
  }

  console.log("== 3. provider-side enforcement, reactive safety net");
  for (const agent of createAgents({ command: "rm -rf build", thinkMs: 1000, answer: "Cleaned up." })) {
    const manager = new SessionManager({ store: new MemorySessionStore(), adapter: agent.adapter });
    console.log(`  ${agent.provider} (its script runs a shell command anyway):`);
    await attempt(manager, "Clean up the build directory.", [org, team]);
    const native = nativeToolRestrictions(agent);
    if (native) console.log(`  the scripted ${agent.provider} CLI was started with ${native}`);
  }

  console.log("== 4. a cost limit");
  const agent = createMainAgent({ answer: "A long, expensive essay.", costUsd: 0.05 });
  const manager = new SessionManager({ store: new MemorySessionStore(), adapter: agent.adapter });
  const frugal: PolicyInput = { name: "frugal", limits: { maxCostUsd: 0.01 } };
  await attempt(manager, "Write an essay about policies.", [org, frugal]);
});
