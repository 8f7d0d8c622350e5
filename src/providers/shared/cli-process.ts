import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { TailBuffer } from "./output-buffer.js";
import { groupHasLiveMembers, killGroupAndWait, signalGroup, waitUntil } from "./process-group.js";
import { type GroupProtection, protectGroup } from "./watchdog.js";

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

/**
 * A provider CLI started in its own process group (POSIX), so that everything it starts — tool
 * commands, MCP servers, shells — is stopped with it, and protected from outliving this process
 * however it ends (see watchdog.ts). Keeps the end of its stderr for error reports. Spawning
 * never throws: a failure to start is in `spawnError`.
 */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<CliExit | undefined>;
  readonly #stderr: TailBuffer;
  #exit: CliExit | undefined;
  #spawnError: Error | undefined;
  #protection: GroupProtection | undefined;
  /** When the SIGTERM of `terminate` turns into SIGKILL (epoch ms); undefined until it is sent. */
  #killAt: number | undefined;
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
    if (pid !== undefined) this.#protection = protectGroup(pid);
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
    if (pid === undefined || this.#killAt !== undefined) return;
    this.#killAt = Date.now() + graceMs;
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
   * Resolves once the CLI and its whole group are confirmed gone, stopping them if they are not
   * within `graceMs`: SIGTERM (unless `terminate` sent it already), SIGKILL once the grace since
   * that SIGTERM is over, and then the wait for the kernel to remove them. Resolves false only if
   * even that did not end them within KILLED_GROUP_WAIT_MS (a member stuck in uninterruptible
   * sleep, which dies of the pending SIGKILL as soon as it wakes).
   */
  async stop(graceMs: number): Promise<boolean> {
    const pid = this.child.pid;
    if (pid === undefined) return true;
    const isGone = (): boolean => this.isGone();
    let gone = this.#killAt === undefined && (await waitUntil(isGone, graceMs));
    if (!gone) {
      this.terminate(graceMs);
      gone = await waitUntil(isGone, Math.max(0, (this.#killAt ?? 0) - Date.now()));
    }
    // The grace is over: SIGKILL, and resolve only once nothing of the group is left.
    if (!gone) gone = await killGroupAndWait(pid, () => this.#exit !== undefined);
    this.#release();
    return gone;
  }

  /** Stops protecting the group: it is gone, or has SIGKILL pending. */
  #release(): void {
    clearTimeout(this.#killTimer);
    this.#protection?.release();
  }
}
