import { spawn } from "node:child_process";
import type { Socket } from "node:net";
import { registerGroup, unregisterGroup } from "./process-group.js";

/*
 * Nothing a run started may outlive the process that started it (its host).
 *
 * A host that exits (process.exit, the end of its event loop) kills its groups from its exit hook
 * (process-group.ts). A host killed by SIGKILL, or crashing in native code, runs no handler at
 * all, and a provider CLI in its own process group does not notice: it runs on — streaming from
 * the model and billing — until it next writes to its closed stdout, if it ever does.
 *
 * So every protected group also gets a watchdog: a tiny `/bin/sh` process holding the read end
 * of a pipe whose write end only the host holds. However the host dies, the kernel closes that
 * end; the watchdog's `read` then sees end-of-file and it SIGKILLs the group — within
 * milliseconds, with no polling. A run that ends normally disarms it with one newline: `read`
 * succeeds and the watchdog exits without killing anything.
 *
 * The watchdog sits beside the CLI, not between it and the adapter: the CLI's stdio stays
 * connected to the adapter directly, so protection costs one fork+exec of a shell per run and
 * nothing per event. It runs in a session of its own, so a Ctrl-C meant for the host (the
 * terminal signals the foreground process group) does not take the protection away mid-cancel.
 *
 * A process whose stdio is not its own to hand out cannot be given such a pipe by its host —
 * the Codex guard, spawned by the Codex SDK: it watches its parent pid instead (`watchParent`)
 * and exits when the host is gone, and the watchdog of the group it started does the rest.
 */

/** A constant script: the group id is its only argument (`$1`), never part of the script. */
const WATCHDOG_SCRIPT = 'read _ || kill -s KILL -- "-$1"';

/** How often `watchParent` checks the parent pid, by default. */
const PARENT_POLL_MS = 200;

/** A group protected from outliving this process; see `protectGroup`. */
export interface GroupProtection {
  /** Stops protecting the group: call it once the group is confirmed gone. Idempotent. */
  release(): void;
}

/**
 * Protects process group `pgid` (a CLI spawned with `detached: true`) from outliving this
 * process: it is SIGKILLed by the exit hook if this process exits, and by a watchdog process if
 * this process dies any other way (SIGKILL, a crash).
 */
export function protectGroup(pgid: number): GroupProtection {
  registerGroup(pgid);
  const disarm = armWatchdog(pgid);
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      unregisterGroup(pgid);
      disarm();
    },
  };
}

/** Starts the watchdog of group `pgid`; returns the function that disarms it. */
function armWatchdog(pgid: number): () => void {
  let watchdog: ReturnType<typeof spawnWatchdog>;
  try {
    watchdog = spawnWatchdog(pgid);
  } catch {
    // The system could not fork (EAGAIN, EMFILE): the run goes on protected by the exit hook
    // alone, which covers every way of ending but SIGKILL — better than failing the run.
    return () => {};
  }
  // Neither the watchdog nor its pipe keeps this process alive; a failure to start it (no
  // /bin/sh) or a write to one that is gone changes nothing for the run.
  watchdog.on("error", () => {});
  watchdog.stdin.on("error", () => {});
  watchdog.unref();
  (watchdog.stdin as Socket).unref();
  return () => {
    watchdog.stdin.end("\n");
  };
}

function spawnWatchdog(pgid: number) {
  return spawn("/bin/sh", ["-c", WATCHDOG_SCRIPT, "asm-watchdog", String(pgid)], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true,
    windowsHide: true,
  });
}

/**
 * Calls `onGone` once, when this process's parent is gone (the kernel re-parented this process,
 * so its parent pid changed), checking every `pollMs` (default 200). For a process whose parent
 * cannot hand it a pipe to watch (see above). Returns a function that stops watching.
 */
export function watchParent(onGone: () => void, pollMs = PARENT_POLL_MS): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, pollMs);
  timer.unref();
  return () => clearInterval(timer);
}
