/**
 * Test support for the end-to-end tests that run a real provider CLI (Claude, Codex) on this host:
 * keeping the host's own settings away from it, and finding its processes and the connections they
 * hold in /proc (Linux). Test-only: excluded from the published build (tsconfig.build.json).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect } from "vitest";
import { AsmError } from "../../core/errors.js";
import { isTerminalRunEventType } from "../../core/events.js";
import type { SessionStore } from "../../ports/session-store.js";
import type { SessionManager } from "../../session-manager.js";
import { isProcessAlive } from "../../testing/adapter-conformance.js";

/**
 * Removes the variables whose names match `hostVariable` from `process.env` for the test file's
 * tests (those that could send the CLI elsewhere or log it in for real), and puts them back after.
 */
export function withoutHostVariables(hostVariable: RegExp): void {
  const savedEnv: Record<string, string> = {};
  beforeAll(() => {
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && hostVariable.test(name)) {
        savedEnv[name] = value;
        delete process.env[name];
      }
    }
  });
  afterAll(() => {
    Object.assign(process.env, savedEnv);
  });
}

/** Pids of live processes whose environment carries `ASM_E2E_MARKER=<marker>`. */
export function markedProcesses(marker: string): number[] {
  const needle = `ASM_E2E_MARKER=${marker}`;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, "latin1").split("\0").includes(needle))
        pids.push(Number(entry));
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return pids.filter(isProcessAlive);
}

/** Remote addresses (hex, as in /proc/net/tcp) of the TCP connections `pid` holds (listening sockets excluded). */
export function remoteAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    }
  } catch {
    return [];
  }
  const remotes: string[] = [];
  for (const table of ["tcp", "tcp6"]) {
    let lines: string[];
    try {
      lines = readFileSync(`/proc/${pid}/net/${table}`, "utf8").trim().split("\n").slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      const remote = fields[2] ?? "";
      if (inodes.has(fields[9] ?? "") && !/^0+:0+$/.test(remote)) remotes.push(remote);
    }
  }
  return remotes;
}

/** 127.x.x.x (IPv4, or IPv4-mapped in tcp6) and ::1, in /proc/net's hex notation. */
export function isLoopback(hexAddress: string): boolean {
  const [address = ""] = hexAddress.split(":");
  if (address.length === 8) return address.endsWith("7F");
  return (
    address === "00000000000000000000000001000000" || /^0000000000000000FFFF0000[0-9A-F]{6}7F$/.test(address)
  );
}

/**
 * The e2e cancel case both real CLIs share: start a run whose mock model never answers, wait until
 * the CLI's request reached the mock, check every socket of the marked processes is loopback,
 * abort, then check the run ended `cancelled` exactly once and no marked process is left.
 */
export async function expectCancelledMidRequest(setup: {
  manager: SessionManager;
  store: SessionStore;
  /** The value of the environment marker the harness gave the CLI's processes. */
  marker: string;
  /** How many model requests the mock has seen so far. */
  requestCount: () => number;
  /** Processes expected to carry the marker (the CLI, and a guard in front of it if any). */
  minProcesses: number;
}): Promise<void> {
  const { manager, store, marker, requestCount, minProcesses } = setup;
  const controller = new AbortController();
  let sessionId: string | undefined;
  const pending = manager
    .runOnce(
      { prompt: "Take your time" },
      {
        signal: controller.signal,
        onEvent: (event) => {
          sessionId ??= event.sessionId;
        },
      },
    )
    .catch((caught: unknown) => caught);
  const deadline = Date.now() + 30_000;
  while (requestCount() === 0 && Date.now() < deadline) await sleep(50);
  expect(requestCount()).toBeGreaterThan(0);
  const pids = markedProcesses(marker);
  expect(pids.length).toBeGreaterThanOrEqual(minProcesses);
  const remotes = pids.flatMap(remoteAddresses);
  expect(remotes.length).toBeGreaterThan(0);
  expect(remotes.filter((remote) => !isLoopback(remote))).toEqual([]);

  const abortedAt = Date.now();
  controller.abort();
  const error = await pending;
  expect(error).toBeInstanceOf(AsmError);
  expect(error).toMatchObject({ code: "cancelled" });
  expect(Date.now() - abortedAt).toBeLessThan(15_000);
  expect(pids.filter(isProcessAlive)).toEqual([]);
  expect(markedProcesses(marker)).toEqual([]);

  const events = await store.getEvents(sessionId ?? "", { limit: 1000 });
  expect(events.filter((event) => isTerminalRunEventType(event.type)).map((event) => event.type)).toEqual([
    "run_cancelled",
  ]);
  const runs = await store.listRuns(sessionId ?? "");
  expect(runs.map((run) => run.status)).toEqual(["cancelled"]);
}
