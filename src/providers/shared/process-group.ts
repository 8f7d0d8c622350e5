import { readdirSync, readFileSync } from "node:fs";
import { AsmError } from "../../core/errors.js";

/*
 * Process-group helpers (POSIX). Commands are spawned with `detached: true`, which makes the child
 * the leader of a new session and process group whose id is its pid, so everything it starts —
 * pipelines, background jobs, grandchildren — can be signalled at once with kill(-pgid).
 * While a group has any member its id cannot be reused as a pid, so signalling it cannot hit a
 * stranger.
 */

/**
 * For an adapter's constructor: throws `capability_not_supported` on Windows, which has no
 * process groups to stop a command tree with.
 */
export function requireProcessGroups(adapterName: string): void {
  if (process.platform === "win32") {
    throw new AsmError("capability_not_supported", `the ${adapterName} adapter needs POSIX process groups`, {
      details: { platform: process.platform },
    });
  }
}

/**
 * Sends `signal` to every process in group `pgid` (`0` only probes). Returns false once the group
 * is empty (ESRCH). Any other failure (EPERM: a member we may not signal) counts as "still there":
 * callers use this inside timers, where throwing would crash the host.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    return !(error instanceof Error && "code" in error && error.code === "ESRCH");
  }
}

/**
 * Whether any process of the group is still running. kill(2) also finds zombies — members that
 * already exited but that no one has reaped yet, which in a container without a reaping init can
 * be forever — so on Linux the answer is refined with /proc, where zombies are told apart.
 */
export function groupHasLiveMembers(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== "linux") return true;
  return linuxGroupHasLiveMember(pgid);
}

function linuxGroupHasLiveMember(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …": comm may contain spaces and parentheses, so split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const state = fields[0];
    if (Number(fields[2]) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

/*
 * A safety net for the host process going away mid-run (process.exit() from a CLI's SIGINT
 * handler, say): detached groups do not get the terminal's signals, so without this they would be
 * orphaned. The 'exit' handler must be synchronous, so there is no grace period: SIGKILL.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killLiveGroups(): void {
  for (const pgid of liveGroups) signalGroup(pgid, "SIGKILL");
}

/** Remembers a group to kill if the host process exits while it runs. */
export function registerGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (!exitHookInstalled) {
    process.on("exit", killLiveGroups);
    exitHookInstalled = true;
  }
}

export function unregisterGroup(pgid: number): void {
  liveGroups.delete(pgid);
}
