import { execFileSync, spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isProcessAlive } from "../../testing/adapter-conformance.js";
import { until } from "../../testing/wait.js";
import { groupHasLiveMembers, signalGroup } from "./process-group.js";
import { protectGroup } from "./watchdog.js";

/*
 * What the watchdog does when its host dies (SIGKILL) is tested on every provider in
 * ../process-tree.test.ts; here: that a run ending normally disarms it without harm.
 */

/** The pids of the watchdogs guarding group `pgid` (ps shows them as `asm-watchdog <pgid>`). */
function watchdogsOf(pgid: number): number[] {
  return execFileSync("ps", ["-e", "-o", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.endsWith(`asm-watchdog ${pgid}`))
    .map((line) => Number(line.split(/\s+/)[0]));
}

describe("protectGroup", () => {
  it("arms one watchdog per group; release() disarms it, and it exits leaving the group alone", async () => {
    const group = spawn("sleep", ["60"], { detached: true, stdio: "ignore" });
    const pgid = group.pid ?? 0;
    try {
      const protection = protectGroup(pgid);
      await until(() => watchdogsOf(pgid).length === 1, "the watchdog runs", 15_000, 25);
      const [watchdog] = watchdogsOf(pgid);

      protection.release();
      protection.release();
      await until(() => !isProcessAlive(watchdog ?? 0), "the disarmed watchdog exits", 15_000, 25);
      expect(groupHasLiveMembers(pgid)).toBe(true);
      expect(watchdogsOf(pgid)).toEqual([]);
    } finally {
      signalGroup(pgid, "SIGKILL");
    }
  });
});
