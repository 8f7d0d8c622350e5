/**
 * Test support for the end-to-end tests that run a real provider CLI (Claude, Codex) on this host:
 * keeping the host's own settings away from it, and finding its processes and the connections they
 * hold in /proc (Linux). Test-only: excluded from the published build (tsconfig.build.json).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
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
