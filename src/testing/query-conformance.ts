import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { hostname } from "node:os";
import { promisify } from "node:util";
import type { ErrorCode } from "../core/errors.js";
import type { AsmEvent, EventDraft, EventType } from "../core/events.js";
import type { Session } from "../core/session.js";
import type { DurableSessionStore } from "../ports/durable-store.js";
import type { Page, QueryApi, SessionExport } from "../ports/query-api.js";
import { rejectsWith } from "./assertions.js";
import { iso, makeRun, makeSession, saved, savedRun, uniqueId, untypedDraft } from "./fixtures.js";
import type { TestFramework } from "./session-store-conformance.js";
import { storeCase } from "./store-case.js";

/** How the suite gets stores to test. */
export interface QueryConformanceHarness {
  /** Names the suite's top-level `describe`. */
  name: string;
  /** A fresh, empty store that shares nothing with any other store `open` returned. */
  open(): Promise<DurableSessionStore>;
  /** Disposes of a store after a case (it may already be closed). Default: `store.close()`. */
  close?(store: DurableSessionStore): Promise<void>;
  /**
   * Optional: a second store on the same storage as `store` (another connection). Enables the
   * case where two connections recover the same runs at once. The suite closes it.
   */
  openPeer?(store: DurableSessionStore): Promise<DurableSessionStore>;
  /**
   * Optional: runs SQL on `store`'s database behind the store's back, with foreign-key checks
   * off, to plant the damage the health check must find. Enables the damage cases. The SQL
   * used is plain: `DELETE FROM events WHERE id = '…'`, `UPDATE sessions SET last_sequence = …`,
   * `DELETE FROM sessions WHERE id = '…'`.
   */
  execRaw?(store: DurableSessionStore, sql: string): Promise<void>;
}

/**
 * Defines the `QueryApi` and `Maintenance` contract as test cases in the caller's framework,
 * against the stores `harness` opens. Data is seeded through the `SessionStore` API with fixed
 * timestamps (retention cases use timestamps relative to now). Assertions use
 * `node:assert/strict`; nothing asserts on elapsed time. Give each test at least 30 s.
 *
 * Decisions the ports leave open and this suite pins down:
 * - Ties in a sort order are broken by id, in the order's direction.
 * - An empty `status`, `sessionIds`, `runIds`, `providers` or `types` list is `validation_error`
 *   (`invalid_event_type` for an unknown type); an empty `tags` list filters nothing.
 * - `unpricedRuns` counts finished (terminal) runs whose `costUsd` is null.
 * - Runs without a provider group under `"unknown"` in `byProvider`, as runs without a model do
 *   in `byModel`.
 * - `pruneEvents.keepLast` must be at least 1.
 * - Recovery fails a run without an owner, and leaves `running` runs owned by another host alone.
 */
export function defineQueryConformance(harness: QueryConformanceHarness, framework: TestFramework): void {
  const { describe, it } = framework;
  const dispose = (store: DurableSessionStore): Promise<void> =>
    harness.close ? harness.close(store) : store.close();
  const test = storeCase<DurableSessionStore>(it, () => harness.open(), dispose);
  const { openPeer, execRaw } = harness;

  describe(`${harness.name}: QueryApi and Maintenance conformance`, () => {
    describe("searchSessions", () => {
      test("filters by agent, status, provider, tags, creation window and deletion", async (store) => {
        const s1 = await saved(store, makeSession({ agentId: "a", tags: ["x", "y"], createdAt: iso(1000) }));
        const s2 = await saved(
          store,
          makeSession({ agentId: "a", status: "completed", tags: ["x"], createdAt: iso(2000) }),
        );
        const s3 = await saved(
          store,
          makeSession({ agentId: "b", status: "failed", tags: ["y", "x", "z"], createdAt: iso(3000) }),
        );
        const s4 = await saved(
          store,
          makeSession({ agentId: "a", tags: ["x", "y"], createdAt: iso(4000), deletedAt: iso(5000) }),
        );
        await savedRun(store, makeRun(s1.id, { provider: "claude" }));
        await savedRun(store, makeRun(s2.id, { provider: "codex" }));
        await savedRun(store, makeRun(s4.id, { provider: "claude" }));
        const search = store.query.searchSessions.bind(store.query);

        assert.deepEqual((await search()).items, [s3, s2, s1], "newest first, soft-deleted left out");
        assert.deepEqual(ids(await search({ includeDeleted: true })), ids([s4, s3, s2, s1]));
        assert.deepEqual(ids(await search({ agentId: "a" })), ids([s2, s1]));
        assert.deepEqual(ids(await search({ status: "active" })), ids([s1]));
        assert.deepEqual(ids(await search({ status: ["active", "failed"] })), ids([s3, s1]));
        assert.deepEqual(ids(await search({ provider: "claude" })), ids([s1]));
        assert.deepEqual(ids(await search({ provider: "claude", includeDeleted: true })), ids([s4, s1]));
        assert.deepEqual(ids(await search({ provider: "nobody" })), []);
        assert.deepEqual(ids(await search({ tags: ["x", "y"] })), ids([s3, s1]));
        assert.deepEqual(ids(await search({ tags: ["z"] })), ids([s3]));
        assert.deepEqual(ids(await search({ tags: ["x", "missing"] })), []);
        assert.deepEqual(ids(await search({ tags: [] })), ids([s3, s2, s1]));
        assert.deepEqual(
          ids(await search({ createdAfter: iso(2000), createdBefore: iso(3000) })),
          ids([s3, s2]),
        );
        assert.deepEqual(ids(await search({ createdAfter: iso(2001) })), ids([s3]));
        assert.deepEqual(
          ids(await search({ agentId: "a", tags: ["y"], includeDeleted: true })),
          ids([s4, s1]),
        );
        assert.deepEqual(ids(await search({ orderBy: "created_asc" })), ids([s1, s2, s3]));
        assert.equal((await search({ limit: 2 })).items.length, 2);
      });

      test("orders by last update with updated_desc", async (store) => {
        const older = await saved(store, makeSession({ createdAt: iso(1000), updatedAt: iso(9000) }));
        const newer = await saved(store, makeSession({ createdAt: iso(2000), updatedAt: iso(3000) }));
        assert.deepEqual(
          ids(await store.query.searchSessions({ orderBy: "updated_desc" })),
          ids([older, newer]),
        );
        assert.deepEqual(ids(await store.query.searchSessions()), ids([newer, older]));
      });

      test("pages over equal timestamps return every session exactly once, in every order", async (store) => {
        const sessions: Session[] = [];
        for (let index = 0; index < 7; index++) {
          sessions.push(await saved(store, makeSession({ createdAt: iso(1000), updatedAt: iso(1000) })));
        }
        const ascending = ids(sessions).sort();
        for (const orderBy of ["created_desc", "created_asc", "updated_desc"] as const) {
          const pages = await allPages((cursor) =>
            store.query.searchSessions({ orderBy, limit: 3, ...(cursor ? { cursor } : {}) }),
          );
          assert.deepEqual(
            pages.map((page) => page.length),
            [3, 3, 1],
            orderBy,
          );
          const seen = pages.flat().map(({ id }) => id);
          assert.deepEqual(seen, orderBy === "created_asc" ? ascending : [...ascending].reverse(), orderBy);
        }
        // A last page that is exactly full has no cursor: no empty page follows.
        const exact = await allPages((cursor) =>
          store.query.searchSessions({ limit: 7, ...(cursor ? { cursor } : {}) }),
        );
        assert.deepEqual(
          exact.map((page) => page.length),
          [7],
        );
      });

      test("a cursor keeps its place while sessions are added", async (store) => {
        const first = await saved(store, makeSession({ createdAt: iso(3000) }));
        const second = await saved(store, makeSession({ createdAt: iso(2000) }));
        const third = await saved(store, makeSession({ createdAt: iso(1000) }));
        const page = await store.query.searchSessions({ limit: 1 });
        assert.deepEqual(ids(page), ids([first]));
        await saved(store, makeSession({ createdAt: iso(9000) }));
        const rest = await store.query.searchSessions({ cursor: required(page.nextCursor) });
        assert.deepEqual(ids(rest), ids([second, third]));
        assert.equal(rest.nextCursor, undefined);
      });

      test("matches tags literally, whatever characters they hold", async (store) => {
        const odd = ['quote"d', "50%", "under_score", "back\\slash", "[1,2]"];
        const tagged = await saved(store, makeSession({ tags: odd }));
        const plain = await saved(store, makeSession({ tags: ["a", "50"] }));
        for (const tag of odd)
          assert.deepEqual(ids(await store.query.searchSessions({ tags: [tag] })), ids([tagged]));
        assert.deepEqual(ids(await store.query.searchSessions({ tags: odd })), ids([tagged]));
        assert.deepEqual(ids(await store.query.searchSessions({ tags: ["5%"] })), []);
        assert.deepEqual(ids(await store.query.searchSessions({ tags: ["a"] })), ids([plain]));
      });

      test("limits default to 50 and allow 1 to 1000", async (store) => {
        for (let index = 0; index < 55; index++) await saved(store, makeSession({ createdAt: iso(index) }));
        const page = await store.query.searchSessions();
        assert.equal(page.items.length, 50);
        assert.ok(page.nextCursor);
        assert.equal((await store.query.searchSessions({ limit: 1000 })).items.length, 55);
        for (const limit of [0, 1001, 1.5, -1]) {
          await rejectsWith(store.query.searchSessions({ limit }), "validation_error", { field: "limit" });
        }
      });

      test("refuses malformed searches and foreign or garbled cursors", async (store) => {
        for (let index = 0; index < 3; index++) await saved(store, makeSession({ createdAt: iso(index) }));
        const { nextCursor } = await store.query.searchSessions({ limit: 1 });
        const cursor = required(nextCursor);
        await rejectsWith(store.query.searchSessions({ orderBy: "created_asc", cursor }), "invalid_cursor");
        for (const garbage of ["not a cursor", "e30", "", Buffer.from("[1]").toString("base64url")]) {
          await rejectsWith(store.query.searchSessions({ cursor: garbage }), "invalid_cursor", {}, garbage);
        }
        const eventCursor = Buffer.from(
          JSON.stringify({ o: "timestamp_asc", v: iso(0), id: "evt_1" }),
        ).toString("base64url");
        await rejectsWith(store.query.searchSessions({ cursor: eventCursor }), "invalid_cursor");
        await rejectsWith(store.query.searchSessions(untyped({ status: "bogus" })), "validation_error");
        await rejectsWith(store.query.searchSessions({ status: [] }), "validation_error");
        await rejectsWith(store.query.searchSessions(untyped({ orderBy: "name" })), "validation_error");
        await rejectsWith(store.query.searchSessions({ createdAfter: "yesterday" }), "validation_error", {
          field: "createdAfter",
        });
        await rejectsWith(store.query.searchSessions(untyped({ tags: "x" })), "validation_error");
      });
    });

    describe("getSessionStats", () => {
      test("counts runs by status, events, tokens, cost, providers and duration", async (store) => {
        const session = await saved(store, makeSession());
        await savedRun(
          store,
          makeRun(session.id, {
            status: "completed",
            provider: "claude",
            tokenUsage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 10 },
            costUsd: 0.5,
            createdAt: iso(100),
            startedAt: iso(100),
            endedAt: iso(200),
          }),
        );
        await savedRun(
          store,
          makeRun(session.id, {
            status: "failed",
            provider: "codex",
            tokenUsage: { inputTokens: 5, outputTokens: 1 },
            createdAt: iso(300),
            startedAt: iso(300),
            endedAt: iso(400),
          }),
        );
        await savedRun(
          store,
          makeRun(session.id, {
            status: "running",
            provider: "claude",
            tokenUsage: { inputTokens: 1, outputTokens: 1, reasoningTokens: 7 },
            createdAt: iso(500),
            startedAt: iso(500),
          }),
        );
        await savedRun(store, makeRun(session.id, { createdAt: iso(600) }));
        await store.appendEvents([
          draft(session.id, { timestamp: iso(150) }),
          draft(session.id, { timestamp: iso(160) }),
          draft(session.id, { timestamp: iso(450) }),
        ]);
        const other = await saved(store, makeSession());
        await savedRun(store, makeRun(other.id, { status: "completed", provider: "amp", costUsd: 1 }));
        await store.appendEvent(draft(other.id, { timestamp: iso(1) }));

        assert.deepEqual(await store.query.getSessionStats(session.id), {
          sessionId: session.id,
          runCount: 4,
          runStatuses: { completed: 1, failed: 1, running: 1, pending: 1 },
          eventCount: 3,
          tokenUsage: { inputTokens: 106, outputTokens: 52, cacheReadTokens: 10, reasoningTokens: 7 },
          costUsd: 0.5,
          unpricedRuns: 1,
          providers: ["claude", "codex"],
          firstEventAt: iso(150),
          lastEventAt: iso(450),
          durationMs: 300,
        });
      });

      test("a session without runs or events has zeros and no optional fields", async (store) => {
        const session = await saved(store, makeSession());
        assert.deepEqual(await store.query.getSessionStats(session.id), {
          sessionId: session.id,
          runCount: 0,
          runStatuses: {},
          eventCount: 0,
          tokenUsage: { inputTokens: 0, outputTokens: 0 },
          costUsd: 0,
          unpricedRuns: 0,
          providers: [],
        });
        await rejectsWith(store.query.getSessionStats("ses_missing"), "session_not_found", {
          sessionId: "ses_missing",
        });
      });
    });

    describe("getUsageSummary", () => {
      test("totals usage and cost, by provider and by model, within the filters", async (store) => {
        const a = await saved(store, makeSession({ agentId: "agent-a" }));
        const b = await saved(store, makeSession({ agentId: "agent-b" }));
        const runs = [
          makeRun(a.id, {
            status: "completed",
            provider: "claude",
            providerMetadata: { model: "opus" },
            tokenUsage: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 1000, cacheWriteTokens: 50 },
            costUsd: 0.5,
            createdAt: iso(1000),
          }),
          makeRun(a.id, {
            status: "completed",
            provider: "claude",
            providerMetadata: { model: "haiku" },
            tokenUsage: { inputTokens: 10, outputTokens: 1 },
            costUsd: 0.25,
            createdAt: iso(2000),
          }),
          makeRun(b.id, {
            status: "completed",
            provider: "codex",
            providerMetadata: { model: "gpt" },
            tokenUsage: { inputTokens: 7, outputTokens: 3, reasoningTokens: 2 },
            createdAt: iso(3000),
          }),
          makeRun(b.id, {
            status: "failed",
            provider: "shell",
            tokenUsage: { inputTokens: 0, outputTokens: 0 },
            createdAt: iso(4000),
          }),
          makeRun(b.id, { createdAt: iso(5000) }),
        ];
        for (const run of runs) await savedRun(store, run);

        const summary = await store.query.getUsageSummary();
        assert.deepEqual(
          { ...summary, byProvider: undefined, byModel: undefined },
          {
            runCount: 5,
            tokenUsage: {
              inputTokens: 117,
              outputTokens: 14,
              cacheReadTokens: 1000,
              cacheWriteTokens: 50,
              reasoningTokens: 2,
            },
            costUsd: 0.75,
            unpricedRuns: 2,
            byProvider: undefined,
            byModel: undefined,
          },
        );
        assert.deepEqual(summary.byProvider, {
          claude: {
            runCount: 2,
            tokenUsage: { inputTokens: 110, outputTokens: 11, cacheReadTokens: 1000, cacheWriteTokens: 50 },
            costUsd: 0.75,
            unpricedRuns: 0,
          },
          codex: {
            runCount: 1,
            tokenUsage: { inputTokens: 7, outputTokens: 3, reasoningTokens: 2 },
            costUsd: 0,
            unpricedRuns: 1,
          },
          shell: {
            runCount: 1,
            tokenUsage: { inputTokens: 0, outputTokens: 0 },
            costUsd: 0,
            unpricedRuns: 1,
          },
          unknown: {
            runCount: 1,
            tokenUsage: { inputTokens: 0, outputTokens: 0 },
            costUsd: 0,
            unpricedRuns: 0,
          },
        });
        assert.deepEqual(Object.keys(summary.byModel).sort(), ["gpt", "haiku", "opus", "unknown"]);
        assert.deepEqual(summary.byModel.opus, {
          runCount: 1,
          tokenUsage: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 1000, cacheWriteTokens: 50 },
          costUsd: 0.5,
          unpricedRuns: 0,
        });
        assert.equal(summary.byModel.unknown?.runCount, 2);

        const totals = async (filter: Parameters<QueryApi["getUsageSummary"]>[0]) => {
          const { runCount, costUsd } = await store.query.getUsageSummary(filter);
          return { runCount, costUsd };
        };
        assert.deepEqual(await totals({ sessionId: a.id }), { runCount: 2, costUsd: 0.75 });
        assert.deepEqual(await totals({ agentId: "agent-b" }), { runCount: 3, costUsd: 0 });
        assert.deepEqual(await totals({ provider: "claude" }), { runCount: 2, costUsd: 0.75 });
        assert.deepEqual(await totals({ since: iso(2000), until: iso(3000) }), {
          runCount: 2,
          costUsd: 0.25,
        });
        assert.deepEqual(await store.query.getUsageSummary({ agentId: "nobody" }), {
          runCount: 0,
          tokenUsage: { inputTokens: 0, outputTokens: 0 },
          costUsd: 0,
          unpricedRuns: 0,
          byProvider: {},
          byModel: {},
        });
        await rejectsWith(store.query.getUsageSummary({ since: "soon" }), "validation_error", {
          field: "since",
        });
      });
    });

    describe("searchEvents", () => {
      test("filters by session, run, type, provider and time window, in either order", async (store) => {
        const a = await saved(store, makeSession());
        const b = await saved(store, makeSession());
        const run = makeRun(a.id, { provider: "claude" });
        await savedRun(store, run);
        const [e1, e2, e3] = await store.appendEvents([
          draft(a.id, { timestamp: iso(100), runId: run.id, provider: "claude", type: "run_started" }),
          draft(a.id, { timestamp: iso(200), runId: run.id, provider: "claude" }),
          draft(a.id, { timestamp: iso(300) }),
        ]);
        const [e4] = await store.appendEvents([draft(b.id, { timestamp: iso(250), provider: "codex" })]);
        const search = async (criteria: Parameters<QueryApi["searchEvents"]>[0]) =>
          (await store.query.searchEvents(criteria)).items;

        assert.deepEqual(await search({}), [e1, e2, e4, e3]);
        assert.deepEqual(await search({ orderBy: "timestamp_desc" }), [e3, e4, e2, e1]);
        assert.deepEqual(await search({ sessionIds: [b.id] }), [e4]);
        assert.deepEqual(await search({ sessionIds: [a.id, b.id], limit: 2 }), [e1, e2]);
        assert.deepEqual(await search({ runIds: [run.id] }), [e1, e2]);
        assert.deepEqual(await search({ types: ["run_started"] }), [e1]);
        assert.deepEqual(await search({ providers: ["claude", "codex"] }), [e1, e2, e4]);
        assert.deepEqual(await search({ since: iso(200), until: iso(250) }), [e2, e4]);
        assert.deepEqual(await search({ runIds: ["run_none"] }), []);
      });

      test("pages over equal timestamps return every event exactly once, in either order", async (store) => {
        const a = await saved(store, makeSession());
        const b = await saved(store, makeSession());
        const events: AsmEvent[] = [];
        for (let index = 0; index < 7; index++) {
          events.push(await store.appendEvent(draft(index % 2 === 0 ? a.id : b.id, { timestamp: iso(500) })));
        }
        const ascending = events.map(({ id }) => id).sort();
        for (const orderBy of ["timestamp_asc", "timestamp_desc"] as const) {
          const pages = await allPages((cursor) =>
            store.query.searchEvents({ orderBy, limit: 2, ...(cursor ? { cursor } : {}) }),
          );
          assert.deepEqual(
            pages.map((page) => page.length),
            [2, 2, 2, 1],
          );
          const seen = pages.flat().map(({ id }) => id);
          assert.deepEqual(seen, orderBy === "timestamp_asc" ? ascending : [...ascending].reverse());
        }
      });

      test("refuses malformed searches and foreign cursors", async (store) => {
        const session = await saved(store, makeSession());
        await store.appendEvents([draft(session.id), draft(session.id)]);
        const { nextCursor } = await store.query.searchEvents({ limit: 1 });
        const cursor = required(nextCursor);
        await rejectsWith(store.query.searchEvents({ orderBy: "timestamp_desc", cursor }), "invalid_cursor");
        await rejectsWith(store.query.searchSessions({ cursor }), "invalid_cursor");
        await rejectsWith(store.query.searchEvents({ cursor: "%%%" }), "invalid_cursor");
        await rejectsWith(store.query.searchEvents({ types: untyped(["nonsense"]) }), "invalid_event_type");
        await rejectsWith(store.query.searchEvents({ sessionIds: [] }), "validation_error");
        await rejectsWith(store.query.searchEvents({ limit: 1001 }), "validation_error");
        assert.equal((await store.query.searchEvents()).items.length, 2);
      });
    });

    describe("exportSession and importSession", () => {
      test("an export holds the session, its runs oldest first, every event and its artifact keys", async (store) => {
        const session = await saved(store, makeSession({ tags: ["t"], metadata: { k: [1, { v: true }] } }));
        const later = makeRun(session.id, { status: "completed", createdAt: iso(2000), costUsd: 0.5 });
        const earlier = makeRun(session.id, {
          status: "failed",
          createdAt: iso(1000),
          error: { code: "provider_error", message: "no" },
          owner: { hostname: "h", pid: 1 },
        });
        await savedRun(store, later);
        await savedRun(store, earlier);
        const events = await store.appendEvents([
          draft(session.id, { runId: earlier.id }),
          untypedDraft({
            id: uniqueId("evt"),
            type: "workspace_diff_computed",
            sessionId: session.id,
            timestamp: iso(10),
            data: {
              filesChanged: 1,
              insertions: 2,
              deletions: 0,
              hasPatch: true,
              patchRef: "patches/a.diff",
            },
            metadata: {},
          }),
          untypedDraft({
            id: uniqueId("evt"),
            type: "message_received",
            sessionId: session.id,
            timestamp: iso(20),
            data: { role: "assistant", content: "see file", artifactKey: "files/report.md" },
            metadata: {},
          }),
          untypedDraft({
            id: uniqueId("evt"),
            type: "message_received",
            sessionId: session.id,
            timestamp: iso(30),
            data: { role: "assistant", content: "again", artifactKey: "files/report.md" },
            metadata: {},
          }),
        ]);
        await saved(store, makeSession());

        const exported = await store.query.exportSession(session.id);
        assert.equal(exported.format, "agent-session-manager/session");
        assert.equal(exported.version, 1);
        assert.ok(!Number.isNaN(Date.parse(exported.exportedAt)));
        assert.deepEqual(exported.session, session);
        assert.deepEqual(exported.runs, [earlier, later]);
        assert.deepEqual(exported.events, events);
        assert.deepEqual(exported.artifacts, [{ key: "patches/a.diff" }, { key: "files/report.md" }]);
        assert.deepEqual(JSON.parse(JSON.stringify(exported)), exported, "an export is plain JSON");
        await rejectsWith(store.query.exportSession("ses_missing"), "session_not_found");
      });

      test("an import writes the export exactly, and the log goes on from its highest sequence", async (store) => {
        const { exported } = await seedSessionWithHistory(store);
        const target = await harness.open();
        try {
          assert.deepEqual(await target.query.importSession(exported), { sessionId: exported.session.id });
          const again = await target.query.exportSession(exported.session.id);
          assert.deepEqual({ ...again, exportedAt: exported.exportedAt }, exported);
          assert.deepEqual(await target.getSession(exported.session.id), exported.session);
          assert.deepEqual(await target.getEvents(exported.session.id, { limit: 1000 }), exported.events);
          const highest = exported.events.at(-1)?.sequence ?? 0;
          assert.equal(await target.getLatestSequence(exported.session.id), highest);
          assert.equal((await target.appendEvent(draft(exported.session.id))).sequence, highest + 1);
          // The pruned gaps the export carries are not damage.
          assert.deepEqual((await target.maintenance.healthCheck()).issues, []);
        } finally {
          await dispose(target);
        }
      });

      test("an import refuses a stored session id as already_exists and writes nothing", async (store) => {
        const { exported } = await seedSessionWithHistory(store);
        await rejectsWith(store.query.importSession(exported), "already_exists", {
          sessionId: exported.session.id,
        });
        // A new session id whose event ids are taken: refused as a whole, nothing half-written.
        const clash = withSessionId(exported, "ses_clash");
        await rejectsWith(store.query.importSession(clash), "already_exists", { sessionId: "ses_clash" });
        await rejectsWith(store.getSession("ses_clash"), "session_not_found");
        assert.deepEqual((await store.maintenance.healthCheck()).issues, []);
      });

      test("an import refuses a malformed export as validation_error and writes nothing", async (store) => {
        const { exported } = await seedSessionWithHistory(store);
        const fresh = withFreshIds(exported, "ses_malformed");
        const [first, second] = fresh.events;
        const malformed: unknown[] = [
          { ...fresh, format: "something-else" },
          { ...fresh, version: 2 },
          { ...fresh, session: { ...fresh.session, status: "sleeping" } },
          { ...fresh, runs: fresh.runs.map((run) => ({ ...run, sessionId: "ses_other" })) },
          { ...fresh, events: [second, first, ...fresh.events.slice(2)] },
          { ...fresh, events: fresh.events.map((event) => ({ ...event, type: "made_up" })) },
          { ...fresh, events: fresh.events.map((event) => ({ ...event, timestamp: "noon" })) },
          { ...fresh, events: undefined },
          null,
          "export",
        ];
        for (const data of malformed) {
          await rejectsWith(
            store.query.importSession(untyped(data)),
            "validation_error",
            {},
            JSON.stringify(data)?.slice(0, 80),
          );
        }
        await rejectsWith(store.getSession("ses_malformed"), "session_not_found");
        assert.deepEqual(await store.query.importSession(fresh), { sessionId: "ses_malformed" });
      });
    });

    describe("applyRetention", () => {
      test("soft-deletes old sessions per status, sparing exempt tags and the already deleted", async (store) => {
        const old = await saved(store, makeSession({ status: "completed", updatedAt: daysAgo(100) }));
        const pinned = await saved(
          store,
          makeSession({ status: "completed", updatedAt: daysAgo(100), tags: ["x", "pinned"] }),
        );
        const recent = await saved(store, makeSession({ status: "completed", updatedAt: daysAgo(10) }));
        const failed = await saved(store, makeSession({ status: "failed", updatedAt: daysAgo(40) }));
        const active = await saved(store, makeSession({ status: "active", updatedAt: daysAgo(400) }));
        const gone = await saved(
          store,
          makeSession({ status: "completed", updatedAt: daysAgo(200), deletedAt: daysAgo(150) }),
        );

        const report = await store.maintenance.applyRetention({ maxAgeDays: { completed: 90, failed: 30 } });
        assert.deepEqual(
          { ...report, durationMs: 0 },
          { sessionsSoftDeleted: 2, sessionsHardDeleted: 0, eventsPruned: 0, durationMs: 0 },
        );
        assert.ok(Number.isInteger(report.durationMs) && report.durationMs >= 0);
        for (const session of [old, failed]) assert.ok((await store.getSession(session.id)).deletedAt);
        for (const session of [pinned, recent, active]) {
          assert.equal((await store.getSession(session.id)).deletedAt, undefined, session.id);
        }
        assert.equal(
          (await store.getSession(gone.id)).deletedAt,
          gone.deletedAt,
          "an earlier deletion stands",
        );
        assert.deepEqual(
          ids(await store.query.searchSessions({ orderBy: "created_asc" })).sort(),
          ids([pinned, recent, active]).sort(),
        );

        const custom = await store.maintenance.applyRetention({
          maxAgeDays: { completed: 90 },
          exemptTags: ["x-not-used"],
        });
        assert.equal(custom.sessionsSoftDeleted, 1, "pinned is only exempt by default");
        assert.ok((await store.getSession(pinned.id)).deletedAt);
      });

      test("hard-deletes sessions soft-deleted long enough ago, with their runs and events", async (store) => {
        const doomed = await saved(store, makeSession({ deletedAt: daysAgo(40) }));
        const run = makeRun(doomed.id);
        await savedRun(store, run);
        await store.appendEvents([draft(doomed.id, { runId: run.id }), draft(doomed.id)]);
        const recent = await saved(store, makeSession({ deletedAt: daysAgo(5) }));
        const live = await saved(store, makeSession({ updatedAt: daysAgo(1000) }));

        const report = await store.maintenance.applyRetention({ hardDeleteAfterDays: 30 });
        assert.equal(report.sessionsHardDeleted, 1);
        assert.equal(report.sessionsSoftDeleted, 0);
        await rejectsWith(store.getSession(doomed.id), "session_not_found");
        await rejectsWith(store.getRun(run.id), "run_not_found");
        assert.deepEqual(await store.query.searchEvents({ sessionIds: [doomed.id] }), { items: [] });
        assert.ok((await store.getSession(recent.id)).deletedAt);
        assert.deepEqual(await store.getSession(live.id), live);
        assert.deepEqual((await store.maintenance.healthCheck()).issues, []);
      });

      test("prunes all but the newest events of the listed types per session, never renumbering", async (store) => {
        const a = await saved(store, makeSession());
        const b = await saved(store, makeSession());
        const types: EventType[] = [
          "run_started",
          "message_streamed",
          "token_usage_updated",
          "message_streamed",
          "message_streamed",
          "token_usage_updated",
          "message_streamed",
          "message_received",
        ];
        const logA = await store.appendEvents(types.map((type) => draft(a.id, { type })));
        const logB = await store.appendEvents(
          (["message_streamed", "message_streamed", "run_started"] as const).map((type) =>
            draft(b.id, { type }),
          ),
        );

        const report = await store.maintenance.applyRetention({
          pruneEvents: { types: ["message_streamed", "token_usage_updated"], keepLast: 1 },
        });
        // a: 4 streamed keep 1 (3 pruned), 2 usage keep 1 (1 pruned); b: 2 streamed keep 1.
        assert.equal(report.eventsPruned, 5);
        assert.deepEqual(sequences(await store.getEvents(a.id)), [1, 6, 7, 8]);
        assert.deepEqual(await store.getEvents(a.id), [logA[0], logA[5], logA[6], logA[7]]);
        assert.deepEqual(await store.getEvents(b.id), [logB[1], logB[2]]);
        assert.equal(await store.getLatestSequence(a.id), 8);
        assert.equal(
          (await store.appendEvent(draft(a.id))).sequence,
          9,
          "appends continue after the old max",
        );
        assert.deepEqual((await store.maintenance.healthCheck()).issues, [], "pruned gaps are not damage");

        const again = await store.maintenance.applyRetention({
          pruneEvents: { types: ["message_streamed"], keepLast: 1 },
        });
        assert.equal(again.eventsPruned, 1, "the streamed event of sequence 7 goes once 9 is newer");
        assert.deepEqual(sequences(await store.getEvents(a.id)), [1, 6, 8, 9]);
        assert.deepEqual((await store.maintenance.healthCheck()).issues, []);
      });

      test("does nothing without rules, and refuses malformed policies", async (store) => {
        const session = await saved(store, makeSession({ status: "completed", updatedAt: daysAgo(1000) }));
        await store.appendEvents([draft(session.id), draft(session.id)]);
        const report = await store.maintenance.applyRetention({});
        assert.deepEqual(
          { ...report, durationMs: 0 },
          { sessionsSoftDeleted: 0, sessionsHardDeleted: 0, eventsPruned: 0, durationMs: 0 },
        );
        const bad: [unknown, ErrorCode][] = [
          [{ pruneEvents: { types: ["message_streamed"], keepLast: 0 } }, "validation_error"],
          [{ pruneEvents: { types: [], keepLast: 1 } }, "validation_error"],
          [{ pruneEvents: { types: ["made_up"], keepLast: 1 } }, "invalid_event_type"],
          [{ maxAgeDays: { completed: -1 } }, "validation_error"],
          [{ maxAgeDays: { sleeping: 3 } }, "validation_error"],
          [{ hardDeleteAfterDays: "30" }, "validation_error"],
          [{ exemptTags: "pinned" }, "validation_error"],
          [null, "validation_error"],
        ];
        for (const [policy, code] of bad) {
          await rejectsWith(
            store.maintenance.applyRetention(untyped(policy)),
            code,
            {},
            JSON.stringify(policy),
          );
        }
        assert.deepEqual(await store.getSession(session.id), session);
        assert.equal((await store.getEvents(session.id)).length, 2);
      });
    });

    describe("healthCheck", () => {
      test("a store written through its API is healthy", async (store) => {
        await seedSessionWithHistory(store);
        const empty = await saved(store, makeSession());
        const report = await store.maintenance.healthCheck();
        assert.deepEqual(report.issues, []);
        assert.equal(report.ok, true);
        assert.ok(!Number.isNaN(Date.parse(report.checkedAt)));
        assert.equal((await store.query.getSessionStats(empty.id)).eventCount, 0);
      });

      test("reports runs running for longer than stuckAfterMs", async (store) => {
        const session = await saved(store, makeSession());
        // Owned by this live process, so recovery would leave it alone: it is stuck, not orphaned.
        const run = makeRun(session.id, {
          status: "running",
          owner: { hostname: hostname(), pid: process.pid },
          startedAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
        });
        await savedRun(store, run);
        await savedRun(
          store,
          makeRun(session.id, { status: "running", startedAt: new Date().toISOString() }),
        );
        const report = await store.maintenance.healthCheck();
        assert.equal(report.ok, false);
        assert.deepEqual(
          report.issues.map(({ kind, sessionId, runId }) => ({ kind, sessionId, runId })),
          [{ kind: "stuck_run", sessionId: session.id, runId: run.id }],
        );
        assert.deepEqual((await store.maintenance.healthCheck({ stuckAfterMs: 3 * 3_600_000 })).issues, []);
        await rejectsWith(store.maintenance.healthCheck({ stuckAfterMs: -1 }), "validation_error");
      });

      test("reports events that refer to a run that is not stored", async (store) => {
        const session = await saved(store, makeSession());
        await store.appendEvents([
          draft(session.id, { runId: "run_ghost" }),
          draft(session.id, { runId: "run_ghost" }),
        ]);
        const { issues } = await store.maintenance.healthCheck();
        assert.equal(issues.length, 1);
        assert.deepEqual(
          { ...issues[0], message: undefined },
          { kind: "orphaned_event", sessionId: session.id, runId: "run_ghost", message: undefined },
        );
        assert.match(issues[0]?.message ?? "", /2 events/);
      });

      if (execRaw !== undefined) {
        test("finds gaps, counter mismatches and orphans planted behind the store's back", async (store) => {
          const gappy = await saved(store, makeSession());
          const events = await store.appendEvents([draft(gappy.id), draft(gappy.id), draft(gappy.id)]);
          await execRaw(store, `DELETE FROM events WHERE id = '${events[1]?.id}'`);
          const behind = await saved(store, makeSession());
          await store.appendEvents([draft(behind.id), draft(behind.id)]);
          await execRaw(store, `UPDATE sessions SET last_sequence = 1 WHERE id = '${behind.id}'`);
          const lost = await saved(store, makeSession());
          const run = makeRun(lost.id);
          await savedRun(store, run);
          await store.appendEvents([draft(lost.id, { runId: run.id }), draft(lost.id)]);
          await execRaw(store, `DELETE FROM sessions WHERE id = '${lost.id}'`);

          const report = await store.maintenance.healthCheck();
          assert.equal(report.ok, false);
          const found = report.issues.map(
            ({ kind, sessionId, runId }) => `${kind} ${sessionId} ${runId ?? "-"}`,
          );
          assert.deepEqual(found.sort(), [
            `orphaned_event ${lost.id} -`,
            `orphaned_run ${lost.id} ${run.id}`,
            `sequence_counter_mismatch ${behind.id} -`,
            `sequence_gap ${gappy.id} -`,
          ]);
        });
      }
    });

    describe("recoverOrphanedRuns", () => {
      test("fails running runs whose owner died, leaving live and remote owners alone", async (store) => {
        const session = await saved(store, makeSession());
        const deadPid = await exitedProcessId();
        const here = hostname();
        const dead = makeRun(session.id, {
          status: "running",
          provider: "claude",
          owner: { hostname: here, pid: deadPid },
          startedAt: iso(100),
        });
        const ownerless = makeRun(session.id, { status: "running", startedAt: iso(100) });
        const live = makeRun(session.id, { status: "running", owner: { hostname: here, pid: process.pid } });
        const remote = makeRun(session.id, {
          status: "running",
          owner: { hostname: "elsewhere.invalid", pid: 1 },
        });
        const ended = makeRun(session.id, { status: "completed", owner: { hostname: here, pid: deadPid } });
        for (const run of [dead, ownerless, live, remote, ended]) await savedRun(store, run);
        await store.appendEvent(draft(session.id, { runId: dead.id, type: "run_started" }));

        const report = await store.maintenance.recoverOrphanedRuns();
        assert.deepEqual([...report.recoveredRunIds].sort(), [dead.id, ownerless.id].sort());

        const failed = await store.getRun(dead.id);
        assert.equal(failed.status, "failed");
        assert.ok(failed.endedAt && !Number.isNaN(Date.parse(failed.endedAt)));
        assert.equal(failed.error?.code, "internal_error");
        assert.equal(
          failed.error?.message,
          `the process executing this run (pid ${deadPid} on host ${here}) exited before the run ended`,
        );
        const terminal = (await store.getEvents(session.id)).filter(({ runId }) => runId === dead.id);
        assert.deepEqual(
          terminal.map(({ type, sequence }) => ({ type, sequence })),
          [
            { type: "run_started", sequence: 1 },
            { type: "run_failed", sequence: terminal[1]?.sequence },
          ],
        );
        const failure = terminal[1];
        assert.equal(failure?.type, "run_failed");
        if (failure?.type === "run_failed") {
          assert.equal(failure.provider, "claude");
          assert.equal(failure.data.errorCode, "internal_error");
          assert.equal(failure.data.errorMessage, failed.error?.message);
          assert.deepEqual(failure.data.details, { owner: { hostname: here, pid: deadPid } });
        }
        assert.equal((await store.getRun(ownerless.id)).status, "failed");
        for (const run of [live, remote, ended]) assert.deepEqual(await store.getRun(run.id), run);
        assert.deepEqual((await store.maintenance.recoverOrphanedRuns()).recoveredRunIds, [], "idempotent");
      });

      test("asks a given isOwnerAlive instead of probing", async (store) => {
        const session = await saved(store, makeSession());
        const live = makeRun(session.id, {
          status: "running",
          owner: { hostname: hostname(), pid: process.pid },
        });
        const remote = makeRun(session.id, {
          status: "running",
          owner: { hostname: "elsewhere.invalid", pid: 1 },
        });
        await savedRun(store, live);
        await savedRun(store, remote);
        const asked: string[] = [];
        const report = await store.maintenance.recoverOrphanedRuns({
          isOwnerAlive: (owner) => {
            asked.push(owner.hostname);
            return owner.hostname === hostname();
          },
        });
        assert.deepEqual(report.recoveredRunIds, [remote.id]);
        assert.deepEqual(asked.sort(), [hostname(), "elsewhere.invalid"].sort());
        assert.equal((await store.getRun(live.id)).status, "running");
      });

      test("recoveries racing each other end every run once, with one terminal event", async (store) => {
        const session = await saved(store, makeSession());
        const runs = [0, 1, 2].map(() =>
          makeRun(session.id, { status: "running", owner: { hostname: "h", pid: 7 } }),
        );
        for (const run of runs) await savedRun(store, run);
        const peer = openPeer ? await openPeer(store) : undefined;
        try {
          const everyoneDead = { isOwnerAlive: () => false };
          const reports = await Promise.all([
            store.maintenance.recoverOrphanedRuns(everyoneDead),
            store.maintenance.recoverOrphanedRuns(everyoneDead),
            (peer ?? store).maintenance.recoverOrphanedRuns(everyoneDead),
          ]);
          const recovered = reports.flatMap(({ recoveredRunIds }) => recoveredRunIds).sort();
          assert.deepEqual(recovered, ids(runs).sort(), "each run recovered by exactly one caller");
          const failures = (await store.getEvents(session.id)).filter(({ type }) => type === "run_failed");
          assert.deepEqual(failures.map(({ runId }) => runId).sort(), ids(runs).sort());
          for (const run of runs) assert.equal((await store.getRun(run.id)).status, "failed");
        } finally {
          if (peer) await dispose(peer);
        }
      });
    });

    describe("a closed store", () => {
      it("refuses queries and maintenance with storage_error (closed)", async () => {
        const store = await harness.open();
        await dispose(store);
        await rejectsWith(store.query.searchSessions(), "storage_error", { closed: true });
        await rejectsWith(store.query.getUsageSummary(), "storage_error", { closed: true });
        await rejectsWith(store.maintenance.healthCheck(), "storage_error", { closed: true });
        await rejectsWith(store.maintenance.recoverOrphanedRuns(), "storage_error", { closed: true });
      });
    });
  });
}

/**
 * A session with two runs and a log in which retention pruned some events, exported: what the
 * import cases start from.
 */
async function seedSessionWithHistory(store: DurableSessionStore): Promise<{ exported: SessionExport }> {
  const session = await saved(
    store,
    makeSession({
      tags: ["import"],
      context: { cwd: "/w" },
      parentSessionId: "ses_parent",
      createdAt: iso(5),
    }),
  );
  const first = makeRun(session.id, {
    status: "completed",
    provider: "claude",
    providerMetadata: { model: "opus" },
    tokenUsage: { inputTokens: 3, outputTokens: 4, cacheWriteTokens: 1 },
    costUsd: 0.125,
    output: { content: "done" },
    owner: { hostname: "h", pid: 3 },
    createdAt: iso(10),
    startedAt: iso(11),
    endedAt: iso(12),
  });
  const second = makeRun(session.id, { status: "pending", createdAt: iso(20) });
  await savedRun(store, first);
  await savedRun(store, second);
  await store.appendEvents([
    draft(session.id, { runId: first.id, type: "run_started", provider: "claude" }),
    draft(session.id, { runId: first.id }),
    draft(session.id, { runId: first.id }),
    draft(session.id, { runId: first.id }),
    draft(session.id, { runId: first.id, type: "run_completed" }),
  ]);
  await store.maintenance.applyRetention({ pruneEvents: { types: ["message_streamed"], keepLast: 1 } });
  return { exported: await store.query.exportSession(session.id) };
}

/** The export under another session id, with the same run and event ids. */
function withSessionId(data: SessionExport, sessionId: string): SessionExport {
  return {
    ...data,
    session: { ...data.session, id: sessionId },
    runs: data.runs.map((run) => ({ ...run, sessionId })),
    events: data.events.map((event) => ({ ...event, sessionId })),
  };
}

/** The export under another session id, with new run and event ids too. */
function withFreshIds(data: SessionExport, sessionId: string): SessionExport {
  const runIds = new Map(data.runs.map((run) => [run.id, uniqueId("run")]));
  const moved = withSessionId(data, sessionId);
  return {
    ...moved,
    runs: moved.runs.map((run) => ({ ...run, id: runIds.get(run.id) ?? run.id })),
    events: moved.events.map((event) => ({
      ...event,
      id: uniqueId("evt"),
      ...(event.runId === undefined ? {} : { runId: runIds.get(event.runId) ?? event.runId }),
    })),
  };
}

/** Reads every page of a search, following `nextCursor` (at most 100 pages). */
async function allPages<T>(read: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  for (let index = 0; index < 100; index++) {
    const page = await read(cursor);
    pages.push(page.items);
    cursor = page.nextCursor;
    if (cursor === undefined) return pages;
  }
  assert.fail("more than 100 pages");
}

/** The pid of a process that has exited (and been reaped), so a signal-0 probe finds nothing. */
async function exitedProcessId(): Promise<number> {
  const child = promisify(execFile)(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  const { stdout } = await child;
  const pid = Number(stdout);
  assert.ok(Number.isInteger(pid) && pid > 0, `no pid in ${JSON.stringify(stdout)}`);
  return pid;
}

function daysAgo(days: number): string {
  return new Date(Date.now() - days * 24 * 3_600_000).toISOString();
}

interface DraftFields {
  type?: EventType;
  runId?: string;
  provider?: string;
  timestamp?: string;
}

/** A draft with `{ delta }` data: stores never check data against the type's schema. */
function draft(sessionId: string, fields: DraftFields = {}): EventDraft {
  return untypedDraft({
    id: uniqueId("evt"),
    type: fields.type ?? "message_streamed",
    sessionId,
    ...(fields.runId === undefined ? {} : { runId: fields.runId }),
    ...(fields.provider === undefined ? {} : { provider: fields.provider }),
    timestamp: fields.timestamp ?? iso(0),
    data: { delta: "text" },
    metadata: {},
  });
}

/** For inputs that are wrong on purpose. */
function untyped<T>(value: unknown): T {
  return value as T;
}

function ids(items: Page<{ id: string }> | readonly { id: string }[]): string[] {
  return ("items" in items ? items.items : items).map(({ id }) => id);
}

function sequences(events: readonly AsmEvent[]): number[] {
  return events.map(({ sequence }) => sequence);
}

function required<T>(value: T | undefined): T {
  assert.ok(value !== undefined, "expected a value");
  return value;
}
