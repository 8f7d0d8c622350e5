// Advanced patterns: features combined, as in the guide's sections of the same names.
//
// 1. Weighted routing + policy stacks.
// 2. SessionServer + durable subscriptions + workspace snapshots: advanced-patterns-runtime.ts.
// 3. Routing + stickiness + continuity: `continuation: "auto"` carries the first turn to the second.
// 4. Policy + workspace + artifact store: a run's patch stored, a run that breaks the policy
//    rolled back.
//
// Checks (scripted CLIs): §1 routed by weight with Bash denied at the CLI; §3 both runs on one
// provider, run 2 replayed run 1's exchange (its CLI's stdin shows it) and answered X-42; §4 run
// 1's patch is in the artifact store, run 2 failed with policy_violation, its file is gone and its
// patch kept in the store.
//
// Everything is stored in a SQLite file, as a long-lived application would.
//
//   npx tsx examples/advanced-patterns.ts                    # scripted Claude, Codex and Amp CLIs
//   npx tsx examples/advanced-patterns.ts --provider claude  # the real claude CLI
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AsmEvent, ExecuteRunOptions, PolicyInput } from "agent-session-manager";
import { AsmError, ProviderRouter, REPLAY_OPEN, SessionManager } from "agent-session-manager";
import { FileArtifactStore } from "agent-session-manager/artifacts/file";
import { openSqliteStore } from "agent-session-manager/sqlite";
import {
  check,
  createAgents,
  createMainAgent,
  initGitRepo,
  nativeToolRestrictions,
  runExample,
  tempDir,
} from "./support.js";

const REMEMBER = "Remember: the code is X-42.";
const ASK = "What was the code?";

runExample(async () => {
  const dir = tempDir("advanced");
  const store = await openSqliteStore({ path: path.join(dir, "sessions.db"), autoMigrate: true });
  try {
    await weightedRoutingWithPolicyStacks(store);
    await stickinessWithContinuity(store);
    await policyWithWorkspace(store, dir);
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

  const first = await manager.startRun(session.id, { messages: [{ role: "user", content: REMEMBER }] });
  await manager.executeRun(first.id, { continuation: "auto", providerOptions: sticky });

  for (const agent of agents) agent.play({ answer: "The code is X-42." });
  const second = await manager.startRun(session.id, { messages: [{ role: "user", content: ASK }] });
  // Behind a router, `auto` replays: the continuation is decided before the router picks a
  // provider, so the transcript is what any of them can take.
  const result = await manager.executeRun(second.id, {
    continuation: "auto",
    continuationOptions: { maxMessages: 100 },
    providerOptions: sticky,
  });
  const [one, two] = await Promise.all([store.getRun(first.id), store.getRun(second.id)]);
  const carried = result.continuity;
  console.log(`  run 1 on ${one.provider}, run 2 on ${two.provider} (sticky)`);
  console.log(
    `  run 2: continuation ${carried?.requested} -> ${carried?.mode}, ${carried?.messages} messages carried`,
  );
  console.log(`  answer: ${result.output.content.trim()}`);
  check(one.provider === two.provider, "stickiness kept both runs on one provider");
  check(carried?.mode === "replay" && (carried.messages ?? 0) >= 2, "run 2 was given run 1's exchange");
  check(result.output.content.includes("X-42"), "the answer recalls X-42");
  // The scripted CLI's stdin is the evidence that the first exchange reached the provider.
  const invocation = agents.find((agent) => agent.provider === two.provider)?.lastInvocation();
  if (invocation) {
    const stdin = JSON.stringify(invocation.stdin);
    check(stdin.includes(REPLAY_OPEN) && stdin.includes(`[user] ${REMEMBER}`), "the replay reached the CLI");
    console.log(`  scripted ${two.provider}: its stdin began with the replayed conversation`);
  }
}

/**
 * 4. Enforce budget and tool rules while capturing the workspace's diff, with patches in an
 * artifact store; a run that breaks the policy has its changes rolled back.
 */
async function policyWithWorkspace(store: Store, dir: string): Promise<void> {
  console.log("== 4. policy + workspace + artifact store");
  const artifactStore = new FileArtifactStore({ root: path.join(dir, "artifacts") });
  const agent = createMainAgent({
    answer: "Added the missing tests.",
    command: "write tests/parser.test.ts",
  });
  const project = agent.cwd;
  initGitRepo(project, { "src/parser.ts": "export const parse = (text: string) => text.split(',');\n" });
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const session = await manager.activateSession((await manager.startSession({ agentId: "safe-agent" })).id);
  const options = {
    policy: {
      name: "safe-workspace",
      limits: { maxTotalTokens: 50_000, maxToolCalls: 10 },
      // Tool names, as in the guide: they deny tools called `rm` or `delete` (an MCP server's,
      // say). A shell `rm` is a `Bash` call, which a rule can only deny as a whole.
      toolRules: [{ deny: ["rm", "delete"] }],
      onViolation: "cancel",
    },
    workspace: {
      path: project,
      strategy: "git",
      capturePatch: true,
      // The guide's 2 MiB keeps most patches inline; 1 KiB sends this example's to the store.
      maxPatchBytes: 1_024,
      artifactStore,
      rollbackOnFailure: true,
    },
  } satisfies ExecuteRunOptions;

  // The scripted CLI does not run commands: at its Bash call, the example writes what it stands for.
  let effect = { file: "tests/parser.test.ts", content: testFile(40) };
  const onEvent = (event: AsmEvent) => {
    if (agent.live || event.type !== "tool_call_started") return;
    const file = path.join(project, effect.file);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, effect.content);
  };

  // Run 1 stays within the policy: its diff, the patch too large to inline, in the artifact store.
  const first = await manager.startRun(session.id, "Add tests for the parser in tests/parser.test.ts.");
  const result = await manager.executeRun(first.id, { ...options, onEvent });
  console.log(
    `  run 1: ${result.output.content.trim()} (policy ${result.policy?.policy}: ${result.policy?.violations.length} violations)`,
  );
  const diff = result.workspace?.diff;
  if (diff?.patchRef) {
    const patch = Buffer.from(await artifactStore.get(diff.patchRef)).toString("utf8");
    console.log(
      `  ${diff.filesChanged} files changed (${diff.paths.join(", ")}); patch of ${Buffer.byteLength(patch)} bytes in the artifact store as ${diff.patchRef}`,
    );
    check(Buffer.byteLength(patch) === diff.patchBytes, "the stored patch is whole");
    if (!agent.live) check(patch.includes("+++ b/tests/parser.test.ts"), "the patch shows the new test file");
  } else if (diff?.patch) {
    console.log(`  inline patch: ${diff.patchBytes} bytes`);
  } else {
    console.log("  no workspace changes");
  }
  if (!agent.live) check(diff?.patchRef, "run 1's patch went to the artifact store");

  // Run 2 writes a file, then goes over the token budget: cancelled by the policy, and its
  // change rolled back — while its patch stays in the artifact store, to see what it did.
  effect = { file: "src/rewrite.ts", content: testFile(60) };
  agent.play({
    answer: "Rewrote the parser.",
    command: "write src/rewrite.ts",
    usage: { input: 60_000, output: 400 },
  });
  const second = await manager.startRun(session.id, "Rewrite the parser from scratch in src/rewrite.ts.");
  const failure = await manager.executeRun(second.id, { ...options, onEvent }).then(
    () => undefined,
    (error: unknown) => AsmError.from(error),
  );
  const record = (await store.getRun(second.id)).metadata.workspace as
    | { diff?: { patchRef?: string }; rollback?: { removed: number; restored: number } }
    | undefined;
  const present = existsSync(path.join(project, effect.file));
  console.log(
    `  run 2: ${failure ? `failed: ${failure.code}: ${failure.message}` : "completed"}\n  rolled back: ${record?.rollback ? `${record.rollback.removed} removed, ${record.rollback.restored} restored` : "no"}; ${effect.file} ${present ? "present" : "gone"}`,
  );
  if (record?.diff?.patchRef) {
    const patch = Buffer.from(await artifactStore.get(record.diff.patchRef)).toString("utf8");
    console.log(
      `  run 2's patch kept in the artifact store as ${record.diff.patchRef} (${Buffer.byteLength(patch)} bytes)`,
    );
    if (!agent.live)
      check(patch.includes(`+++ b/${effect.file}`), "the stored patch shows the rolled-back file");
  }
  if (!agent.live) {
    check(failure?.code === "policy_violation", "run 2 failed by policy");
    check(!present && record?.rollback?.removed === 1, "run 2's file was rolled back");
    check(record?.diff?.patchRef, "run 2's patch is in the artifact store");
    check(existsSync(path.join(project, "tests/parser.test.ts")), "run 1's work is kept");
  }
  await artifactStore.close();
}

/** A test file of `cases` lines: big enough that its patch goes over the example's 1 KiB cap. */
function testFile(cases: number): string {
  const lines = Array.from(
    { length: cases },
    (_, at) => `test("case ${at}", () => expect(parse("a${at},b")).toEqual(["a${at}", "b"]));`,
  );
  return `import { parse } from "../src/parser";\n${lines.join("\n")}\n`;
}
