import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { ErrorCode } from "../core/errors.js";
import type { AsmEvent, EventDraft, EventType } from "../core/events.js";
import type { Run } from "../core/run.js";
import type { Session } from "../core/session.js";
import { SESSION_STORE_SPECIFICATION, type SessionStore } from "../ports/session-store.js";
import { errorCode, rejectsWith } from "./assertions.js";
import { defineLifecycleTransitionCases } from "./conformance/lifecycle-transitions.js";
import { defineStorableEventCases } from "./conformance/storable-events.js";
import { iso, makeRun, makeSession, saved, savedRun, uniqueId, untypedDraft } from "./fixtures.js";
import { storeCase } from "./store-case.js";

/** How the suite gets stores to test. */
export interface SessionStoreHarness {
  /** Names the suite's top-level `describe`. */
  name: string;
  /** A fresh, empty store that shares nothing with any other store `open` returned. */
  open(): Promise<SessionStore>;
  /** Disposes of a store after a case (it may already be closed). Default: `store.close()`. */
  close?(store: SessionStore): Promise<void>;
  /**
   * Optional: a second store on the same storage as `store` (another connection to the same
   * database). Enables the cases with two writers in this process. The suite closes it.
   */
  openPeer?(store: SessionStore): Promise<SessionStore>;
  /**
   * Optional: appends `count` events (any type, one `appendEvent` each, ids `${idPrefix}-${i}`
   * for i from 0) to `sessionId` in `store`'s storage from another OS process, and resolves once
   * that process has exited successfully. Enables the cross-process cases.
   */
  appendFromOtherProcess?(args: {
    store: SessionStore;
    sessionId: string;
    count: number;
    /** Default: one the harness makes up, unique per call. */
    idPrefix?: string;
  }): Promise<void>;
}

/** `describe` and `it` from the caller's test framework: vitest, node:test, jest, mocha. */
export interface TestFramework {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
}

/**
 * Defines the `SessionStore` contract as test cases in the caller's framework, against the
 * stores `harness` opens. Assertions use `node:assert/strict`. Waits are bounded and timing
 * assertions are loose (a long-poll that should wake must beat its timeout, not a stopwatch),
 * so the suite is safe on slow machines; give each test at least 30 s.
 *
 * Decisions the port leaves open and this suite pins down:
 * - `getEvents` and `getLatestSequence` on an unknown session are `session_not_found`;
 *   `listRuns` of an unknown session is `[]`.
 * - A deleted session's log is gone: a session re-created under the same id starts at 1, and
 *   a long-poll parked on a session that gets deleted ends with `session_not_found`.
 * - `saveRun` with `expectedStatus` for a run that is not stored is `run_not_found`.
 * - `types: []` is a `validation_error` (it could only ever match nothing).
 * - After `close()`, every method but `close` rejects with `storage_error` (`details.closed`;
 *   not retryable: a closed store stays closed).
 */
export function defineSessionStoreConformance(harness: SessionStoreHarness, framework: TestFramework): void {
  const { describe, it } = framework;
  const dispose = (store: SessionStore): Promise<void> =>
    harness.close ? harness.close(store) : store.close();
  const test = storeCase<SessionStore>(it, () => harness.open(), dispose);
  const { openPeer, appendFromOtherProcess } = harness;
  const testWithPeer = (
    name: string,
    body: (store: SessionStore, peer: SessionStore) => Promise<void>,
  ): void => {
    if (openPeer === undefined) return;
    test(name, async (store) => {
      const peer = await openPeer(store);
      try {
        await body(store, peer);
      } finally {
        await dispose(peer);
      }
    });
  };

  describe(`${harness.name}: SessionStore conformance`, () => {
    defineLifecycleTransitionCases(harness, framework);
    defineStorableEventCases(harness, framework);
    test("declares the SessionStore specification it implements", async (store) => {
      assert.equal(store.specificationVersion, SESSION_STORE_SPECIFICATION);
    });
    describe("sessions", () => {
      test("saves and returns a session with every field", async (store) => {
        const parent = await saved(store, makeSession());
        const session = makeSession({
          parentSessionId: parent.id,
          status: "paused",
          metadata: { owner: "ops", nested: { depth: [1, 2, { three: true }] } },
          context: { cwd: "/work", retries: 2 },
          tags: ["alpha", "beta"],
          createdAt: iso(1000),
          updatedAt: iso(2000),
          deletedAt: iso(3000),
        });
        await saved(store, session);
        assert.deepEqual(await store.getSession(session.id), session);
      });

      test("leaves absent optional fields absent", async (store) => {
        const session = await saved(store, makeSession());
        const read = await store.getSession(session.id);
        assert.deepEqual(read, session);
        assert.equal("parentSessionId" in read, false);
        assert.equal("deletedAt" in read, false);
      });

      test("keeps its own copy: mutating saved or returned objects changes nothing stored", async (store) => {
        const session = await saved(store, makeSession({ tags: ["kept"], metadata: { a: 1 } }));
        session.tags.push("added-after-save");
        session.metadata.a = 2;
        const read = await store.getSession(session.id);
        read.tags.push("added-to-result");
        assert.deepEqual((await store.getSession(session.id)).tags, ["kept"]);
        assert.deepEqual((await store.getSession(session.id)).metadata, { a: 1 });
      });

      test("replaces a session on save and keeps its event log", async (store) => {
        const session = await saved(store, makeSession({ status: "pending" }));
        await store.appendEvents([draft(session.id), draft(session.id)]);
        const updated = { ...session, status: "active" as const, tags: ["now-active"], updatedAt: iso(5000) };
        await store.saveSession(updated);
        assert.deepEqual(await store.getSession(session.id), updated);
        assert.equal(await store.getLatestSequence(session.id), 2);
        assert.equal((await store.appendEvent(draft(session.id))).sequence, 3);
      });

      test("getSession of an unknown id is session_not_found", async (store) => {
        await rejectsWith(store.getSession("ses_missing"), "session_not_found", { sessionId: "ses_missing" });
      });

      test("lists newest first, filtered by status and agentId, within limit", async (store) => {
        const sessions = [
          makeSession({ agentId: "a", status: "active", createdAt: iso(1000) }),
          makeSession({ agentId: "b", status: "active", createdAt: iso(4000) }),
          makeSession({ agentId: "a", status: "completed", createdAt: iso(3000) }),
          makeSession({ agentId: "a", status: "active", createdAt: iso(2000) }),
        ];
        for (const session of sessions) await saved(store, session);
        const ids = (list: Session[]): string[] => list.map(({ id }) => id);
        const [first, second, third, fourth] = sessions.map(({ id }) => id);
        assert.deepEqual(ids(await store.listSessions()), [second, third, fourth, first]);
        assert.deepEqual(ids(await store.listSessions({ status: "active" })), [second, fourth, first]);
        assert.deepEqual(ids(await store.listSessions({ agentId: "a" })), [third, fourth, first]);
        assert.deepEqual(ids(await store.listSessions({ agentId: "a", status: "active" })), [fourth, first]);
        assert.deepEqual(ids(await store.listSessions({ limit: 2 })), [second, third]);
        assert.deepEqual(await store.listSessions({ agentId: "nobody" }), []);
        assert.deepEqual(await store.listSessions({ limit: 1 }), [sessions[1]]);
      });

      test("list limits default to 50 and allow 1 to 1000", async (store) => {
        for (let index = 0; index < 55; index++) await saved(store, makeSession({ createdAt: iso(index) }));
        assert.equal((await store.listSessions()).length, 50);
        assert.equal((await store.listSessions({ limit: 1000 })).length, 55);
        for (const limit of [0, 1001, 1.5, -1]) {
          await rejectsWith(store.listSessions({ limit }), "validation_error");
          await rejectsWith(store.listRuns("ses_any", { limit }), "validation_error");
        }
      });

      test("deletes a session with its runs and events, and nothing else", async (store) => {
        const doomed = await saved(store, makeSession());
        const kept = await saved(store, makeSession());
        const run = makeRun(doomed.id);
        await store.saveRun(run);
        await store.appendEvents([draft(doomed.id, { runId: run.id }), draft(doomed.id)]);
        const keptEvents = await store.appendEvents([draft(kept.id), draft(kept.id)]);

        await store.deleteSession(doomed.id);
        await rejectsWith(store.getSession(doomed.id), "session_not_found");
        await rejectsWith(store.getRun(run.id), "run_not_found");
        await rejectsWith(store.getEvents(doomed.id), "session_not_found");
        assert.deepEqual(await store.listRuns(doomed.id), []);
        assert.deepEqual(await store.getEvents(kept.id), keptEvents);
        assert.deepEqual(await store.getSession(kept.id), kept);
      });

      test("deleting a missing session is a no-op", async (store) => {
        const session = await saved(store, makeSession());
        await store.deleteSession(session.id);
        await store.deleteSession(session.id);
        await store.deleteSession("ses_never_existed");
        assert.deepEqual(await store.listSessions(), []);
      });

      test("a session re-created after deletion starts a new log at sequence 1", async (store) => {
        const session = await saved(store, makeSession());
        await store.appendEvents([draft(session.id), draft(session.id), draft(session.id)]);
        await store.deleteSession(session.id);
        await saved(store, session);
        assert.equal(await store.getLatestSequence(session.id), 0);
        assert.deepEqual(await store.getEvents(session.id), []);
        assert.equal((await store.appendEvent(draft(session.id))).sequence, 1);
        // The old log's cursor is now past the end.
        await rejectsWith(store.getEvents(session.id, { after: 3 }), "invalid_cursor");
      });
    });

    describe("runs", () => {
      test("saves and returns a run with every field", async (store) => {
        const session = await saved(store, makeSession());
        const run = makeRun(session.id, {
          status: "failed",
          input: {
            prompt: "fix it",
            messages: [{ role: "user", content: "please" }],
            command: ["ls", "-la"],
          },
          output: { content: "partial", extra: { lines: 3 } },
          error: { code: "provider_error", message: "boom", details: { exitCode: 2 }, hint: "retry" },
          metadata: { attempt: 2 },
          turnCount: 4,
          tokenUsage: { inputTokens: 10, outputTokens: 20, cacheReadTokens: 5, reasoningTokens: 1 },
          costUsd: 0.25,
          provider: "claude",
          providerMetadata: { model: "m-1", nativeSessionId: "abc" },
          owner: { hostname: "box-1", pid: 4242 },
          createdAt: iso(1000),
          startedAt: iso(2000),
          endedAt: iso(3000),
        });
        await savedRun(store, { ...run, status: "running" });
        assert.deepEqual(await store.saveRun(run), []);
        assert.deepEqual(await store.getRun(run.id), run);
      });

      test("leaves absent optional fields absent and keeps a null cost", async (store) => {
        const session = await saved(store, makeSession());
        const minimal = makeRun(session.id);
        await store.saveRun(minimal);
        const read = await store.getRun(minimal.id);
        assert.deepEqual(read, minimal);
        for (const field of ["output", "error", "provider", "owner", "startedAt", "endedAt"]) {
          assert.equal(field in read, false, `${field} should be absent`);
        }
        assert.equal(read.costUsd, null);
      });

      test("replaces a run on save", async (store) => {
        const session = await saved(store, makeSession());
        const run = makeRun(session.id);
        await store.saveRun(run);
        const running = { ...run, status: "running" as const, startedAt: iso(100), turnCount: 1 };
        await store.saveRun(running);
        assert.deepEqual(await store.getRun(run.id), running);
        assert.equal((await store.listRuns(session.id)).length, 1);
      });

      test("saveRun needs its session; getRun of an unknown id is run_not_found", async (store) => {
        await rejectsWith(store.saveRun(makeRun("ses_missing")), "session_not_found", {
          sessionId: "ses_missing",
        });
        await rejectsWith(store.getRun("run_missing"), "run_not_found", { runId: "run_missing" });
      });

      test("lists a session's runs oldest first, filtered by status, within limit", async (store) => {
        const session = await saved(store, makeSession());
        const other = await saved(store, makeSession());
        const runs = [
          makeRun(session.id, { status: "completed", createdAt: iso(3000) }),
          makeRun(session.id, { status: "running", createdAt: iso(1000) }),
          makeRun(session.id, { status: "completed", createdAt: iso(2000) }),
        ];
        for (const run of runs) await savedRun(store, run);
        await store.saveRun(makeRun(other.id));
        const ids = (list: Run[]): string[] => list.map(({ id }) => id);
        const [late, early, middle] = runs.map(({ id }) => id);
        assert.deepEqual(ids(await store.listRuns(session.id)), [early, middle, late]);
        assert.deepEqual(ids(await store.listRuns(session.id, { status: "completed" })), [middle, late]);
        assert.deepEqual(ids(await store.listRuns(session.id, { limit: 2 })), [early, middle]);
        assert.deepEqual(await store.listRuns(session.id, { limit: 1 }), [runs[1]]);
        assert.deepEqual(await store.listRuns("ses_missing"), []);
      });

      test("expectedStatus saves only over the expected status", async (store) => {
        const session = await saved(store, makeSession());
        const run = await savedRun(store, makeRun(session.id, { status: "running" }));
        const completed = { ...run, status: "completed" as const, endedAt: iso(9000) };
        await store.saveRun(completed, { expectedStatus: "running" });
        assert.deepEqual(await store.getRun(run.id), completed);

        const failed = { ...run, status: "failed" as const };
        await rejectsWith(store.saveRun(failed, { expectedStatus: "running" }), "invalid_transition", {
          expected: "running",
          actual: "completed",
        });
        assert.deepEqual(await store.getRun(run.id), completed);
        await rejectsWith(store.saveRun(makeRun(session.id), { expectedStatus: "pending" }), "run_not_found");
      });

      test("of two concurrent compare-and-set saves, exactly one wins", async (store) => {
        const session = await saved(store, makeSession());
        const run = await savedRun(store, makeRun(session.id, { status: "running" }));
        const outcomes = await Promise.allSettled([
          store.saveRun({ ...run, status: "completed" }, { expectedStatus: "running" }),
          store.saveRun({ ...run, status: "cancelled" }, { expectedStatus: "running" }),
        ]);
        const rejected = outcomes.filter((outcome) => outcome.status === "rejected");
        assert.equal(rejected.length, 1, "exactly one save should lose");
        assert.equal(errorCode(rejected[0]?.reason), "invalid_transition");
        const winner = outcomes[0]?.status === "fulfilled" ? "completed" : "cancelled";
        assert.equal((await store.getRun(run.id)).status, winner);
      });

      test("saves a run and its events together", async (store) => {
        const session = await saved(store, makeSession());
        await store.appendEvent(draft(session.id));
        const run = await savedRun(store, makeRun(session.id, { status: "running" }));
        const events = [
          draft(session.id, { runId: run.id, type: "turn_completed" }),
          draft(session.id, { runId: run.id, type: "run_completed" }),
        ];
        const stored = await store.saveRun(
          { ...run, status: "completed" },
          { expectedStatus: "running", events },
        );
        assert.deepEqual(
          stored,
          events.map((event, index) => ({ ...event, sequence: index + 2 })),
        );
        assert.deepEqual(await store.getEvents(session.id, { after: 1 }), stored);
        assert.equal((await store.getRun(run.id)).status, "completed");
      });

      test("a failed saveRun stores neither the run nor its events", async (store) => {
        const session = await saved(store, makeSession());
        const run = await savedRun(store, makeRun(session.id, { status: "running" }));
        const terminal = draft(session.id, { runId: run.id, type: "run_failed" });
        await rejectsWith(
          store.saveRun({ ...run, status: "failed" }, { expectedStatus: "pending", events: [terminal] }),
          "invalid_transition",
        );
        await rejectsWith(
          store.saveRun(
            { ...run, status: "failed" },
            { events: [terminal, untypedDraft({ ...draft(session.id), type: "no_such_type" })] },
          ),
          "invalid_event_type",
        );
        await rejectsWith(
          store.saveRun({ ...run, status: "failed" }, { events: [terminal, draft("ses_missing")] }),
          "session_not_found",
        );
        assert.equal((await store.getRun(run.id)).status, "running");
        assert.equal(await store.getLatestSequence(session.id), 0);
      });
    });

    describe("appends", () => {
      test("sequences start at 1 and are contiguous; the stored event echoes the draft", async (store) => {
        const session = await saved(store, makeSession());
        const drafts = [draft(session.id), draft(session.id, { type: "turn_completed" }), draft(session.id)];
        const stored: AsmEvent[] = [];
        for (const event of drafts) stored.push(await store.appendEvent(event));
        assert.deepEqual(
          stored,
          drafts.map((event, index) => ({ ...event, sequence: index + 1 })),
        );
        assert.deepEqual(await store.getEvents(session.id), stored);
        assert.equal(await store.getLatestSequence(session.id), 3);
      });

      test("normalizes timestamps to toISOString form and defaults metadata", async (store) => {
        const session = await saved(store, makeSession());
        const { metadata: _, ...withoutMetadata } = draft(session.id, {
          timestamp: "2025-01-01T01:00:00+01:00",
        });
        const stored = await store.appendEvent(untypedDraft(withoutMetadata));
        assert.equal(stored.timestamp, "2025-01-01T00:00:00.000Z");
        assert.deepEqual(stored.metadata, {});
        const [read] = await store.getEvents(session.id);
        assert.equal(read?.timestamp, "2025-01-01T00:00:00.000Z");
        assert.equal("runId" in stored, false);
        assert.equal("provider" in stored, false);
      });

      test("one sequence per session, shared by its runs, independent across sessions", async (store) => {
        const first = await saved(store, makeSession());
        const second = await saved(store, makeSession());
        const runA = makeRun(first.id);
        const runB = makeRun(first.id);
        const sequences = [
          (await store.appendEvent(draft(first.id))).sequence,
          (await store.appendEvent(draft(first.id, { runId: runA.id }))).sequence,
          (await store.appendEvent(draft(second.id))).sequence,
          (await store.appendEvent(draft(first.id, { runId: runB.id }))).sequence,
          (await store.appendEvent(draft(second.id, { runId: "run_elsewhere" }))).sequence,
          (await store.appendEvent(draft(first.id, { runId: runA.id }))).sequence,
        ];
        assert.deepEqual(sequences, [1, 2, 1, 3, 2, 4]);
        assert.equal(await store.getLatestSequence(first.id), 4);
        assert.equal(await store.getLatestSequence(second.id), 2);
      });

      test("concurrent appends get every sequence from 1 to N exactly once", async (store) => {
        const session = await saved(store, makeSession());
        const singles = Array.from({ length: 40 }, () => store.appendEvent(draft(session.id)));
        const batches = Array.from({ length: 4 }, () =>
          store.appendEvents(Array.from({ length: 5 }, () => draft(session.id))),
        );
        const results = await Promise.all([...singles, ...batches]);
        for (const batch of results.filter((result) => Array.isArray(result))) {
          assertIncreasing(batch.map(({ sequence }) => sequence));
        }
        const stored = results.flat();
        assertPermutation(
          stored.map(({ sequence }) => sequence),
          60,
        );
        const read = await store.getEvents(session.id, { limit: 1000 });
        assert.deepEqual(
          read.map(({ sequence }) => sequence),
          range(1, 60),
        );
        assert.deepEqual(new Set(read.map(({ id }) => id)), new Set(stored.map(({ id }) => id)));
      });

      testWithPeer(
        "two stores on one storage interleave appends without gaps or duplicates",
        async (store, peer) => {
          const session = await saved(store, makeSession());
          const work = [store, peer].flatMap((writer) => [
            ...Array.from({ length: 15 }, () => writer.appendEvent(draft(session.id))),
            ...Array.from({ length: 3 }, () => writer.appendEvents([draft(session.id), draft(session.id)])),
          ]);
          const stored = (await Promise.all(work)).flat();
          assertPermutation(
            stored.map(({ sequence }) => sequence),
            42,
          );
          assert.equal(await peer.getLatestSequence(session.id), 42);
          assert.deepEqual(
            await store.getEvents(session.id, { limit: 1000 }),
            await peer.getEvents(session.id, { limit: 1000 }),
          );
        },
      );

      test("appending a stored id again returns the stored event unchanged", async (store) => {
        const session = await saved(store, makeSession());
        const original = await store.appendEvent(draft(session.id, { id: "evt_retry", text: "first" }));
        await store.appendEvent(draft(session.id));
        const retry = await store.appendEvent(draft(session.id, { id: "evt_retry", text: "second" }));
        assert.deepEqual(retry, original);
        assert.equal(await store.getLatestSequence(session.id), 2);
      });

      test("batches are idempotent per id, including ids repeated within the batch", async (store) => {
        const session = await saved(store, makeSession());
        const [a, b] = await store.appendEvents([
          draft(session.id, { id: "evt_a" }),
          draft(session.id, { id: "evt_b" }),
        ]);
        const c = draft(session.id, { id: "evt_c" });
        const results = await store.appendEvents([
          draft(session.id, { id: "evt_b", text: "changed" }),
          c,
          draft(session.id, { id: "evt_a" }),
          draft(session.id, { id: "evt_c", text: "repeated" }),
        ]);
        assert.deepEqual(results, [b, { ...c, sequence: 3 }, a, { ...c, sequence: 3 }]);
        assert.equal(await store.getLatestSequence(session.id), 3);
        assert.equal((await store.getEvents(session.id)).length, 3);
      });

      test("an id stored in another session is already_exists", async (store) => {
        const first = await saved(store, makeSession());
        const second = await saved(store, makeSession());
        await store.appendEvent(draft(first.id, { id: "evt_taken" }));
        await rejectsWith(store.appendEvent(draft(second.id, { id: "evt_taken" })), "already_exists", {
          id: "evt_taken",
        });
        await rejectsWith(
          store.appendEvents([draft(second.id, { id: "evt_twice" }), draft(first.id, { id: "evt_twice" })]),
          "already_exists",
        );
        assert.equal(await store.getLatestSequence(second.id), 0);
        assert.equal(await store.getLatestSequence(first.id), 1);
      });

      test("a batch with one bad event stores nothing", async (store) => {
        const session = await saved(store, makeSession());
        const other = await saved(store, makeSession());
        await store.appendEvent(draft(session.id, { id: "evt_existing" }));
        const bad: [EventDraft, ErrorCode][] = [
          [untypedDraft({ ...draft(session.id), type: "not_a_type" }), "invalid_event_type"],
          [draft(session.id, { timestamp: "yesterday-ish" }), "validation_error"],
          [untypedDraft({ ...draft(session.id), data: null }), "validation_error"],
          [draft("ses_missing"), "session_not_found"],
          [draft(other.id, { id: "evt_existing" }), "already_exists"],
        ];
        for (const [event, code] of bad) {
          await rejectsWith(
            store.appendEvents([draft(session.id), draft(other.id), event, draft(session.id)]),
            code,
          );
        }
        assert.equal(await store.getLatestSequence(session.id), 1);
        assert.equal(await store.getLatestSequence(other.id), 0);
        assert.equal((await store.appendEvent(draft(session.id))).sequence, 2);
      });

      test("an empty batch stores nothing and returns []", async (store) => {
        const session = await saved(store, makeSession());
        assert.deepEqual(await store.appendEvents([]), []);
        assert.equal(await store.getLatestSequence(session.id), 0);
      });

      test("rejects malformed drafts with validation_error or invalid_event_type", async (store) => {
        const session = await saved(store, makeSession());
        const base = draft(session.id);
        const cases: [Record<string, unknown>, ErrorCode][] = [
          [{ ...base, type: "message_teleported" }, "invalid_event_type"],
          [{ ...base, type: undefined }, "invalid_event_type"],
          [{ ...base, id: "" }, "validation_error"],
          [{ ...base, id: 42 }, "validation_error"],
          [{ ...base, sessionId: undefined }, "validation_error"],
          [{ ...base, runId: "" }, "validation_error"],
          [{ ...base, timestamp: "not a date" }, "validation_error"],
          [{ ...base, timestamp: undefined }, "validation_error"],
          [{ ...base, data: [] }, "validation_error"],
          [{ ...base, data: "text" }, "validation_error"],
          [{ ...base, metadata: 7 }, "validation_error"],
        ];
        for (const [fields, code] of cases) {
          await rejectsWith(store.appendEvent(untypedDraft(fields)), code);
        }
        assert.equal(await store.getLatestSequence(session.id), 0);
      });

      test("appending to an unknown session is session_not_found", async (store) => {
        await rejectsWith(store.appendEvent(draft("ses_missing")), "session_not_found", {
          sessionId: "ses_missing",
        });
      });

      test("returned events are copies of the stored ones", async (store) => {
        const session = await saved(store, makeSession());
        const stored = await store.appendEvent(draft(session.id, { text: "original" }));
        Object.assign(stored.data, { delta: "mutated" });
        const [read] = await store.getEvents(session.id);
        assert.deepEqual(read?.data, { delta: "original" });
        if (read) Object.assign(read.metadata, { touched: true });
        assert.deepEqual((await store.getEvents(session.id))[0]?.metadata, {});
      });
    });

    describe("reads", () => {
      test("pages ascend by sequence: 100 by default, up to 1000", async (store) => {
        const session = await saved(store, makeSession());
        for (let batch = 0; batch < 3; batch++) {
          await store.appendEvents(Array.from({ length: 50 }, () => draft(session.id)));
        }
        assert.deepEqual(sequencesOf(await store.getEvents(session.id)), range(1, 100));
        assert.deepEqual(sequencesOf(await store.getEvents(session.id, { limit: 1000 })), range(1, 150));
        assert.deepEqual(sequencesOf(await store.getEvents(session.id, { after: 100 })), range(101, 150));
      });

      test("after and before are exclusive bounds; limit keeps the lowest sequences", async (store) => {
        const session = await saved(store, makeSession());
        await store.appendEvents(Array.from({ length: 10 }, () => draft(session.id)));
        const read = async (query: Parameters<SessionStore["getEvents"]>[1]): Promise<number[]> =>
          sequencesOf(await store.getEvents(session.id, query));
        assert.deepEqual(await read({ after: 3 }), range(4, 10));
        assert.deepEqual(await read({ before: 4 }), [1, 2, 3]);
        assert.deepEqual(await read({ after: 2, before: 6 }), [3, 4, 5]);
        assert.deepEqual(await read({ after: 2, limit: 3 }), [3, 4, 5]);
        assert.deepEqual(await read({ before: 8, limit: 2 }), [1, 2]);
        assert.deepEqual(await read({ before: 1 }), []);
        assert.deepEqual(await read({ after: 5, before: 6 }), []);
        assert.deepEqual(await read({ before: 99 }), range(1, 10));
      });

      test("filters by runId, types and since, alone and combined", async (store) => {
        const session = await saved(store, makeSession());
        const runA = "run_a";
        const runB = "run_b";
        // sequence:            1           2           3            4           5           6
        // run:                 a           b           a            -           a           b
        // type:             streamed    streamed    tool_started  turn_done   turn_done   tool_started
        // timestamp (s):       0           1           2            3           4           5
        await store.appendEvents([
          draft(session.id, { runId: runA, timestamp: iso(0) }),
          draft(session.id, { runId: runB, timestamp: iso(1000) }),
          draft(session.id, { runId: runA, type: "tool_call_started", timestamp: iso(2000) }),
          draft(session.id, { type: "turn_completed", timestamp: iso(3000) }),
          draft(session.id, { runId: runA, type: "turn_completed", timestamp: iso(4000) }),
          draft(session.id, { runId: runB, type: "tool_call_started", timestamp: iso(5000) }),
        ]);
        const read = async (query: Parameters<SessionStore["getEvents"]>[1]): Promise<number[]> =>
          sequencesOf(await store.getEvents(session.id, query));
        assert.deepEqual(await read({ runId: runA }), [1, 3, 5]);
        assert.deepEqual(await read({ runId: "run_none" }), []);
        assert.deepEqual(await read({ types: ["turn_completed"] }), [4, 5]);
        assert.deepEqual(
          await read({ types: ["tool_call_started", "turn_completed", "turn_completed"] }),
          [3, 4, 5, 6],
        );
        assert.deepEqual(await read({ since: iso(3000) }), [4, 5, 6]);
        // `since` is inclusive and accepts any ISO 8601 form of the instant.
        assert.deepEqual(await read({ since: "2025-01-01T01:00:04+01:00" }), [5, 6]);
        assert.deepEqual(await read({ runId: runA, types: ["turn_completed", "tool_call_started"] }), [3, 5]);
        assert.deepEqual(await read({ runId: runB, since: iso(1500) }), [6]);
        assert.deepEqual(
          await read({ after: 1, types: ["message_streamed", "tool_call_started"], limit: 2 }),
          [2, 3],
        );
        assert.deepEqual(await read({ after: 2, before: 6, runId: runA, since: iso(2500) }), [5]);
      });

      test("rejects bad query values", async (store) => {
        const session = await saved(store, makeSession());
        await store.appendEvent(draft(session.id));
        const cases: [Record<string, unknown>, ErrorCode][] = [
          [{ limit: 0 }, "validation_error"],
          [{ limit: 1001 }, "validation_error"],
          [{ limit: 2.5 }, "validation_error"],
          [{ limit: -1 }, "validation_error"],
          [{ limit: "10" }, "validation_error"],
          [{ after: -1 }, "validation_error"],
          [{ after: 1.5 }, "validation_error"],
          [{ before: -1 }, "validation_error"],
          [{ since: "not a date" }, "validation_error"],
          [{ types: [] }, "validation_error"],
          [{ types: ["message_streamed", "message_teleported"] }, "invalid_event_type"],
          [{ waitTimeoutMs: -1 }, "validation_error"],
        ];
        for (const [query, code] of cases) {
          await rejectsWith(store.getEvents(session.id, query), code, {}, JSON.stringify(query));
        }
        assert.equal((await store.getEvents(session.id, { limit: 1000 })).length, 1);
      });

      test("a cursor at the end answers []; past the end is invalid_cursor", async (store) => {
        const session = await saved(store, makeSession());
        assert.deepEqual(await store.getEvents(session.id, { after: 0 }), []);
        await rejectsWith(store.getEvents(session.id, { after: 1 }), "invalid_cursor", {
          after: 1,
          latestSequence: 0,
        });
        await store.appendEvents([draft(session.id), draft(session.id), draft(session.id)]);
        assert.deepEqual(await store.getEvents(session.id, { after: 3 }), []);
        await rejectsWith(store.getEvents(session.id, { after: 4 }), "invalid_cursor", {
          after: 4,
          latestSequence: 3,
        });
        await rejectsWith(
          store.getEvents(session.id, { after: 40, types: ["run_failed"] }),
          "invalid_cursor",
        );
      });

      test("reading an unknown session is session_not_found; a new session's latest is 0", async (store) => {
        await rejectsWith(store.getEvents("ses_missing"), "session_not_found", { sessionId: "ses_missing" });
        await rejectsWith(store.getLatestSequence("ses_missing"), "session_not_found");
        const session = await saved(store, makeSession());
        assert.equal(await store.getLatestSequence(session.id), 0);
      });
    });

    describe("long-poll", () => {
      test("answers at once when events already match", async (store) => {
        const session = await saved(store, makeSession());
        const stored = await store.appendEvent(draft(session.id));
        const { value, ms } = await timed(store.getEvents(session.id, { waitTimeoutMs: 20_000 }));
        assert.deepEqual(value, [stored]);
        assert.ok(ms < 15_000, `took ${ms} ms`);
      });

      test("wakes on an append made while it waits", async (store) => {
        const session = await saved(store, makeSession());
        await store.appendEvent(draft(session.id));
        const poll = timed(store.getEvents(session.id, { after: 1, waitTimeoutMs: 20_000 }));
        await sleep(50);
        const appended = await store.appendEvent(draft(session.id));
        const { value, ms } = await poll;
        assert.deepEqual(value, [appended]);
        assert.ok(ms < 15_000, `woke only after ${ms} ms`);
      });

      test("keeps waiting through appends that do not match its filters", async (store) => {
        const session = await saved(store, makeSession());
        const other = await saved(store, makeSession());
        const poll = watch(
          store.getEvents(session.id, { types: ["tool_call_started"], waitTimeoutMs: 20_000 }),
        );
        await sleep(50);
        await store.appendEvent(draft(session.id));
        await store.appendEvent(draft(other.id, { type: "tool_call_started" }));
        await sleep(150);
        assert.equal(poll.settled, false, "woke for an event it does not match");
        const wanted = await store.appendEvent(draft(session.id, { type: "tool_call_started" }));
        assert.deepEqual(await poll.promise, [wanted]);
      });

      test("long-polls on different sessions wake for their own session only", async (store) => {
        const first = await saved(store, makeSession());
        const second = await saved(store, makeSession());
        const pollFirst = watch(store.getEvents(first.id, { waitTimeoutMs: 20_000 }));
        const pollSecond = watch(store.getEvents(second.id, { waitTimeoutMs: 20_000 }));
        await sleep(50);
        const forFirst = await store.appendEvent(draft(first.id));
        assert.deepEqual(await pollFirst.promise, [forFirst]);
        await sleep(100);
        assert.equal(pollSecond.settled, false);
        const forSecond = await store.appendEvent(draft(second.id));
        assert.deepEqual(await pollSecond.promise, [forSecond]);
      });

      test("times out with []", async (store) => {
        const session = await saved(store, makeSession());
        const { value, ms } = await timed(store.getEvents(session.id, { waitTimeoutMs: 150 }));
        assert.deepEqual(value, []);
        assert.ok(ms >= 140, `answered after ${ms} ms, before its 150 ms timeout`);
      });

      test("ends with [] when its signal aborts", async (store) => {
        const session = await saved(store, makeSession());
        const controller = new AbortController();
        const poll = timed(store.getEvents(session.id, { waitTimeoutMs: 20_000, signal: controller.signal }));
        await sleep(50);
        controller.abort();
        const { value, ms } = await poll;
        assert.deepEqual(value, []);
        assert.ok(ms < 15_000, `abort took ${ms} ms`);

        const already = await timed(
          store.getEvents(session.id, { waitTimeoutMs: 20_000, signal: AbortSignal.abort() }),
        );
        assert.deepEqual(already.value, []);
        assert.ok(already.ms < 15_000);
      });

      test("checks the cursor and the session before waiting", async (store) => {
        const session = await saved(store, makeSession());
        const pastEnd = timed(
          store.getEvents(session.id, { after: 5, waitTimeoutMs: 20_000 }).catch(errorCode),
        );
        const unknown = timed(store.getEvents("ses_missing", { waitTimeoutMs: 20_000 }).catch(errorCode));
        const [cursor, missing] = await Promise.all([pastEnd, unknown]);
        assert.equal(cursor.value, "invalid_cursor");
        assert.equal(missing.value, "session_not_found");
        assert.ok(cursor.ms < 15_000 && missing.ms < 15_000);
      });

      test("ends with session_not_found when its session is deleted", async (store) => {
        const session = await saved(store, makeSession());
        const poll = timed(store.getEvents(session.id, { waitTimeoutMs: 20_000 }).catch(errorCode));
        await sleep(50);
        await store.deleteSession(session.id);
        const { value, ms } = await poll;
        assert.equal(value, "session_not_found");
        assert.ok(ms < 15_000, `took ${ms} ms`);
      });

      testWithPeer(
        "wakes on an append made through another store on the same storage",
        async (store, peer) => {
          const session = await saved(store, makeSession());
          const poll = timed(store.getEvents(session.id, { waitTimeoutMs: 20_000 }));
          await sleep(50);
          const appended = await peer.appendEvent(draft(session.id));
          const { value, ms } = await poll;
          assert.deepEqual(value, [appended]);
          assert.ok(ms < 15_000, `woke only after ${ms} ms`);
        },
      );
    });

    describe("close", () => {
      test("wakes pending long-polls with [] and refuses later calls", async (store) => {
        const session = await saved(store, makeSession());
        const poll = timed(store.getEvents(session.id, { waitTimeoutMs: 20_000 }));
        await sleep(50);
        await store.close();
        const { value, ms } = await poll;
        assert.deepEqual(value, []);
        assert.ok(ms < 15_000, `close took ${ms} ms to wake the long-poll`);
        await store.close();
        await rejectsWith(store.getSession(session.id), "storage_error");
        await rejectsWith(store.appendEvent(draft(session.id)), "storage_error");
        await rejectsWith(store.getEvents(session.id), "storage_error");
        await rejectsWith(store.saveSession(makeSession()), "storage_error");
      });
    });

    if (appendFromOtherProcess !== undefined) {
      describe("other processes", () => {
        test("appends from two other processes and this one get 1..N exactly once", async (store) => {
          const session = await saved(store, makeSession());
          const perWriter = 30;
          const local = async (): Promise<void> => {
            for (let index = 0; index < perWriter; index++) {
              await store.appendEvent(draft(session.id, { id: `local-${index}` }));
              // Yield to the event loop, so the other processes get turns between our commits.
              await sleep(1);
            }
          };
          await Promise.all([
            appendFromOtherProcess({ store, sessionId: session.id, count: perWriter, idPrefix: "first" }),
            appendFromOtherProcess({ store, sessionId: session.id, count: perWriter, idPrefix: "second" }),
            local(),
          ]);
          const events = await store.getEvents(session.id, { limit: 1000 });
          assert.deepEqual(sequencesOf(events), range(1, 3 * perWriter));
          const expectedIds = ["first", "second", "local"].flatMap((prefix) =>
            range(0, perWriter - 1).map((index) => `${prefix}-${index}`),
          );
          assert.deepEqual(new Set(events.map(({ id }) => id)), new Set(expectedIds));
        });

        test("a long-poll wakes on an append from another process", async (store) => {
          const session = await saved(store, makeSession());
          const poll = timed(store.getEvents(session.id, { waitTimeoutMs: 25_000 }));
          await appendFromOtherProcess({ store, sessionId: session.id, count: 1, idPrefix: "remote" });
          const { value, ms } = await poll;
          assert.deepEqual(
            value.map(({ id, sequence }) => ({ id, sequence })),
            [{ id: "remote-0", sequence: 1 }],
          );
          assert.ok(ms < 25_000, `woke only at its timeout (${ms} ms)`);
        });
      });
    }
  });
}

interface DraftFields {
  id?: string;
  type?: EventType;
  runId?: string;
  timestamp?: string;
  text?: string;
}

/** A draft with `{ delta }` data: stores never check data against the type's schema. */
function draft(sessionId: string, fields: DraftFields = {}): EventDraft {
  return untypedDraft({
    id: fields.id ?? uniqueId("evt"),
    type: fields.type ?? "message_streamed",
    sessionId,
    ...(fields.runId === undefined ? {} : { runId: fields.runId }),
    timestamp: fields.timestamp ?? iso(0),
    data: { delta: fields.text ?? "text" },
    metadata: {},
  });
}

async function timed<T>(promise: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await promise;
  return { value, ms: performance.now() - start };
}

/** Tracks whether a promise has settled, to assert that a long-poll is still waiting. */
function watch<T>(promise: Promise<T>): { promise: Promise<T>; readonly settled: boolean } {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  return {
    promise: tracked,
    get settled() {
      return settled;
    },
  };
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}

function sequencesOf(events: readonly AsmEvent[]): number[] {
  return events.map(({ sequence }) => sequence);
}

function assertPermutation(sequences: readonly number[], count: number): void {
  assert.deepEqual(
    [...sequences].sort((a, b) => a - b),
    range(1, count),
  );
}

function assertIncreasing(sequences: readonly number[]): void {
  sequences.forEach((sequence, index) => {
    if (index > 0)
      assert.ok(sequence > (sequences[index - 1] ?? 0), `sequences ${sequences.join(",")} out of order`);
  });
}
