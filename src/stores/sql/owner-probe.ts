import { hostname } from "node:os";
import type { RunOwner } from "../../core/run.js";

/**
 * Whether the process that owns a run may still be executing it — the default probe of
 * `recoverOrphanedRuns`. On this host, a signal-0 `kill` of its pid: ESRCH means no such process
 * (dead); EPERM means it exists under another user (alive). An owner on another host cannot be
 * probed from here, so it counts as alive: wrongly failing a live run is worse than leaving a dead
 * one for that host's recovery (or for `healthCheck`'s stuck-run report).
 *
 * A recycled pid makes a dead owner look alive; that errs on the same safe side.
 */
export function isOwnerProcessAlive(owner: RunOwner, localHost: string = hostname()): boolean {
  if (owner.hostname !== localHost) return true;
  // 0 and negative pids address process groups; no run is owned by one.
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
    return code !== "ESRCH";
  }
}
