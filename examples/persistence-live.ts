// A provider run persisted in SQLite, end to end: the adapter's events go through the manager's
// pipeline (validate, redact, sequence, write in batches) into the database file; `onEvent`
// gets each one once it is stored; and a second connection to the file — as another process
// would open it — follows the same log live.
//
// Checks: the session and run are stored `completed` with the provider, model, usage and cost
// the result reports; the run's stored usage is what its token_usage_updated events reported;
// the session's log is contiguous from 1; `onEvent`, the second connection's follower and a
// fresh read of the file saw the same events (ids and sequences); the health check is clean.
//
//   npx tsx examples/persistence-live.ts                    # a scripted Claude CLI
//   npx tsx examples/persistence-live.ts --provider claude  # the real claude CLI
import path from "node:path";
import type { AsmEvent, TokenUsage } from "agent-session-manager";
import { SessionManager, streamSessionEvents } from "agent-session-manager";
import { openSqliteStore } from "agent-session-manager/sqlite";
import { check, checkContiguous, createMainAgent, runExample, tempDir } from "./support.js";

runExample(async () => {
  const file = path.join(tempDir("persistence-live"), "asm.db");
  const store = await openSqliteStore({ path: file });
  const reader = await openSqliteStore({ path: file });
  try {
    const agent = createMainAgent({
      command: "ls",
      commandOutput: "src\n",
      thinkMs: 100,
      answer: "One folder: src.",
    });
    const manager = new SessionManager({ store, adapter: agent.adapter, redaction: true });
    const session = await manager.activateSession((await manager.startSession({ agentId: "persisted" })).id);

    // The follower reads through its own connection; it is woken when the writer commits.
    const followed: AsmEvent[] = [];
    const stop = new AbortController();
    const following = (async () => {
      for await (const event of streamSessionEvents(reader, session.id, {
        follow: true,
        signal: stop.signal,
      })) {
        followed.push(event);
        if (event.type === "run_completed" || event.type === "run_failed") stop.abort();
      }
    })();

    const listened: AsmEvent[] = [];
    const run = await manager.startRun(session.id, "Run `ls` and say what is there.");
    const result = await manager.executeRun(run.id, { onEvent: (event) => listened.push(event) });
    await following;
    await manager.completeSession(session.id);

    const stored = await store.getRun(run.id);
    console.log(
      `run ${stored.status} on ${stored.provider}, model ${stored.providerMetadata.model ?? "unnamed"}, cost ${stored.costUsd ?? "unknown"}`,
    );
    check(stored.status === "completed" && stored.provider === agent.adapter.name, "run stored completed");
    check(
      stored.costUsd === result.costUsd && stored.output?.content === result.output.content,
      "as the result says",
    );
    check(
      JSON.stringify(stored.tokenUsage) === JSON.stringify(result.tokenUsage),
      "usage as the result says",
    );

    const log = await store.getEvents(session.id, { limit: 1000 });
    checkContiguous(log, 1);
    const runEvents = log.filter((event) => event.runId === run.id);
    const reported = usageReported(runEvents);
    check(
      reported.inputTokens === stored.tokenUsage.inputTokens &&
        reported.outputTokens === stored.tokenUsage.outputTokens,
      `stored usage ${JSON.stringify(stored.tokenUsage)} is what the events reported ${JSON.stringify(reported)}`,
    );
    console.log(
      `usage: ${stored.tokenUsage.inputTokens} in, ${stored.tokenUsage.outputTokens} out (as its token_usage_updated events reported)`,
    );

    const key = (events: AsmEvent[]) =>
      events
        .filter((event) => event.runId === run.id)
        .map((event) => `${event.id}#${event.sequence}`)
        .join();
    check(key(listened) === key(runEvents), "onEvent saw the stored events");
    check(key(followed) === key(runEvents), "the second connection followed the same events");
    console.log(
      `log: ${log.length} events contiguous; onEvent ${listened.length}, follower on a second connection ${followed.filter((event) => event.runId === run.id).length}, file ${runEvents.length} — the same`,
    );

    const health = await store.maintenance.healthCheck();
    check(health.ok, `healthy: ${JSON.stringify(health.issues)}`);
    console.log(`session ${(await reader.getSession(session.id)).status}; health check: ok`);
  } finally {
    await reader.close();
    await store.close();
  }
});

/** The usage a run's events reported: the last cumulative figure, else the steps added up. */
function usageReported(events: readonly AsmEvent[]): Pick<TokenUsage, "inputTokens" | "outputTokens"> {
  const usage = events.flatMap((event) => (event.type === "token_usage_updated" ? [event.data] : []));
  const cumulative = usage.at(-1)?.cumulative;
  if (cumulative) return cumulative;
  return usage.reduce(
    (total, step) => ({
      inputTokens: total.inputTokens + step.inputTokens,
      outputTokens: total.outputTokens + step.outputTokens,
    }),
    { inputTokens: 0, outputTokens: 0 },
  );
}
