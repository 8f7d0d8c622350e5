/** Spawning the built CLI (dist/cli/main.js) from a test, and reading what it prints. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { AsmEvent } from "../../core/events.js";

// The tests drive the built binary, the artifact users get (`npm test` builds first).
export const CLI = resolve(import.meta.dirname, "../../../dist/cli/main.js");

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function asm(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return collect(start(args, env));
}

export function start(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export function collect(child: ChildProcess): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolvePromise) =>
    child.on("close", (code) => resolvePromise({ code, stdout, stderr })),
  );
}

export function jsonLines(text: string): AsmEvent[] {
  return text
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as AsmEvent);
}

/**
 * Every stdout line a child prints, kept from its start, so a wait never misses a line that
 * arrived in the same chunk as an earlier one.
 */
export class Lines {
  private readonly lines: string[] = [];
  private partial = "";
  private waiters: (() => void)[] = [];
  private ended = false;

  constructor(child: ChildProcess) {
    child.stdout?.on("data", (chunk: Buffer) => {
      const parts = (this.partial + chunk.toString()).split("\n");
      this.partial = parts.pop() ?? "";
      this.lines.push(...parts);
      this.wake();
    });
    child.on("close", () => {
      this.ended = true;
      this.wake();
    });
  }

  /** Resolves with the first line (ever printed) that matches; bounded by the test timeout. */
  async waitFor(predicate: (line: string) => boolean): Promise<string> {
    for (;;) {
      const match = this.lines.find(predicate);
      if (match !== undefined) return match;
      if (this.ended) throw new Error("process ended before the expected line");
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Fails with what to do when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
}

/** `asm run` of `command` (argv) on the shell provider in `db`, printing JSON events. */
export function shellRunArgs(db: string, command: string[]): string[] {
  return ["run", "--provider", "shell", "--db", db, "--json", "--", ...command];
}
