// Retention and maintenance (`store.maintenance` of the SQL stores): soft-delete sessions by age
// and status (a "pinned" tag exempts), hard-delete what was soft-deleted long enough ago, prune
// chatty event types down to the last N per session, check the database's integrity, and fail
// the runs a dead process left `running`.
//
// The sessions are real runs, aged by exporting them and importing them back with older
// timestamps (the stores take no clock to fake): completed 100 days ago, the same but pinned,
// failed 40 days ago, completed yesterday, and one soft-deleted 45 days ago.
//
// Checks: retention { completed: 90, failed: 30 days; hard delete after 30 days; keep the last
// token_usage_updated } soft-deletes exactly the old completed and the old failed session,
// hard-deletes exactly the long-deleted one (gone with its runs and events), keeps the pinned and
// the recent ones, prunes exactly the surplus events without renumbering the rest; the health
// check then finds no issue; a run whose owner process is dead is recovered as `failed`.
//
//   npx tsx examples/persistence-maintenance.ts                    # a scripted Claude CLI
//   npx tsx examples/persistence-maintenance.ts --provider codex   # the real codex CLI
import { hostname } from "node:os";
import type { RetentionPolicy } from "agent-session-manager";
import { AsmError, SessionManager } from "agent-session-manager";
import type { SqliteSessionStore } from "agent-session-manager/sqlite";
import { check, createMainAgent, openExampleStore, runExample } from "./support.js";

const DAY = 86_400_000;

runExample(async () => {
  const store = await openExampleStore("maintenance");
  try {
    const agent = createMainAgent({ command: "ls", commandOutput: "a.txt\n", answer: "Done." });
    const manager = new SessionManager({ store, adapter: agent.adapter });
    const session = async (name: string, tags: string[] = []) =>
      (await manager.runOnce(`Run ls (${name}).`, { agentId: name, tags })).sessionId;
    const oldCompleted = await session("old-completed");
    const oldPinned = await session("old-pinned", ["pinned"]);
    const recent = await session("recent");
    const trashed = await session("trashed");
    const failedSession = await manager.activateSession(
      (await manager.startSession({ agentId: "old-failed" })).id,
    );
    await manager.failSession(failedSession.id, new AsmError("provider_error", "gave up"));

    await age(store, oldCompleted, 100);
    await age(store, oldPinned, 100);
    await age(store, failedSession.id, 40);
    await age(store, recent, 1);
    await age(store, trashed, 60, 45);
    console.log(
      "seeded: completed 100 days ago, the same pinned, failed 40 days ago, completed yesterday, deleted 45 days ago",
    );

    const surplus = async (sessionId: string) =>
      Math.max(0, (await store.getEvents(sessionId, { types: ["token_usage_updated"] })).length - 1);
    const kept = [oldCompleted, oldPinned, recent, failedSession.id];
    let expectedPruned = 0;
    for (const id of kept) expectedPruned += await surplus(id);
    const sequencesBefore = await store.getEvents(recent, { limit: 1000 });

    const policy: RetentionPolicy = {
      maxAgeDays: { completed: 90, failed: 30 },
      hardDeleteAfterDays: 30,
      pruneEvents: { types: ["token_usage_updated"], keepLast: 1 },
    };
    const report = await store.maintenance.applyRetention(policy);
    console.log(
      `retention: ${report.sessionsSoftDeleted} soft-deleted, ${report.sessionsHardDeleted} hard-deleted, ${report.eventsPruned} events pruned`,
    );
    check(
      report.sessionsSoftDeleted === 2 && report.sessionsHardDeleted === 1,
      "2 soft-deleted, 1 hard-deleted",
    );
    check(report.eventsPruned === expectedPruned, `pruned ${expectedPruned} surplus events`);

    const visible = (await store.query.searchSessions({})).items.map((each) => each.agentId).sort();
    const all = await store.query.searchSessions({ includeDeleted: true });
    const softDeleted = all.items
      .filter((each) => each.deletedAt !== undefined)
      .map((each) => each.agentId)
      .sort();
    console.log(`visible: ${visible.join(", ")}; soft-deleted: ${softDeleted.join(", ")}`);
    check(
      visible.join() === "old-pinned,recent" && softDeleted.join() === "old-completed,old-failed",
      "kept/removed",
    );
    const gone = await store.getSession(trashed).catch((error: unknown) => error);
    check(AsmError.is(gone, "session_not_found"), "the hard-deleted session is gone");
    check((await store.listRuns(trashed)).length === 0, "with its runs");

    const after = await store.getEvents(recent, { limit: 1000 });
    const survivors = new Map(sequencesBefore.map((event) => [event.id, event.sequence]));
    check(
      after.every((event) => survivors.get(event.id) === event.sequence),
      "sequences never renumbered",
    );
    console.log(
      `recent session: ${sequencesBefore.length} -> ${after.length} events, sequences kept (#${after.map((event) => event.sequence).join(" #")})`,
    );

    const health = await store.maintenance.healthCheck();
    check(health.ok, `healthy: ${JSON.stringify(health.issues)}`);
    console.log(`health check: ok, ${health.issues.length} issues`);

    const orphan = await orphanedRun(store, manager);
    const recovery = await store.maintenance.recoverOrphanedRuns();
    const recovered = await store.getRun(orphan);
    check(
      recovery.recoveredRunIds.includes(orphan) && recovered.status === "failed",
      "the orphaned run failed",
    );
    console.log(`recovery: run of a dead process -> ${recovered.status} (${recovered.error?.message})`);
  } finally {
    await store.close();
  }
});

/** Moves a session's timestamps `days` back (and marks it soft-deleted `deletedDaysAgo` ago). */
async function age(store: SqliteSessionStore, sessionId: string, days: number, deletedDaysAgo?: number) {
  const exported = await store.query.exportSession(sessionId);
  const shift = (at: string) => new Date(Date.parse(at) - days * DAY).toISOString();
  const { session } = exported;
  await store.deleteSession(sessionId);
  await store.query.importSession({
    ...exported,
    session: {
      ...session,
      createdAt: shift(session.createdAt),
      updatedAt: shift(session.updatedAt),
      ...(deletedDaysAgo === undefined
        ? {}
        : { deletedAt: new Date(Date.now() - deletedDaysAgo * DAY).toISOString() }),
    },
  });
}

/** A run left `running` by a process that no longer exists (as after a crash); its id. */
async function orphanedRun(store: SqliteSessionStore, manager: SessionManager): Promise<string> {
  const session = await manager.activateSession((await manager.startSession({ agentId: "crashed" })).id);
  const run = await manager.startRun(session.id, "Never finished.");
  const exported = await store.query.exportSession(session.id);
  await store.deleteSession(session.id);
  const deadPid = 2 ** 22 + 1; // above Linux's pid_max: no such process
  await store.query.importSession({
    ...exported,
    runs: exported.runs.map((each) => ({
      ...each,
      status: "running",
      startedAt: new Date().toISOString(),
      owner: { hostname: hostname(), pid: deadPid },
    })),
  });
  return run.id;
}
