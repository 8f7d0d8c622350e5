import assert from "node:assert/strict";
import type { EventDraft } from "../../core/events.js";
import { RUN_STATUSES, RUN_TRANSITIONS, type Run } from "../../core/run.js";
import { SESSION_STATUSES, SESSION_TRANSITIONS, type Session } from "../../core/session.js";
import type { TransitionTable } from "../../core/state-machine.js";
import type { SessionStore } from "../../ports/session-store.js";
import { errorCode, rejectsWith } from "../assertions.js";
import { iso, makeRun, makeSession, saved, savedRun, uniqueId, untypedDraft } from "../fixtures.js";
import type { SessionStoreHarness, TestFramework } from "../session-store-conformance.js";
import { storeCase } from "../store-case.js";

/**
 * The state machines as a store enforces them, part of the `SessionStore` conformance suite:
 * `saveSession` and `saveRun` check each save against the status the store holds (not the
 * caller's copy), inside the write, and refuse an illegal move with `invalid_transition`
 * (`details.id`, `from`, `to`), writing nothing — not the record, not the events given with it.
 * A record is created `pending`; saving the same status again (an update of other fields) is
 * allowed in every status; `expectedStatus` is checked first, then the move.
 */
export function defineLifecycleTransitionCases(harness: SessionStoreHarness, framework: TestFramework): void {
  const { describe, it } = framework;
  const dispose = (store: SessionStore): Promise<void> =>
    harness.close ? harness.close(store) : store.close();
  const test = storeCase<SessionStore>(it, () => harness.open(), dispose);
  const { openPeer } = harness;

  describe("lifecycle transitions", () => {
    test("a session or a run is created pending, never in another status", async (store) => {
      for (const status of SESSION_STATUSES.filter((status) => status !== "pending")) {
        const session = makeSession({ status });
        await rejectsWith(store.saveSession(session), "invalid_transition", {
          id: session.id,
          from: null,
          to: status,
        });
        await rejectsWith(store.getSession(session.id), "session_not_found");
      }
      const session = await saved(store, makeSession({ status: "pending" }));
      assert.equal((await store.getSession(session.id)).status, "pending");

      for (const status of RUN_STATUSES.filter((status) => status !== "pending")) {
        const run = makeRun(session.id, { status });
        await rejectsWith(
          store.saveRun(run, { events: [runEvent(run)] }),
          "invalid_transition",
          { id: run.id, from: null, to: status },
          status,
        );
        await rejectsWith(store.getRun(run.id), "run_not_found");
      }
      assert.equal(await store.getLatestSequence(session.id), 0, "no event of a refused save is stored");
    });

    test("refuses every session move outside the state machine and keeps the stored session", async (store) => {
      for (const [from, to] of illegalMoves(SESSION_STATUSES, SESSION_TRANSITIONS)) {
        const session = await saved(store, makeSession({ status: from }));
        await rejectsWith(
          store.saveSession({ ...session, status: to, updatedAt: iso(9000) }),
          "invalid_transition",
          { id: session.id, from, to },
          `${from} → ${to}`,
        );
        assert.deepEqual(await store.getSession(session.id), session, `${from} → ${to} changed nothing`);
      }
    });

    test("refuses every run move outside the state machine, with none of its events", async (store) => {
      const session = await saved(store, makeSession());
      for (const [from, to] of illegalMoves(RUN_STATUSES, RUN_TRANSITIONS)) {
        const run = await savedRun(store, makeRun(session.id, { status: from }));
        await rejectsWith(
          store.saveRun({ ...run, status: to, turnCount: 9 }, { events: [runEvent(run)] }),
          "invalid_transition",
          { id: run.id, from, to },
          `${from} → ${to}`,
        );
        assert.deepEqual(await store.getRun(run.id), run, `${from} → ${to} changed nothing`);
      }
      assert.equal(await store.getLatestSequence(session.id), 0, "no event of a refused save is stored");
    });

    test("accepts every move of the state machines", async (store) => {
      for (const [from, to] of legalMoves(SESSION_STATUSES, SESSION_TRANSITIONS)) {
        const session = await saved(store, makeSession({ status: from }));
        const moved = { ...session, status: to, updatedAt: iso(9000) };
        await store.saveSession(moved);
        assert.deepEqual(await store.getSession(session.id), moved, `${from} → ${to}`);
      }
      const session = await saved(store, makeSession());
      for (const [from, to] of legalMoves(RUN_STATUSES, RUN_TRANSITIONS)) {
        const run = await savedRun(store, makeRun(session.id, { status: from }));
        const moved = { ...run, status: to, turnCount: 2 };
        await store.saveRun(moved);
        assert.deepEqual(await store.getRun(run.id), moved, `${from} → ${to}`);
      }
    });

    test("accepts a whole lifecycle, step by step", async (store) => {
      const session = makeSession({ status: "pending" });
      for (const status of ["pending", "active", "paused", "active"] as const) {
        await store.saveSession({ ...session, status });
      }
      const run = makeRun(session.id, { status: "pending" });
      await store.saveRun(run);
      await store.saveRun({ ...run, status: "running", startedAt: iso(100) }, { expectedStatus: "pending" });
      const completed: Run = { ...run, status: "completed", startedAt: iso(100), endedAt: iso(200) };
      const [terminal] = await store.saveRun(completed, {
        expectedStatus: "running",
        events: [runEvent(run, "run_completed")],
      });
      assert.equal(terminal?.sequence, 1);
      await store.saveSession({ ...session, status: "completed", updatedAt: iso(300) });
      assert.deepEqual(await store.getRun(run.id), completed);
      assert.equal((await store.getSession(session.id)).status, "completed");
    });

    test("saving the same status again updates the other fields, in every status", async (store) => {
      for (const status of SESSION_STATUSES) {
        const session = await saved(store, makeSession({ status }));
        const updated: Session = {
          ...session,
          tags: ["again"],
          metadata: { note: status },
          updatedAt: iso(7),
        };
        await store.saveSession(updated);
        assert.deepEqual(await store.getSession(session.id), updated, status);
      }
      const session = await saved(store, makeSession());
      for (const status of RUN_STATUSES) {
        const run = await savedRun(store, makeRun(session.id, { status }));
        const updated: Run = { ...run, metadata: { note: status }, turnCount: 3 };
        await store.saveRun(updated);
        assert.deepEqual(await store.getRun(run.id), updated, status);
        const same: Run = { ...updated, costUsd: 0.5 };
        await store.saveRun(same, { expectedStatus: status });
        assert.deepEqual(await store.getRun(run.id), same, `${status} with expectedStatus ${status}`);
      }
    });

    test("compare-and-set: a wrong expectedStatus or an illegal move is refused, a right one is saved", async (store) => {
      const session = await saved(store, makeSession());
      const run = await savedRun(store, makeRun(session.id, { status: "running", startedAt: iso(1) }));
      const completed: Run = { ...run, status: "completed", endedAt: iso(2) };

      await rejectsWith(
        store.saveRun(completed, { expectedStatus: "pending", events: [runEvent(run, "run_completed")] }),
        "invalid_transition",
        { id: run.id, expected: "pending", actual: "running" },
      );
      // The expected status is the stored one, but the move from it is not in the machine.
      await rejectsWith(
        store.saveRun({ ...run, status: "pending" }, { expectedStatus: "running" }),
        "invalid_transition",
        { id: run.id, from: "running", to: "pending" },
      );
      assert.deepEqual(await store.getRun(run.id), run);
      assert.equal(await store.getLatestSequence(session.id), 0);

      const [terminal] = await store.saveRun(completed, {
        expectedStatus: "running",
        events: [runEvent(run, "run_completed")],
      });
      assert.equal(terminal?.type, "run_completed");
      assert.deepEqual(await store.getRun(run.id), completed);

      // Ended: the right expected status does not open a way out of a final status.
      for (const to of ["cancelled", "running", "failed"] as const) {
        await rejectsWith(
          store.saveRun({ ...completed, status: to }, { expectedStatus: "completed" }),
          "invalid_transition",
          { id: run.id, from: "completed", to },
        );
      }
      assert.deepEqual(await store.getRun(run.id), completed);
      assert.equal(await store.getLatestSequence(session.id), 1);
    });

    test("checks against the stored status, not the caller's stale copy", async (store) => {
      const session = await saved(store, makeSession({ status: "active" }));
      await store.saveSession({ ...session, status: "completed" });
      // active → paused is legal for the copy's status, but the stored session is completed.
      await rejectsWith(store.saveSession({ ...session, status: "paused" }), "invalid_transition", {
        id: session.id,
        from: "completed",
        to: "paused",
      });
      assert.equal((await store.getSession(session.id)).status, "completed");

      const run = await savedRun(store, makeRun(session.id, { status: "pending" }));
      await store.saveRun({ ...run, status: "cancelled" });
      await rejectsWith(store.saveRun({ ...run, status: "running" }), "invalid_transition", {
        id: run.id,
        from: "cancelled",
        to: "running",
      });
      assert.equal((await store.getRun(run.id)).status, "cancelled");
    });

    test("of two writers ending one run at once without expectedStatus, exactly one wins", async (store) => {
      const peer = openPeer === undefined ? store : await openPeer(store);
      try {
        const session = await saved(store, makeSession());
        for (let round = 0; round < 5; round++) {
          const run = await savedRun(store, makeRun(session.id, { status: "running" }));
          const outcomes = await Promise.allSettled([
            store.saveRun({ ...run, status: "completed" }, { events: [runEvent(run, "run_completed")] }),
            peer.saveRun({ ...run, status: "cancelled" }, { events: [runEvent(run, "run_cancelled")] }),
          ]);
          const rejected = outcomes.filter((outcome) => outcome.status === "rejected");
          assert.equal(rejected.length, 1, "exactly one of the two moves should be refused");
          assert.equal(errorCode(rejected[0]?.reason), "invalid_transition");
          const winner = outcomes[0]?.status === "fulfilled" ? "completed" : "cancelled";
          assert.equal((await store.getRun(run.id)).status, winner);
          const terminal = (await store.getEvents(session.id, { runId: run.id })).map(({ type }) => type);
          assert.deepEqual(terminal, [`run_${winner}`], "only the winner's event is stored");
        }
      } finally {
        if (peer !== store) await dispose(peer);
      }
    });
  });
}

/** Every (from, to) pair of distinct statuses the table allows. */
function legalMoves<S extends string>(statuses: readonly S[], table: TransitionTable<S>): [S, S][] {
  return statuses.flatMap((from) => table[from].map((to): [S, S] => [from, to]));
}

/** Every (from, to) pair of distinct statuses the table does not allow. */
function illegalMoves<S extends string>(statuses: readonly S[], table: TransitionTable<S>): [S, S][] {
  return statuses.flatMap((from) =>
    statuses.filter((to) => to !== from && !table[from].includes(to)).map((to): [S, S] => [from, to]),
  );
}

/** A terminal event of `run`, with data its type's schema accepts. */
function runEvent(
  run: Run,
  type: "run_completed" | "run_cancelled" | "run_failed" = "run_failed",
): EventDraft {
  const data = {
    run_completed: { stopReason: "end_turn", tokenUsage: { inputTokens: 0, outputTokens: 0 }, durationMs: 1 },
    run_cancelled: { reason: "conformance" },
    run_failed: { errorCode: "internal_error", errorMessage: "conformance" },
  }[type];
  return untypedDraft({
    id: uniqueId("evt"),
    type,
    sessionId: run.sessionId,
    runId: run.id,
    timestamp: iso(0),
    data,
    metadata: {},
  });
}
