import { type ChildProcessByStdio, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { AsmError } from "../../core/errors.js";
import { providerErrorPayload } from "../../core/provider-error.js";
import type { EventSink, ExecuteResult } from "../../ports/provider-adapter.js";
import { HeadBuffer, TailBuffer } from "../shared/output-buffer.js";
import {
  GROUP_POLL_MS,
  groupHasLiveMembers,
  KILLED_GROUP_WAIT_MS,
  signalGroup,
} from "../shared/process-group.js";
import { type GroupProtection, protectGroup } from "../shared/watchdog.js";
import { missingCwd } from "./options.js";

/** Everything one command execution needs, already validated. */
export interface CommandSpec {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** 0 = no limit. */
  timeoutMs: number;
  maxOutputBytes: number;
  killGraceMs: number;
  successExitCodes: readonly number[];
}

const PROVIDER = "shell";
const TOOL_NAME = "shell";
/**
 * How long stdout/stderr may stay open and silent once no process of the group is left. Only a
 * process that escaped the group (setsid) can hold them open longer; then we stop reading rather
 * than hang. Output still arriving restarts the wait.
 */
const PIPE_DRAIN_MS = 2000;

type StreamName = "stdout" | "stderr";
type StopReason = "cancelled" | "timeout";

interface ExitFacts {
  code: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
}

/**
 * Spawns `spec.argv` (never through a shell), streams its output to `sink` and settles once the
 * command's whole process group is gone: resolves on a success exit code, rejects with an
 * `AsmError` otherwise. Emits no events when the program cannot be spawned at all.
 */
export function runCommand(spec: CommandSpec, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
  return new Promise<ExecuteResult>((resolve, reject) => {
    new CommandRun(spec, sink, signal, resolve, reject).start();
  });
}

class CommandRun {
  readonly #spec: CommandSpec;
  readonly #sink: EventSink;
  readonly #signal: AbortSignal;
  readonly #resolve: (result: ExecuteResult) => void;
  readonly #reject: (error: AsmError) => void;

  readonly #toolCallId = `tc_${randomBytes(8).toString("hex")}`;
  readonly #stdout: HeadBuffer;
  readonly #stderr: TailBuffer;
  readonly #decoders: Record<StreamName, StringDecoder> = {
    stdout: new StringDecoder("utf8"),
    stderr: new StringDecoder("utf8"),
  };

  #child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  #pid = 0;
  #protection: GroupProtection | undefined;
  #startedAt = 0;
  #stopReason: StopReason | undefined;
  #exit: ExitFacts | undefined;
  /** stdout and stderr are closed (Node's 'close'), or we gave up waiting for them. */
  #closed = false;
  #termSent = false;
  /** When the kill grace ran out and SIGKILL went to the group (performance.now()). */
  #killedAt: number | undefined;
  #settled = false;

  #timeoutTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #bytesRead = 0;

  constructor(
    spec: CommandSpec,
    sink: EventSink,
    signal: AbortSignal,
    resolve: (result: ExecuteResult) => void,
    reject: (error: AsmError) => void,
  ) {
    this.#spec = spec;
    this.#sink = sink;
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#stdout = new HeadBuffer(spec.maxOutputBytes);
    this.#stderr = new TailBuffer(spec.maxOutputBytes);
  }

  start(): void {
    const [program, ...args] = this.#spec.argv;
    if (program === undefined) {
      this.#reject(new AsmError("validation_error", "empty command"));
      return;
    }
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(program, args, {
        cwd: this.#spec.cwd,
        env: this.#spec.env,
        shell: false,
        // Own process group, so cancel and timeout reach grandchildren too (see ../shared/process-group.ts).
        detached: true,
        // No stdin: a command waiting for input would otherwise wait until the timeout.
        stdio: ["ignore", "pipe", "pipe"],
        windowsHide: true,
      });
    } catch (error) {
      this.#reject(spawnFailure(error, this.#spec));
      return;
    }
    const pid = child.pid;
    if (pid === undefined) {
      // The spawn failed (ENOENT, EACCES, …); Node reports why with an 'error' event.
      child.once("error", (error) => this.#reject(spawnFailure(error, this.#spec)));
      return;
    }

    this.#child = child;
    this.#pid = pid;
    this.#startedAt = performance.now();
    this.#protection = protectGroup(pid);

    const { argv, cwd } = this.#spec;
    this.#sink.emit({ type: "run_started", data: { command: [...argv], cwd, pid } });
    this.#sink.emit({
      type: "tool_call_started",
      data: { toolCallId: this.#toolCallId, toolName: TOOL_NAME, toolInput: { command: [...argv], cwd } },
    });

    child.stdout.on("data", (chunk: Buffer) => this.#onData("stdout", chunk));
    child.stderr.on("data", (chunk: Buffer) => this.#onData("stderr", chunk));
    // After a successful spawn Node only emits 'error' for failed kill()/IPC, which we never use
    // (signals go through process.kill on the group); without a listener it would crash the host.
    child.on("error", () => {});
    child.on("exit", (code, exitSignal) => this.#onExit(code, exitSignal));
    child.on("close", () => {
      this.#closed = true;
      this.#check();
    });

    this.#signal.addEventListener("abort", this.#onAbort, { once: true });
    if (this.#spec.timeoutMs > 0) {
      this.#timeoutTimer = setTimeout(() => this.#stop("timeout"), this.#spec.timeoutMs);
    }
    if (this.#signal.aborted) this.#stop("cancelled");
  }

  readonly #onAbort = (): void => this.#stop("cancelled");

  #onData(stream: StreamName, chunk: Buffer): void {
    this.#bytesRead += chunk.length;
    // Output is still flowing, so the pipes are not held open by a stray process: keep reading.
    this.#drainTimer?.refresh();
    if (stream === "stdout") this.#stdout.write(chunk);
    else this.#stderr.write(chunk);
    // One decoder per stream keeps a multibyte character split across chunks for the next delta.
    const delta = this.#decoders[stream].write(chunk);
    if (delta.length > 0) this.#sink.emit({ type: "message_streamed", data: { delta, stream } });
  }

  #onExit(code: number | null, exitSignal: NodeJS.Signals | null): void {
    this.#exit = { code, signal: exitSignal, durationMs: this.#elapsedMs() };
    clearTimeout(this.#timeoutTimer);
    this.#check();
  }

  /** Cancel or timeout: the first reason wins; once the command has exited its outcome is fixed. */
  #stop(reason: StopReason): void {
    if (this.#settled || this.#exit !== undefined || this.#stopReason !== undefined) return;
    this.#stopReason = reason;
    clearTimeout(this.#timeoutTimer);
    this.#terminateGroup();
  }

  /** SIGTERM to the whole group now, SIGKILL after the grace unless it is gone by then. */
  #terminateGroup(): void {
    if (this.#termSent) return;
    this.#termSent = true;
    signalGroup(this.#pid, "SIGTERM");
    this.#killTimer = setTimeout(() => {
      this.#killTimer = undefined;
      this.#killedAt = performance.now();
      signalGroup(this.#pid, "SIGKILL");
      // Checked until the kernel has removed every member (or the leader's exit never comes).
      this.#pollTimer ??= setInterval(() => this.#check(), GROUP_POLL_MS);
      this.#check();
    }, this.#spec.killGraceMs);
  }

  /**
   * Settles once three things hold: the leader exited, no process of its group is left, and its
   * pipes closed (or the drain timer gave up on them). Called on every relevant event and timer.
   * After SIGKILL the first two are waited for at most KILLED_GROUP_WAIT_MS: only a member stuck
   * in uninterruptible sleep takes longer, and it dies of the pending SIGKILL when it wakes.
   */
  #check(): void {
    if (this.#settled) return;
    const killWaitOver =
      this.#killedAt !== undefined && performance.now() - this.#killedAt >= KILLED_GROUP_WAIT_MS;
    if (this.#exit === undefined && !killWaitOver) return;
    if (!killWaitOver && groupHasLiveMembers(this.#pid)) {
      // Members outlived the leader: background jobs it left behind, or processes still handling
      // SIGTERM. A run must not leak processes, and they may hold our pipes open, so stop them
      // too; once SIGKILL was sent, it goes again to any member forked while it was delivered.
      if (this.#killedAt === undefined) this.#terminateGroup();
      else signalGroup(this.#pid, "SIGKILL");
      this.#pollTimer ??= setInterval(() => this.#check(), GROUP_POLL_MS);
      return;
    }
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    if (!this.#closed) {
      this.#armDrainTimer();
      return;
    }
    this.#settle();
  }

  #armDrainTimer(): void {
    this.#drainTimer ??= setTimeout(() => {
      // Timers run before I/O in the event loop: on a starved machine output may already be
      // waiting in the pipe. Give reading one turn, and give up only if nothing came.
      const bytesBefore = this.#bytesRead;
      setImmediate(() => {
        if (this.#settled || this.#closed) return;
        if (this.#bytesRead !== bytesBefore) {
          this.#drainTimer?.refresh();
          return;
        }
        this.#child?.stdout.destroy();
        this.#child?.stderr.destroy();
        this.#child?.unref();
        this.#closed = true;
        this.#check();
      });
    }, PIPE_DRAIN_MS);
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#timeoutTimer);
    clearTimeout(this.#killTimer);
    clearTimeout(this.#drainTimer);
    clearInterval(this.#pollTimer);
    this.#signal.removeEventListener("abort", this.#onAbort);
    this.#protection?.release();

    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.#decoders[stream].end();
      if (rest.length > 0) this.#sink.emit({ type: "message_streamed", data: { delta: rest, stream } });
    }

    const exit = this.#exit;
    const durationMs = exit?.durationMs ?? this.#elapsedMs();
    const ending = describeExit(exit);
    const stderr = this.#stderr.text();

    if (this.#stopReason === "cancelled") {
      this.#failToolCall({ ...ending.facts, durationMs }, "cancelled");
      this.#reject(
        new AsmError("cancelled", `${this.#program()} was cancelled`, {
          details: { ...ending.facts, durationMs },
        }),
      );
      return;
    }
    if (this.#stopReason === "timeout") {
      const { timeoutMs } = this.#spec;
      const message = `${this.#program()} timed out after ${timeoutMs} ms`;
      this.#failToolCall({ ...ending.facts, durationMs }, message);
      this.#reject(
        new AsmError("timeout", message, {
          details: { timeoutMs, durationMs },
          providerError: providerErrorPayload({ provider: PROVIDER, kind: "timeout", message, stderr }),
          hint: "raise timeoutMs (adapter option, or per run in providerOptions.shell), or 0 for no limit",
        }),
      );
      return;
    }

    const exitCode = exit?.code ?? null;
    if (exitCode !== null && this.#spec.successExitCodes.includes(exitCode)) {
      const content = this.#stdout.text();
      this.#sink.emit({
        type: "tool_call_completed",
        data: { toolCallId: this.#toolCallId, toolName: TOOL_NAME, toolOutput: { exitCode, durationMs } },
      });
      this.#sink.emit({ type: "message_received", data: { role: "tool", content } });
      this.#resolve({
        output: {
          content,
          exitCode,
          stderr,
          ...(this.#stdout.truncated ? { truncated: true } : {}),
          ...(this.#stderr.truncated ? { stderrTruncated: true } : {}),
        },
        stopReason: `exit_code_${exitCode}`,
        tokenUsage: { inputTokens: 0, outputTokens: 0 },
      });
      return;
    }

    const message = `${this.#program()} ${ending.text}`;
    this.#failToolCall({ ...ending.facts, durationMs }, message);
    this.#reject(
      new AsmError("command_failed", message, {
        details: { ...ending.facts, durationMs },
        providerError: providerErrorPayload({
          provider: PROVIDER,
          kind: "transport_exit",
          ...(exitCode !== null ? { exitCode } : {}),
          // Without a stderr line to name the failure, say how the command ended instead.
          ...(exitCode === null || stderr.trim() === "" ? { message } : {}),
          stderr,
        }),
      }),
    );
  }

  #failToolCall(toolOutput: Record<string, unknown>, errorMessage: string): void {
    this.#sink.emit({
      type: "tool_call_failed",
      data: { toolCallId: this.#toolCallId, toolName: TOOL_NAME, toolOutput, errorMessage },
    });
  }

  #program(): string {
    return `\`${this.#spec.argv[0] ?? ""}\``;
  }

  #elapsedMs(): number {
    return Math.round(performance.now() - this.#startedAt);
  }
}

function describeExit(exit: ExitFacts | undefined): { facts: Record<string, unknown>; text: string } {
  if (exit?.code != null) return { facts: { exitCode: exit.code }, text: `exited with code ${exit.code}` };
  if (exit?.signal != null) return { facts: { signal: exit.signal }, text: `was killed by ${exit.signal}` };
  return { facts: {}, text: "did not report how it exited" };
}

function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

/** Maps a failure to start the program (nothing ran, no events were emitted) to an AsmError. */
function spawnFailure(error: unknown, spec: CommandSpec): AsmError {
  const program = spec.argv[0] ?? "";
  const errno = errnoCode(error);
  if (errno === "ENOENT" || errno === "ENOTDIR") {
    // spawn also says ENOENT for a missing cwd; it was checked just before, but may have gone since.
    if (!isDirectory(spec.cwd)) return missingCwd(spec.cwd);
    const message = `command not found: ${program}`;
    const hint = /\s/.test(program)
      ? "the program name contains whitespace: pass each argv word separately " +
        '(input.command: ["ls", "-la"]), or opt in to allowShellString and pass a command line in input.prompt'
      : "check the program is installed and on PATH (or pass an absolute path); pass each argv word " +
        "separately, or opt in to allowShellString to run a shell command line";
    return new AsmError("command_not_found", message, {
      details: { command: [...spec.argv], cwd: spec.cwd, errno },
      providerError: providerErrorPayload({ provider: PROVIDER, kind: "cli_not_found", message }),
      hint,
      cause: error,
    });
  }
  if (errno === "ERR_INVALID_ARG_VALUE" || errno === "ERR_INVALID_ARG_TYPE") {
    return new AsmError("validation_error", `cannot spawn ${program}: ${String(error)}`, { cause: error });
  }
  const reason =
    errno === "EACCES" ? "permission denied" : error instanceof Error ? error.message : String(error);
  const message = `cannot execute ${program}: ${reason}`;
  return new AsmError("command_failed", message, {
    details: { command: [...spec.argv], cwd: spec.cwd, ...(errno ? { errno } : {}) },
    providerError: providerErrorPayload({ provider: PROVIDER, kind: "process_error", message }),
    ...(errno === "EACCES" ? { hint: "check the file is executable (chmod +x) and is not a directory" } : {}),
    cause: error,
  });
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
