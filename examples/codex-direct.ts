// Codex's own features through `CodexAdapter`: a structured answer (`outputSchema`, Codex's
// `--output-schema`), the sandbox a permission mode picks, a model priced from its tokens, and
// resuming Codex's own thread — whose usage Codex reports for the whole thread, made per-run here.
//
// Checks: the answer parsed against the schema (`output.structuredOutput`); the run was priced
// from `gpt-5.1-codex`'s list price; both runs on one thread id; the resumed run's usage is its
// own (scripted: thread totals 1200 then 3000 input tokens → 1800 for run 2); the CLI was started
// with `--sandbox read-only`, `--output-schema <file>` and then `resume <thread id>`.
//
//   npx tsx examples/codex-direct.ts                   # a scripted Codex CLI
//   npx tsx examples/codex-direct.ts --provider codex  # the real codex CLI
import { costOf, MemorySessionStore, priceFor, SessionManager } from "agent-session-manager";
import { codexPermissionSettings } from "agent-session-manager/codex";
import { check, createProviderAgent, runExample } from "./support.js";

const MODEL = "gpt-5.1-codex";
const SCHEMA = {
  type: "object",
  properties: { language: { type: "string" }, files: { type: "number" } },
  required: ["language", "files"],
  additionalProperties: false,
};

runExample(async () => {
  const agent = createProviderAgent("codex", {
    answer: JSON.stringify({ language: "TypeScript", files: 2 }),
    usage: { input: 1200, output: 80 },
  });
  if (agent === undefined) return;
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const session = await manager.activateSession((await manager.startSession({ agentId: "codex-direct" })).id);

  console.log(`permission mode plan is Codex's sandbox ${codexPermissionSettings("plan").sandboxMode}`);
  const first = await manager.executeRun(
    (await manager.startRun(session.id, "Which language is this project in, and how many files? Read only."))
      .id,
    { providerOptions: { codex: { model: MODEL, permissionMode: "plan", outputSchema: SCHEMA } } },
  );
  const firstArgv = agent.lastInvocation()?.argv ?? [];
  console.log(`run 1 structured output: ${JSON.stringify(first.output.structuredOutput)}`);
  const answer = first.output.structuredOutput as { language?: unknown; files?: unknown } | undefined;
  check(
    typeof answer?.language === "string" && typeof answer.files === "number",
    "the answer follows the schema",
  );
  const price = priceFor(MODEL);
  check(price !== undefined, `${MODEL} has a list price`);
  console.log(
    `run 1 on thread ${first.providerSessionId}: ${first.tokenUsage.inputTokens} tokens in, cost ${first.costUsd} USD`,
  );
  check(first.costUsd === costOf(first.tokenUsage, price), "priced from the model's tokens");

  // Codex reports usage summed over its thread; the manager hands the first run's totals to the
  // resumed run, which reports only its own.
  agent.play({ answer: "README.md and main.ts.", usage: { input: 3000, output: 200 } });
  const second = await manager.executeRun((await manager.startRun(session.id, "Name the two files.")).id, {
    providerOptions: {
      codex: { model: MODEL, permissionMode: "plan", resumeThreadId: first.providerSessionId },
    },
  });
  const secondArgv = agent.lastInvocation()?.argv ?? [];
  console.log(
    `run 2 resumed thread ${second.providerSessionId}: ${second.tokenUsage.inputTokens} tokens in, ${second.tokenUsage.outputTokens} out`,
  );
  check(second.providerSessionId === first.providerSessionId, "run 2 continued the thread");

  if (!agent.live) {
    check(
      second.tokenUsage.inputTokens === 1800 && second.tokenUsage.outputTokens === 120,
      "run 2's own usage",
    );
    const sandbox = firstArgv[firstArgv.indexOf("--sandbox") + 1];
    check(
      sandbox === "read-only" && firstArgv.includes("--output-schema"),
      "--sandbox read-only --output-schema",
    );
    const resumed = secondArgv[secondArgv.indexOf("resume") + 1];
    check(resumed === first.providerSessionId, "run 2 started codex exec resume <thread id>");
    console.log(`scripted codex CLI: --sandbox ${sandbox} --output-schema …; then resume ${resumed}`);
  }
  await manager.completeSession(session.id);
});
