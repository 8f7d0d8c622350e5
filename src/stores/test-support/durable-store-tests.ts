/** Tests every durable (SQL) store must pass on opening, whatever its backend. */
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
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
      await first.saveRun(runningRun("run_orphan", "ses_crashed"));
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
