// Amp's own features through `AmpAdapter`: its agent mode (`--mode`), thinking blocks, a
// permission mode compiled into the settings file Amp is started with, pricing from the model
// Amp names (Amp reports no cost), and continuing Amp's own thread.
//
// Checks: both runs completed on one thread id (`T-…`); the run was priced from the tokens of
// the model Amp named; the CLI was started with `--mode rush`, `--stream-json-thinking` and a
// settings file equal to `ampSettings({ permissionMode: "plan" })` (read-only tools, everything
// else rejected), and the second run with `threads continue <thread id>`.
//
//   npx tsx examples/amp-direct.ts                 # a scripted Amp CLI
//   npx tsx examples/amp-direct.ts --provider amp  # the real amp CLI
import { MemorySessionStore, SessionManager } from "agent-session-manager";
import { ampSettings } from "agent-session-manager/amp";
import { check, createProviderAgent, runExample } from "./support.js";

runExample(async () => {
  const agent = createProviderAgent("amp", {
    answer: "The tests live in test/.",
    model: "claude-sonnet-4-5",
  });
  if (agent === undefined) return;
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const session = await manager.activateSession((await manager.startSession({ agentId: "amp-direct" })).id);

  const amp = { mode: "rush", thinking: true, permissionMode: "plan" } as const;
  const first = await manager.executeRun(
    (await manager.startRun(session.id, "Where do this project's tests live? Read only.")).id,
    { providerOptions: { amp } },
  );
  const firstCall = agent.lastInvocation();
  console.log(`run 1: ${first.output.content}`);
  console.log(
    `run 1 on thread ${first.providerSessionId}, model ${first.model ?? "unnamed"}, cost ${first.costUsd ?? "unknown"} USD`,
  );
  check(first.providerSessionId?.startsWith("T-"), "Amp named its thread");

  agent.play({ answer: "test/parser.test.ts.", model: "claude-sonnet-4-5" });
  const second = await manager.executeRun((await manager.startRun(session.id, "Name one test file.")).id, {
    providerOptions: { amp: { ...amp, resumeThreadId: first.providerSessionId } },
  });
  const secondCall = agent.lastInvocation();
  console.log(`run 2 continued thread ${second.providerSessionId}: ${second.output.content}`);
  check(second.providerSessionId === first.providerSessionId, "run 2 continued the thread");

  if (firstCall !== undefined && secondCall !== undefined) {
    check(first.costUsd !== null && first.costUsd > 0, "priced from the named model's tokens");
    const { argv } = firstCall;
    check(
      argv[argv.indexOf("--mode") + 1] === "rush" && argv.includes("--stream-json-thinking"),
      "mode, thinking",
    );
    const expected = ampSettings({ permissionMode: "plan", allowedTools: [], deniedTools: [] });
    check(
      JSON.stringify(firstCall.settings) === JSON.stringify(expected),
      "the settings file is plan mode's",
    );
    const rules = (expected["amp.permissions"] as { tool: string; action: string }[]) ?? [];
    console.log(
      `scripted amp CLI: --mode rush --stream-json-thinking --settings-file (${rules.length} rules, last: ${rules.at(-1)?.tool} ${rules.at(-1)?.action})`,
    );
    const at = secondCall.argv.indexOf("continue");
    check(
      secondCall.argv[at - 1] === "threads" && secondCall.argv[at + 1] === first.providerSessionId,
      "threads continue <id>",
    );
    console.log(`then: threads continue ${secondCall.argv[at + 1]}`);
  }
  await manager.completeSession(session.id);
});
