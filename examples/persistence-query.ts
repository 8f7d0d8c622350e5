// Questions across sessions, answered by the database (`store.query` of the SQL stores): search
// sessions by agent, status, provider and tag with keyset-cursor pages; usage and cost by
// provider and model; one session's stats; events across sessions; export and import.
//
// Seeds, per provider: a "reviewer" session tagged ci and a "fixer" session tagged nightly (each
// one run that calls the shell), plus one failed session.
//
// Checks: each filter finds exactly the sessions seeded for it; pages of 2 walk all sessions
// newest first without a duplicate; the usage summary counts every run, split by provider; the
// stats of a session count its run and events; an event search finds each run's tool call;
// an exported session imported into another store has the same events, ids and sequences.
//
//   npx tsx examples/persistence-query.ts                    # scripted Claude, Codex and Amp CLIs
//   npx tsx examples/persistence-query.ts --provider amp     # the real amp CLI
import { AsmError, SessionManager } from "agent-session-manager";
import { openSqliteStore } from "agent-session-manager/sqlite";
import { check, createAgents, openExampleStore, runExample } from "./support.js";

runExample(async () => {
  const store = await openExampleStore("query");
  try {
    const agents = createAgents({
      command: "git status",
      commandOutput: "clean\n",
      answer: "Nothing to do.",
    });
    for (const agent of agents) {
      const manager = new SessionManager({ store, adapter: agent.adapter });
      await manager.runOnce("Run `git status` and review.", { agentId: "reviewer", tags: ["ci"] });
      await manager.runOnce("Run `git status` and fix.", { agentId: "fixer", tags: ["nightly"] });
    }
    const [first] = agents;
    check(first !== undefined, "an agent");
    const manager = new SessionManager({ store, adapter: first.adapter });
    const broken = await manager.activateSession((await manager.startSession({ agentId: "fixer" })).id);
    await manager.failSession(broken.id, new AsmError("provider_error", "the fix did not apply"));
    const providers = agents.length;
    const total = 2 * providers + 1;

    const count = async (search: Parameters<typeof store.query.searchSessions>[0]) =>
      (await store.query.searchSessions(search)).items.length;
    const found = {
      reviewer: await count({ agentId: "reviewer" }),
      failed: await count({ status: "failed" }),
      ci: await count({ tags: ["ci"] }),
      provider: await count({ provider: first.provider }),
      completedFixer: await count({ agentId: "fixer", status: ["completed"] }),
    };
    console.log(
      `search: agent reviewer ${found.reviewer}, status failed ${found.failed}, tag ci ${found.ci}, provider ${first.provider} ${found.provider}, completed fixers ${found.completedFixer}`,
    );
    check(
      found.reviewer === providers && found.ci === providers && found.completedFixer === providers,
      "by agent/tag",
    );
    check(found.failed === 1 && found.provider === 2, "by status and provider");

    // Keyset pages: each page's cursor continues exactly after its last session.
    const seen: string[] = [];
    const created: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.query.searchSessions({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((session) => session.id));
      created.push(...page.items.map((session) => session.createdAt));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    check(seen.length === total && new Set(seen).size === total, "every session once");
    check(
      created.every((at, index) => index === 0 || at <= (created[index - 1] ?? at)),
      "newest first",
    );
    console.log(`pages of 2: ${pages} pages, ${seen.length} sessions, no duplicate`);

    const usage = await store.query.getUsageSummary();
    const byProvider = Object.entries(usage.byProvider).map(
      ([name, totals]) => `${name} ${totals.runCount} runs`,
    );
    console.log(
      `usage: ${usage.runCount} runs, ${usage.tokenUsage.inputTokens} input tokens; ${byProvider.join(", ")}`,
    );
    check(usage.runCount === 2 * providers, "every run counted");
    check(
      agents.every((agent) => usage.byProvider[agent.provider]?.runCount === 2),
      "split by provider",
    );

    const reviewer = (await store.query.searchSessions({ agentId: "reviewer", limit: 1 })).items[0];
    check(reviewer !== undefined, "a reviewer session");
    const stats = await store.query.getSessionStats(reviewer.id);
    const stored = await store.getEvents(reviewer.id, { limit: 1000 });
    check(stats.runCount === 1 && stats.eventCount === stored.length, "session stats");
    console.log(
      `stats of ${reviewer.id}: ${stats.runCount} run, ${stats.eventCount} events, providers ${stats.providers}`,
    );

    const tools = await store.query.searchEvents({ types: ["tool_call_completed"] });
    const runsWithTool = new Set(tools.items.map((event) => event.runId));
    console.log(
      `event search: ${tools.items.length} tool_call_completed events in ${runsWithTool.size} runs`,
    );
    if (agents.every((agent) => !agent.live))
      check(runsWithTool.size === 2 * providers, "each run's tool call");

    const exported = await store.query.exportSession(reviewer.id);
    const other = await openSqliteStore({ path: ":memory:" });
    try {
      await other.query.importSession(exported);
      const copy = await other.getEvents(reviewer.id, { limit: 1000 });
      const same = (event: { id: string; sequence: number }) => `${event.id}#${event.sequence}`;
      check(copy.map(same).join() === stored.map(same).join(), "the import keeps ids and sequences");
      console.log(`export -> import: ${exported.events.length} events, same ids and sequences`);
    } finally {
      await other.close();
    }
  } finally {
    await store.close();
  }
});
