import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
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

/**
 * Whether process `pid` is still running (not a zombie; see `groupHasLiveMembers`). Only safe for
 * a pid that cannot have been reused: a child of this process not yet reaped, say.
 */
export function processIsLive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ESRCH") return false;
  }
  if (process.platform !== "linux") return true;
  return readStat(String(pid))?.live === true;
}

/** A /proc/<pid>/stat's state and group; undefined when the process is gone. */
function readStat(pid: string): { live: boolean; pgrp: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp …": comm may contain spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  return { live: state !== "Z" && state !== "X", pgrp: Number(fields[2]) };
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
    const stat = readStat(entry); // undefined: exited while we looked
    if (stat?.pgrp === pgid && stat.live) return true;
  }
  return false;
}

/** How often a group being waited for is checked. */
export const GROUP_POLL_MS = 50;

/**
 * After SIGKILL, how long a group may take to empty before waiting stops. SIGKILL cannot be
 * caught or ignored, so only the kernel sets this pace: a starved machine can take a while to
 * schedule the dying processes, and only a member stuck in uninterruptible sleep (D state) can
 * outlast it.
 */
export const KILLED_GROUP_WAIT_MS = 10_000;

/** Resolves true once `gone()` holds (checked every GROUP_POLL_MS), false if `timeoutMs` passes first. */
export async function waitUntil(gone: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(GROUP_POLL_MS);
  }
}

/**
 * SIGKILLs group `pgid` and resolves once no live process is left in it and `alsoGone()` holds
 * (say, its leader's exit was seen), within KILLED_GROUP_WAIT_MS; false if that bound passed.
 * SIGKILL is sent again on every check while live members remain: one may have been forking as
 * the first one was delivered. This is what lets a stop resolve only once the tree is confirmed
 * gone, however loaded the machine.
 */
export function killGroupAndWait(pgid: number, alsoGone: () => boolean = () => true): Promise<boolean> {
  return waitUntil(() => {
    if (groupHasLiveMembers(pgid)) {
      signalGroup(pgid, "SIGKILL");
      return false;
    }
    return alsoGone();
  }, KILLED_GROUP_WAIT_MS);
}

/*
 * A safety net for the host process going away mid-run (process.exit() from a CLI's SIGINT
 * handler, say): detached groups do not get the terminal's signals, so without this they would be
 * orphaned. The 'exit' handler must be synchronous, so there is no grace period: SIGKILL.
 * (A host killed by SIGKILL runs no handler at all: see watchdog.ts for that case.)
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

/**
 * SIGKILLs every group registered (and not yet unregistered) in this process, at once. The exit
 * hook uses it; so does a CLI whose user asked twice to stop: the runs' cancels then find their
 * groups gone instead of waiting out the kill grace. Returns how many groups were signalled.
 */
export function killRegisteredGroups(): number {
  for (const pgid of liveGroups) signalGroup(pgid, "SIGKILL");
  return liveGroups.size;
}

/** Remembers a group to kill if the host process exits while it runs. */
export function registerGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (!exitHookInstalled) {
    process.on("exit", killRegisteredGroups);
    exitHookInstalled = true;
  }
}

export function unregisterGroup(pgid: number): void {
  liveGroups.delete(pgid);
}
