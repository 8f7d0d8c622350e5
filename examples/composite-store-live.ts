// One store object for both kinds of data: `createCompositeStore({ sessions, artifacts })` joins
// a session store (SQLite here) and an artifact store (files here; S3 in production) behind one
// interface — the manager writes sessions, runs and events through it, the application keeps
// artifacts (patches, exports, files) in it, and the SQL store's `query` and `maintenance` are
// there too.
//
// Checks: the run's session, run and events are in the SQLite part and read back through the
// composite; the session's export, put as an artifact through the composite, is in the file part
// with the SHA-256 of its bytes and reads back byte for byte; `query` answers through the
// composite; after `close()` both parts are closed and every call fails with `storage_error`.
//
//   npx tsx examples/composite-store-live.ts                  # a scripted Claude CLI
//   npx tsx examples/composite-store-live.ts --provider amp   # the real amp CLI
import { createHash } from "node:crypto";
import path from "node:path";
import { AsmError, SessionManager } from "agent-session-manager";
import { FileArtifactStore } from "agent-session-manager/artifacts/file";
import { createCompositeStore } from "agent-session-manager/composite";
import { openSqliteStore } from "agent-session-manager/sqlite";
import { check, createMainAgent, runExample, tempDir } from "./support.js";

runExample(async () => {
  const dir = tempDir("composite");
  const store = createCompositeStore({
    sessions: await openSqliteStore({ path: path.join(dir, "asm.db") }),
    artifacts: new FileArtifactStore({ root: path.join(dir, "artifacts") }),
  });
  const agent = createMainAgent({ answer: "Exported." });
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const result = await manager.runOnce("Say exported.", { tags: ["composite"] });

  // Sessions, runs and events went to SQLite; the composite reads them from there.
  const [direct, through] = await Promise.all([
    store.sessions.getEvents(result.sessionId, { limit: 1000 }),
    store.getEvents(result.sessionId, { limit: 1000 }),
  ]);
  check(
    direct.length > 0 && JSON.stringify(direct) === JSON.stringify(through),
    "events are in the SQLite part",
  );
  console.log(`sessions -> sqlite: session ${result.sessionId}, ${through.length} events`);

  // The SQL store's query API, through the composite.
  const found = await store.query.searchSessions({ tags: ["composite"] });
  check(
    found.items.some((session) => session.id === result.sessionId),
    "query through the composite",
  );
  const exported = await store.query.exportSession(result.sessionId);

  // An artifact: the session's export, kept beside it.
  const key = `exports/${result.sessionId}.json`;
  const body = JSON.stringify(exported);
  const info = await store.put(key, body, { contentType: "application/json" });
  const sha256 = createHash("sha256").update(body).digest("hex");
  check(info.sha256 === sha256 && info.size === Buffer.byteLength(body), "size and SHA-256 of the body");
  const fromFiles = await store.artifacts.get(key);
  check(Buffer.from(fromFiles).toString() === body, "the artifact is in the file part, byte for byte");
  const head = await store.head(key);
  console.log(
    `artifacts -> files: ${key} (${head?.size} bytes, ${head?.contentType}, sha256 ${head?.sha256.slice(0, 12)}…)`,
  );
  console.log(
    `export: ${exported.runs.length} run, ${exported.events.length} events, format ${exported.format}`,
  );

  await store.close();
  const failures = await Promise.all([
    store.getSession(result.sessionId).catch((error: unknown) => error),
    store.get(key).catch((error: unknown) => error),
    store.sessions.getSession(result.sessionId).catch((error: unknown) => error),
    store.artifacts.get(key).catch((error: unknown) => error),
  ]);
  check(
    failures.every((failure) => AsmError.is(failure)),
    "every part is closed",
  );
  check(
    AsmError.is(failures[0], "storage_error") && AsmError.is(failures[1], "storage_error"),
    "storage_error",
  );
  console.log(
    `after close: ${failures.map((failure) => (AsmError.is(failure) ? failure.code : "?")).join(", ")}`,
  );
});
