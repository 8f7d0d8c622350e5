import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CrashStoreSpec,
  crashWhileStreaming,
  expectRecoveredCrash,
  recoverFromProcesses,
} from "../sql/test-support/crash-scenario.js";
import { openSqliteStore } from "./index.js";

const root = mkdtempSync(join(tmpdir(), "asm-sqlite-crash-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let databases = 0;
function newSpec(): CrashStoreSpec & { kind: "sqlite" } {
  databases += 1;
  return { kind: "sqlite", path: join(root, `crash-${databases}.db`) };
}

describe("SqliteSessionStore after its process is killed mid-run", () => {
  it("reopens with every acknowledged event, the run failed for its dead owner, one run_failed", async () => {
    const spec = newSpec();
    const crash = await crashWhileStreaming(spec);
    const store = await openSqliteStore({ path: spec.path });
    try {
      await expectRecoveredCrash(store, crash);
    } finally {
      await store.close();
    }
  });

  it("fails the run exactly once when two processes recover it at the same moment", async () => {
    const spec = newSpec();
    const crash = await crashWhileStreaming(spec);
    const reports = await recoverFromProcesses(spec, 2);
    const runId = crash.acknowledged.find((event) => event.runId !== undefined)?.runId;
    expect(reports.flatMap(({ recoveredRunIds }) => recoveredRunIds)).toEqual([runId]);
    const store = await openSqliteStore({ path: spec.path, recover: false });
    try {
      await expectRecoveredCrash(store, crash);
    } finally {
      await store.close();
    }
  });
});
