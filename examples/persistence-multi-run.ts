// One session, runs from three providers: Claude Code reviews, Codex fixes, Amp checks — each
// run through its own manager over the same store and the same session. The log stays one log,
// and the query API adds the session up across providers.
//
// Checks: the session's log has one contiguous sequence across the three runs, each run's events
// form a contiguous block and all name the run's provider; `getSessionStats` lists the three
// providers and three runs; `getUsageSummary({ sessionId })` splits usage by provider, adding up
// to the session's total; the health check finds nothing wrong.
//
//   npx tsx examples/persistence-multi-run.ts                    # scripted Claude, Codex and Amp CLIs
//   npx tsx examples/persistence-multi-run.ts --provider claude  # three runs on the real claude CLI
import { SessionManager } from "agent-session-manager";
import { check, checkContiguous, createAgents, openExampleStore, runExample } from "./support.js";

const STEPS = [
  "Review the parser (run `ls`).",
  "Fix what the review found (run `ls`).",
  "Check the fix (run `ls`).",
];

runExample(async () => {
  const store = await openExampleStore("multi-run");
  try {
    const agents = createAgents({ command: "ls", commandOutput: "parser.ts\n", answer: "Done." });
    const managers = agents.map((agent) => new SessionManager({ store, adapter: agent.adapter }));
    const [first] = managers;
    check(first !== undefined, "a manager");
    const session = await first.activateSession((await first.startSession({ agentId: "pipeline" })).id);
    const runIds: string[] = [];
    for (const [index, step] of STEPS.entries()) {
      const manager = managers[index % managers.length] ?? first;
      const result = await manager.executeRun((await manager.startRun(session.id, step)).id);
      runIds.push(result.runId);
    }
    await first.completeSession(session.id);

    const log = await store.getEvents(session.id, { limit: 1000 });
    const last = checkContiguous(log, 1);
    console.log(`session log: ${log.length} events, #1..#${last} contiguous across ${runIds.length} runs`);
    for (const runId of runIds) {
      const run = await store.getRun(runId);
      const events = log.filter((event) => event.runId === runId);
      checkContiguous(events);
      check(
        events.every((event) => event.provider === run.provider),
        `run ${runId}'s events name ${run.provider}`,
      );
      console.log(
        `  ${run.provider}: #${events[0]?.sequence}..#${events.at(-1)?.sequence}, ${events.length} events, ${run.status}`,
      );
    }

    const stats = await store.query.getSessionStats(session.id);
    const providers = [...new Set(agents.map((agent) => agent.provider))].sort();
    console.log(
      `stats: ${stats.runCount} runs, ${stats.eventCount} events, providers ${stats.providers.join(", ")}`,
    );
    check(stats.runCount === STEPS.length && stats.eventCount === log.length, "runs and events counted");
    check([...stats.providers].sort().join() === providers.join(), "every provider listed");

    const usage = await store.query.getUsageSummary({ sessionId: session.id });
    const parts = Object.entries(usage.byProvider);
    for (const [name, totals] of parts) {
      console.log(
        `  usage ${name}: ${totals.runCount} runs, ${totals.tokenUsage.inputTokens} in, ${totals.tokenUsage.outputTokens} out`,
      );
    }
    const sum = parts.reduce((total, [, totals]) => total + totals.tokenUsage.inputTokens, 0);
    check(sum === usage.tokenUsage.inputTokens && sum === stats.tokenUsage.inputTokens, "the parts add up");
    check(parts.length === providers.length, "usage split by provider");

    const health = await store.maintenance.healthCheck();
    check(health.ok, `healthy: ${JSON.stringify(health.issues)}`);
    console.log("health check: ok");
  } finally {
    await store.close();
  }
});
