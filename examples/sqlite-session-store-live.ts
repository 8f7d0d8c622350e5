// The SQLite session store: one file holds sessions, runs and every session's event log. It is
// created (schema and all) on first open, assigns sequence numbers atomically — also between
// several connections (processes) writing to the same session at once — answers cursor queries,
// and keeps everything across a restart.
//
// Checks: a run through the manager lands in the file; two connections appending 20 events
// each at the same time get 40 distinct, contiguous sequences; appending an event id again
// returns the stored event (idempotent retry); after closing and reopening, the session, its
// runs and its log (same ids, same sequences) are all there and a cursor query resumes from the
// old cursor; `maintenance.healthCheck` finds nothing wrong.
//
//   npx tsx examples/sqlite-session-store-live.ts                    # a scripted Claude CLI
//   npx tsx examples/sqlite-session-store-live.ts --provider codex   # the real codex CLI
import path from "node:path";
import type { EventDraft } from "agent-session-manager";
import { SessionManager } from "agent-session-manager";
import { newId } from "agent-session-manager/core";
import { openSqliteStore } from "agent-session-manager/sqlite";
import { check, checkContiguous, createMainAgent, runExample, tempDir } from "./support.js";

const EACH = 20;

runExample(async () => {
  const file = path.join(tempDir("sqlite"), "asm.db");
  const agent = createMainAgent({ answer: "Stored." });

  const store = await openSqliteStore({ path: file });
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const result = await manager.runOnce("Say stored.", { tags: ["sqlite-demo"] });
  const { sessionId } = result;
  console.log(`run ${result.runId} completed into ${path.basename(file)}`);

  // A second connection to the same file, as another process would have; both append at once.
  const other = await openSqliteStore({ path: file });
  const note = (writer: string, index: number): EventDraft => ({
    id: newId("evt"),
    type: "message_received",
    sessionId,
    timestamp: new Date().toISOString(),
    data: { role: "assistant", content: `${writer} note ${index}` },
    metadata: {},
  });
  const before = await store.getLatestSequence(sessionId);
  const writes = [store, other].flatMap((writer, at) =>
    Array.from({ length: EACH }, (_, index) => writer.appendEvent(note(at === 0 ? "A" : "B", index))),
  );
  const appended = await Promise.all(writes);
  const sequences = appended.map((event) => event.sequence).sort((a, b) => a - b);
  check(new Set(sequences).size === 2 * EACH, "every append got its own sequence");
  check(sequences[0] === before + 1 && sequences.at(-1) === before + 2 * EACH, "no gap");
  console.log(
    `2 connections x ${EACH} concurrent appends: sequences ${before + 1}..${before + 2 * EACH}, all distinct`,
  );

  const first = appended[0];
  check(first !== undefined, "appended");
  const again = await other.appendEvent({ ...note("A", 0), id: first.id });
  check(
    again.sequence === first.sequence && again.id === first.id,
    "an id appended again is the stored event",
  );
  console.log(`appending ${first.id} again: the stored event #${again.sequence} (idempotent)`);
  const cursor = await store.getLatestSequence(sessionId);
  await other.close();
  await store.close();

  // A restart: everything is read back from the file.
  const reopened = await openSqliteStore({ path: file });
  try {
    const session = await reopened.getSession(sessionId);
    const runs = await reopened.listRuns(sessionId);
    const log = await reopened.getEvents(sessionId, { limit: 1000 });
    checkContiguous(log, 1);
    check(
      log.length === cursor && (await reopened.getLatestSequence(sessionId)) === cursor,
      "the whole log kept",
    );
    check(session.status === "completed" && runs[0]?.status === "completed", "session and run kept");
    console.log(
      `after reopening: session ${session.status} [${session.tags}], ${runs.length} run ${runs[0]?.status}, ${log.length} events 1..${cursor}`,
    );

    // A reader that stopped at sequence 10 before the restart resumes there.
    const page = await reopened.getEvents(sessionId, { after: 10, limit: 5 });
    check(page[0]?.sequence === 11 && page.length === 5, "a cursor resumes across a restart");
    console.log(`cursor 10 after the restart: #${page.map((event) => event.sequence).join(" #")}`);

    const health = await reopened.maintenance.healthCheck();
    check(health.ok, `health check: ${JSON.stringify(health.issues)}`);
    console.log(`health check: ok (${health.issues.length} issues)`);
  } finally {
    await reopened.close();
  }
});
