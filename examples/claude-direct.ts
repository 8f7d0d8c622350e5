// Claude Code's own features through `ClaudeAdapter`: per-run Claude options (model, turn limit,
// permission mode), and resuming Claude's own session — the second run continues the first
// one's conversation, and its cost is its own although Claude reports the session's total.
//
// Checks: both runs completed on one Claude session id; Claude's reported cost became per-run
// figures (scripted: $0.002, then $0.005 − $0.002 = $0.003); the CLI was started with
// `--max-turns=3`, `--permission-mode=plan` and then `--resume <session id>`.
//
//   npx tsx examples/claude-direct.ts                    # a scripted Claude CLI
//   npx tsx examples/claude-direct.ts --provider claude  # the real claude CLI
import { MemorySessionStore, SessionManager } from "agent-session-manager";
import { claudePermissionMode } from "agent-session-manager/claude";
import { check, createProviderAgent, runExample } from "./support.js";

runExample(async () => {
  const agent = createProviderAgent("claude", { answer: "Plan: add a parser, then tests.", costUsd: 0.002 });
  if (agent === undefined) return;
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const session = await manager.activateSession(
    (await manager.startSession({ agentId: "claude-direct" })).id,
  );

  const claude = { maxTurns: 3, permissionMode: "plan" } as const;
  console.log(`permission mode plan is Claude's ${claudePermissionMode("plan").permissionMode}`);
  const first = await manager.executeRun(
    (await manager.startRun(session.id, "Plan a CSV parser in two steps. Do not write files.")).id,
    { providerOptions: { claude } },
  );
  const firstArgv = agent.lastInvocation()?.argv ?? [];
  console.log(`run 1: ${first.output.content}`);
  console.log(`run 1 on Claude session ${first.providerSessionId}, cost ${first.costUsd} USD`);
  check(first.providerSessionId !== undefined, "Claude named its session");

  // Claude Code reports what its whole session has cost so far; the run's own cost is the difference.
  agent.play({ answer: "Step 2: tests for quoted fields.", costUsd: 0.005 });
  const second = await manager.executeRun(
    (await manager.startRun(session.id, "What was step 2 of your plan?")).id,
    { providerOptions: { claude: { ...claude, resumeSessionId: first.providerSessionId } } },
  );
  const secondArgv = agent.lastInvocation()?.argv ?? [];
  console.log(`run 2: ${second.output.content}`);
  console.log(`run 2 resumed Claude session ${second.providerSessionId}, cost ${second.costUsd} USD`);
  check(second.providerSessionId === first.providerSessionId, "run 2 continued Claude's session");
  check(first.costUsd !== null && second.costUsd !== null, "both runs priced");

  if (!agent.live) {
    check(first.costUsd === 0.002 && Math.abs(second.costUsd - 0.003) < 1e-12, "per-run costs");
    for (const flag of ["--max-turns=3", "--permission-mode=plan"]) {
      check(firstArgv.includes(flag), `Claude Code was started with ${flag}`);
    }
    const resume = secondArgv.findIndex((arg) => arg === "--resume" || arg.startsWith("--resume="));
    const resumed = secondArgv[resume]?.includes("=")
      ? secondArgv[resume]?.split("=")[1]
      : secondArgv[resume + 1];
    check(resumed === first.providerSessionId, "run 2 started Claude Code with --resume <session id>");
    console.log(
      `scripted claude CLI: ${firstArgv.filter((arg) => /^--(max-turns|permission-mode)/.test(arg)).join(" ")}; then --resume ${resumed}`,
    );
  }
  await manager.completeSession(session.id);
});
