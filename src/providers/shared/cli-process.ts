import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { TailBuffer } from "./output-buffer.js";
import { groupHasLiveMembers, registerGroup, signalGroup, unregisterGroup } from "./process-group.js";

export interface CliProcessSpec {
  command: string;
  args: readonly string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Bytes of stderr kept (its end). Default 64 KiB. */
  stderrTailBytes?: number;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How often a process group being stopped is checked for members left. */
const POLL_MS = 50;

/**
 * A provider CLI started in its own process group (POSIX), so that everything it starts — tool
 * commands, MCP servers, shells — is stopped with it. Keeps the end of its stderr for error
 * reports. Spawning never throws: a failure to start is in `spawnError`.
 */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<CliExit | undefined>;
  readonly #stderr: TailBuffer;
  #exit: CliExit | undefined;
  #spawnError: Error | undefined;
  #terminating = false;
  #killTimer: NodeJS.Timeout | undefined;

  constructor(spec: CliProcessSpec) {
    this.#stderr = new TailBuffer(spec.stderrTailBytes ?? 65_536);
    this.child = spawn(spec.command, [...spec.args], {
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      env: spec.env,
      // Own process group: a stop reaches the CLI's children too (see process-group.ts).
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    const pid = this.child.pid;
    if (pid !== undefined) registerGroup(pid);
    this.child.stderr.on("data", (chunk: Buffer) => this.#stderr.write(chunk));
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
      this.child.once("error", (error) => {
        // After a successful spawn 'error' only reports a failed kill or IPC, which we never use.
        if (this.child.pid === undefined) {
          this.#spawnError = error;
          resolve(undefined);
        }
      });
    });
    // Writes to a CLI that already exited fail with EPIPE; the exit is what gets reported.
    this.child.stdin.on("error", () => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exit(): CliExit | undefined {
    return this.#exit;
  }

  get spawnError(): Error | undefined {
    return this.#spawnError;
  }

  stderrText(): string {
    return this.#stderr.text();
  }

  /** Sends `signal` to the whole process group. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid !== undefined) signalGroup(pid, signal);
  }

  /** SIGTERM to the group now, SIGKILL after `graceMs` unless it is gone by then. Idempotent. */
  terminate(graceMs: number): void {
    const pid = this.child.pid;
    if (pid === undefined || this.#terminating) return;
    this.#terminating = true;
    signalGroup(pid, "SIGTERM");
    this.#killTimer = setTimeout(() => {
      if (groupHasLiveMembers(pid)) signalGroup(pid, "SIGKILL");
    }, graceMs);
    this.#killTimer.unref();
  }

  /** True once the CLI exited and no process of its group is left. */
  isGone(): boolean {
    const pid = this.child.pid;
    if (pid === undefined) return true;
    return this.#exit !== undefined && !groupHasLiveMembers(pid);
  }

  /**
   * Waits until the CLI and its whole group are gone, stopping them if they are not within
   * `graceMs`: SIGTERM, then SIGKILL after another `graceMs`. Resolves false only if even
   * SIGKILL did not end them within a further 2 s (a process that left the group cannot be
   * reached this way).
   */
  async stop(graceMs: number): Promise<boolean> {
    const deadline = Date.now() + graceMs;
    while (!this.isGone() && Date.now() < deadline) await sleep(POLL_MS);
    if (!this.isGone()) this.terminate(graceMs);
    const hardDeadline = Date.now() + graceMs + 2000;
    while (!this.isGone() && Date.now() < hardDeadline) await sleep(POLL_MS);
    const gone = this.isGone();
    if (gone) this.dispose();
    return gone;
  }

  /** Stops tracking the group for the exit hook. */
  dispose(): void {
    clearTimeout(this.#killTimer);
    const pid = this.child.pid;
    if (pid !== undefined) unregisterGroup(pid);
  }
}
