// Advanced patterns: features combined, as in the guide's sections of the same names.
//
// 1. Weighted routing + policy stacks.
// 2. (SessionServer + durable subscriptions + workspace snapshots: not built yet.)
// 3. Routing + stickiness + continuity.
// 4. Policy + artifact store (the workspace part is not built yet; see the section).
//
// Everything is stored in a SQLite file, as a long-lived application would.
//
//   npx tsx examples/advanced-patterns.ts                    # scripted Claude, Codex and Amp CLIs
//   npx tsx examples/advanced-patterns.ts --provider claude  # the real claude CLI
import path from "node:path";
import type { PolicyInput } from "agent-session-manager";
import { ProviderRouter, SessionManager } from "agent-session-manager";
import { FileArtifactStore } from "agent-session-manager/artifacts/file";
import { openSqliteStore } from "agent-session-manager/sqlite";
import { createAgents, createMainAgent, nativeToolRestrictions, runExample, tempDir } from "./support.js";

runExample(async () => {
  const dir = tempDir("advanced");
  const store = await openSqliteStore({ path: path.join(dir, "sessions.db"), autoMigrate: true });
  try {
    await weightedRoutingWithPolicyStacks(store);
    await stickinessWithContinuity(store);
    await policyWithArtifactStore(store, dir);
  } finally {
    await store.close();
  }
});

type Store = Awaited<ReturnType<typeof openSqliteStore>>;

/** 1. Prefer Claude by weight while an org's and a team's policies both hold. */
async function weightedRoutingWithPolicyStacks(store: Store): Promise<void> {
  console.log("== 1. weighted routing + policy stacks");
  const router = new ProviderRouter({
    strategy: "weighted",
    weights: { claude: 10, codex: 3, amp: 1 },
    maxAttempts: 3,
    circuitBreaker: { failureThreshold: 5, cooldownMs: 30_000 },
  });
  const agents = createAgents({ answer: "Summary: three modules, no shell needed." });
  for (const agent of agents) router.register(agent.provider, agent.adapter);
  const org: PolicyInput = {
    name: "org",
    limits: { maxTotalTokens: 100_000, maxCostUsd: 0.5 },
    onViolation: "cancel",
  };
  // The guide denies "bash" and "shell": in canonical tool names, every provider's shell is `Bash`.
  const team: PolicyInput = {
    name: "team",
    toolRules: [{ deny: ["Bash"] }],
    limits: { maxDurationMs: 60_000 },
    onViolation: "warn",
  };

  const manager = new SessionManager({ store, adapter: router });
  const session = await manager.activateSession((await manager.startSession({ agentId: "reviewer" })).id);
  const run = await manager.startRun(session.id, "Summarize the repository's layout.");
  const result = await manager.executeRun(run.id, {
    policies: [org, team],
    providerOptions: { router: { requiredCapabilities: [{ type: "file_access", name: "file_operations" }] } },
  });
  // The router picked by weight; the merged policy held org's limits and team's tool rule with the
  // strictest action (cancel), and the chosen provider was started with Bash denied.
  const { provider } = await store.getRun(result.runId);
  console.log(`  routed to ${provider}: ${result.output.content}`);
  const routed = agents.find((agent) => agent.provider === provider);
  const native = routed && nativeToolRestrictions(routed);
  if (native) console.log(`  ${provider} was started with ${native}`);
  console.log(
    `  policy ${result.policy?.policy} (${result.policy?.action}): ${result.policy?.violations.length} violations`,
  );
}

/** 3. Keep a conversation on one provider, and give its second turn the first one's transcript. */
async function stickinessWithContinuity(store: Store): Promise<void> {
  console.log("== 3. routing + stickiness + continuity");
  const router = new ProviderRouter({ prefer: ["claude", "codex", "amp"], stickyTtlMs: 10 * 60_000 });
  const agents = createAgents({ answer: "Noted." });
  // As in the guide, two providers (with --provider, the one named).
  for (const agent of agents.slice(0, 2)) router.register(agent.provider, agent.adapter);

  const manager = new SessionManager({ store, adapter: router });
  const session = await manager.activateSession((await manager.startSession({ agentId: "sticky-agent" })).id);
  const sticky = { router: { stickyKey: session.id } };

  const first = await manager.startRun(session.id, {
    messages: [{ role: "user", content: "Remember: the code is X-42." }],
  });
  await manager.executeRun(first.id, { providerOptions: sticky });

  // Automatic continuation (`continuation: "auto"`) is not built yet: the first run's transcript
  // is read back from the store and sent with the second question.
  const transcript = (await store.getEvents(session.id, { runId: first.id })).flatMap((event) => {
    if (event.type !== "message_sent" && event.type !== "message_received") return [];
    const { role, content } = event.data;
    return role === "tool" ? [] : [{ role, content }];
  });
  for (const agent of agents) agent.play({ answer: "The code is X-42." });
  const second = await manager.startRun(session.id, {
    messages: [...transcript, { role: "user", content: "What was the code?" }],
  });
  const result = await manager.executeRun(second.id, { providerOptions: sticky });
  const [one, two] = await Promise.all([store.getRun(first.id), store.getRun(second.id)]);
  console.log(`  run 1 on ${one.provider}, run 2 on ${two.provider} (sticky)`);
  console.log(`  answer: ${result.output.content}`);
}

/** 4. Enforce tool and budget rules, and keep what the run produced in an artifact store. */
async function policyWithArtifactStore(store: Store, dir: string): Promise<void> {
  console.log("== 4. policy + artifact store");
  const artifacts = new FileArtifactStore({ root: path.join(dir, "artifacts") });
  const agent = createMainAgent({ answer: "Added the missing tests." });
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const result = await manager.runOnce("Add tests for the parser.", {
    policy: {
      name: "safe-workspace",
      limits: { maxTotalTokens: 50_000, maxToolCalls: 10 },
      // Tool names, as in the guide: they deny tools called `rm` or `delete` (an MCP server's,
      // say). A shell `rm` is a `Bash` call, which a rule can only deny as a whole.
      toolRules: [{ deny: ["rm", "delete"] }],
      onViolation: "cancel",
    },
  });

  // Workspace snapshots (git or copies), the run's diff as a patch artifact, and rollback on
  // failure are not built yet. What the artifact store does is shown with the run's own record:
  // its events, stored under a key derived from the run and read back.
  const key = `runs/${result.runId}/events.jsonl`;
  const body = result.events.map((event) => JSON.stringify(event)).join("\n");
  const info = await artifacts.put(key, body, { contentType: "application/x-ndjson" });
  const stored = await artifacts.get(key);
  console.log(
    `  ${result.output.content} (policy ${result.policy?.policy}: ${result.policy?.violations.length} violations)`,
  );
  console.log(`  artifact ${key}: ${stored.byteLength} bytes, sha256 ${info.sha256.slice(0, 12)}…`);
}
