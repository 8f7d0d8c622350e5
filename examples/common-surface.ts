// A provider-agnostic session flow: one function drives Claude Code, Codex and Amp alike — the
// same calls, the same event vocabulary, the same result — and never looks at which it has.
//
// Checks: every provider's run completes with an answer and tokens, its stored events carry the
// canonical types (message_sent, run_started, tool_call_started/completed for the shell command
// under the one name `Bash`, message_received, token_usage_updated, run_completed), and every
// event names the provider that produced it.
//
//   npx tsx examples/common-surface.ts                    # scripted Claude, Codex and Amp CLIs
//   npx tsx examples/common-surface.ts --provider codex   # the real codex CLI
import type { EventType, ProviderAdapter } from "agent-session-manager";
import { MemorySessionStore, SessionManager } from "agent-session-manager";
import { check, createAgents, runExample } from "./support.js";

const PROMPT = "Run `pwd` in a shell, then tell me the directory in one sentence.";
/** What every provider's run logs, whatever the provider. */
const COMMON: readonly EventType[] = [
  "message_sent",
  "run_started",
  "message_received",
  "token_usage_updated",
  "run_completed",
];

runExample(async () => {
  const agents = createAgents({
    command: "pwd",
    commandOutput: "/work\n",
    answer: "The directory is /work.",
  });
  for (const agent of agents) {
    const surface = await converse(agent.adapter);
    console.log(`${agent.provider}: ${surface.types.join(" ")}`);
    console.log(
      `${agent.provider}: answer "${surface.answer}", ${surface.tokens} tokens, tools [${surface.tools}]`,
    );
    for (const type of COMMON) check(surface.types.includes(type), `${agent.provider} logged ${type}`);
    // A real agent decides for itself whether to use its shell.
    if (!agent.live) check(surface.tools.join() === "Bash", `${agent.provider}'s shell call is named Bash`);
  }
  console.log(
    `common surface: ${agents.length} provider${agents.length === 1 ? "" : "s"}, the same ${COMMON.length} event types`,
  );
});

/** The same flow whatever `adapter` is: a session, one run, its stored events summed up. */
async function converse(adapter: ProviderAdapter) {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter });
  const session = await manager.activateSession((await manager.startSession({ agentId: "agnostic" })).id);
  const run = await manager.startRun(session.id, PROMPT);
  const result = await manager.executeRun(run.id);
  await manager.completeSession(session.id);

  const events = await store.getEvents(session.id, { runId: run.id });
  for (const event of events) {
    check(event.provider === adapter.name, `${event.type} names provider ${adapter.name}`);
  }
  check(result.output.content.trim() !== "", `${adapter.name} answered`);
  const tokens = result.tokenUsage.inputTokens + result.tokenUsage.outputTokens;
  check(tokens > 0, `${adapter.name} counted tokens`);
  return {
    types: [...new Set(events.map((event) => event.type))],
    answer: result.output.content,
    tokens,
    tools: [
      ...new Set(
        events.flatMap((event) => (event.type === "tool_call_completed" ? [event.data.toolName] : [])),
      ),
    ],
  };
}
