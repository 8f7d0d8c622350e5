/** Tests every durable (SQL) store must pass on opening, whatever its backend. */
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { ONE_SHOT_OWNER_KEY, type Session } from "../../core/session.js";
import { makeRun, saved, savedRun } from "../../testing/fixtures.js";
import type { DurableSessionStore } from "../../testing/index.js";
import { DEAD_PID, NOW, runningRun, session } from "./fixtures.js";

export interface ReopenHarness<Location> {
  /** The store class, naming the tests: "SqliteSessionStore". */
  name: string;
  /** What a store lives in, for the test titles: "database", "schema". */
  storage: string;
  /** A fresh place for a store. */
  newLocation(label: string): Location;
  /** Opens the store at `location`, at the latest schema version. */
  open(location: Location, options?: { recover?: false; autoMigrate?: true }): Promise<DurableSessionStore>;
  /** Opens the store at `location` with only its first migration applied. */
  openAtVersion1(location: Location): Promise<DurableSessionStore>;
}

export function defineRecoveryOnOpenTests<Location>(harness: ReopenHarness<Location>): void {
  describe(`${harness.name} recovery on open`, () => {
    it("fails the runs of dead owners when it opens, unless recover is false", async () => {
      const location = harness.newLocation("recover");
      const first = await harness.open(location);
      await first.saveSession(session("ses_crashed"));
      await savedRun(first, runningRun("run_orphan", "ses_crashed"));
      await first.close();

      const untouched = await harness.open(location, { recover: false });
      expect((await untouched.getRun("run_orphan")).status).toBe("running");
      await untouched.close();

      const recovered = await harness.open(location);
      try {
        const run = await recovered.getRun("run_orphan");
        expect(run.status).toBe("failed");
        expect(run.error?.message).toBe(
          `the process executing this run (pid ${DEAD_PID} on host ${hostname()}) exited before the run ended`,
        );
        const events = await recovered.getEvents("ses_crashed");
        expect(events.map(({ type, runId }) => [type, runId])).toEqual([["run_failed", "run_orphan"]]);
      } finally {
        await recovered.close();
      }
    });

    it("fails the one-shot sessions of dead processes, with their unstarted runs, and only those", async () => {
      const location = harness.newLocation("oneshot");
      const here = hostname();
      const oneShot = (id: string, pid: number, host = here): Session =>
        session(id, { status: "active", metadata: { [ONE_SHOT_OWNER_KEY]: { hostname: host, pid } } });
      const first = await harness.open(location);
      // Killed between creating its run and starting it.
      await saved(first, oneShot("ses_unstarted", DEAD_PID));
      await savedRun(first, makeRun("ses_unstarted", { id: "run_unstarted" }));
      // Killed after its run ended, before it completed the session.
      await saved(first, oneShot("ses_ended", DEAD_PID));
      await savedRun(first, makeRun("ses_ended", { id: "run_ended", status: "completed" }));
      // Left alone: a live process, a process on another host, a long-lived session, a malformed marker.
      await saved(first, oneShot("ses_live", process.pid));
      await saved(first, oneShot("ses_remote", DEAD_PID, "elsewhere.invalid"));
      await saved(first, session("ses_long", { status: "active" }));
      await saved(first, session("ses_odd", { status: "active", metadata: { [ONE_SHOT_OWNER_KEY]: true } }));
      await first.close();

      const recovered = await harness.open(location, { recover: false });
      try {
        const report = await recovered.maintenance.recoverOrphanedRuns();
        expect(report.recoveredRunIds).toEqual(["run_unstarted"]);
        expect([...report.recoveredSessionIds].sort()).toEqual(["ses_ended", "ses_unstarted"]);
        expect(await recovered.maintenance.recoverOrphanedRuns(), "idempotent").toEqual({
          recoveredRunIds: [],
          recoveredSessionIds: [],
        });
        const owner = { hostname: here, pid: DEAD_PID };
        const sessionFailed = {
          type: "session_failed",
          data: {
            errorCode: "internal_error",
            errorMessage: `the process running this one-shot session (pid ${DEAD_PID} on host ${here}) exited before the session ended`,
            details: { owner },
          },
        };
        expect((await recovered.getSession("ses_unstarted")).status).toBe("failed");
        const run = await recovered.getRun("run_unstarted");
        expect(run).toMatchObject({
          status: "failed",
          error: {
            code: "internal_error",
            message: `the process running this run's one-shot session (pid ${DEAD_PID} on host ${here}) exited before the run started`,
          },
        });
        expect(await recovered.getEvents("ses_unstarted")).toMatchObject([
          { sequence: 1, type: "run_failed", runId: "run_unstarted", data: { details: { owner } } },
          { sequence: 2, ...sessionFailed },
        ]);
        expect((await recovered.getSession("ses_ended")).status).toBe("failed");
        expect((await recovered.getRun("run_ended")).status).toBe("completed");
        expect(await recovered.getEvents("ses_ended")).toMatchObject([{ sequence: 1, ...sessionFailed }]);
        for (const id of ["ses_live", "ses_remote", "ses_long", "ses_odd"]) {
          expect((await recovered.getSession(id)).status, id).toBe("active");
          expect(await recovered.getEvents(id), id).toEqual([]);
        }
      } finally {
        await recovered.close();
      }
    });
  });
}

export function defineSchemaVersion2Tests<Location>(harness: ReopenHarness<Location>): void {
  describe(`${harness.name} schema version 2 (pruned_events)`, () => {
    it(`migrates a version 1 ${harness.storage}, whose sessions then check healthy and prune normally`, async () => {
      const location = harness.newLocation("v1");
      const old = await harness.openAtVersion1(location);
      await old.saveSession(session("ses_v1"));
      for (const id of ["evt_1", "evt_2", "evt_3"]) {
        await old.appendEvent({
          id,
          type: "message_streamed",
          sessionId: "ses_v1",
          timestamp: NOW,
          data: { delta: id },
          metadata: {},
        });
      }
      await old.close();
      await expect(harness.open(location)).rejects.toMatchObject({ code: "migration_required" });

      const store = await harness.open(location, { autoMigrate: true });
      try {
        expect(await store.maintenance.healthCheck()).toMatchObject({ ok: true, issues: [] });
        const report = await store.maintenance.applyRetention({
          pruneEvents: { types: ["message_streamed"], keepLast: 1 },
        });
        expect(report.eventsPruned).toBe(2);
        expect(await store.maintenance.healthCheck()).toMatchObject({ ok: true, issues: [] });
        expect((await store.getEvents("ses_v1")).map(({ sequence }) => sequence)).toEqual([3]);
      } finally {
        await store.close();
      }
    });
  });
}
