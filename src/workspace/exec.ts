import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { AsmError } from "../core/errors.js";
import { HeadBuffer } from "../providers/shared/output-buffer.js";
import {
  killGroupAndWait,
  registerGroup,
  signalGroup,
  unregisterGroup,
} from "../providers/shared/process-group.js";

/** Options of `exec` and `execStream`. */
export interface ExecOptions {
  /** Working directory; must exist. Default: this process's. */
  cwd?: string;
  /** The child's whole environment (not merged). Default: this process's `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * After this long the command's whole process group is SIGKILLed and the call rejects with
   * `timeout`. 0 = no limit. Default 30000 ms.
   */
  timeoutMs?: number;
  /**
   * Bytes of stdout and of stderr kept in the result (each; the first ones). Output past it is
   * read and dropped, and the result says `stdoutTruncated` / `stderrTruncated`. Default 1 MiB.
   */
  maxOutputBytes?: number;
  /** Written to the command's stdin, which is then closed. Default: no stdin (reads see end-of-file). */
  input?: string | Uint8Array;
  /** Exit codes that count as success; any other rejects with `command_failed`. Default `[0]`. */
  successExitCodes?: readonly number[];
  /** Aborting it kills the process group and rejects with `cancelled`. */
  signal?: AbortSignal;
}

/** How a command ended, with its (capped) output. */
export interface ExecResult {
  /** The program, as given (`argv[0]`). */
  command: string;
  args: string[];
  cwd: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

/** One piece of a streamed command's output, as it arrived. */
export interface ExecChunk {
  stream: "stdout" | "stderr";
  data: Buffer;
}

/** A running command whose output is read as it comes (`execStream`). */
export interface ExecStream extends AsyncIterable<ExecChunk> {
  /** Settles as `exec` would, once the command and its process group are gone. */
  readonly result: Promise<ExecResult>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT_BYTES = 1_048_576;
/** Output queued for a stream's reader beyond which the command's pipes are paused. */
const STREAM_HIGH_WATER_BYTES = 1_048_576;

/**
 * Runs a program — `argv[0]`, looked up on PATH, with `argv[1…]` as its arguments, never through
 * a shell — in its own process group, and resolves once it exited and its group is gone.
 * Rejects with an `AsmError`: `command_not_found` (no such program), `command_failed` (an exit
 * code outside `successExitCodes`, or killed by a signal: `details.exitCode` / `details.signal`,
 * with the output), `timeout` (`details.timeoutMs`), `cancelled` (the signal aborted),
 * `validation_error` (empty argv, a missing `cwd`, NUL bytes). A timeout or cancel SIGKILLs the
 * whole group — everything the command started.
 */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    startCommand(argv, options, undefined, resolve, reject);
  });
}

/**
 * `exec`, with the output also delivered as it comes: iterate the returned stream for its chunks
 * (stdout and stderr as they arrive; every byte, whatever `maxOutputBytes`), and await `result`.
 * The command's pipes are paused while more than 1 MiB waits for the reader. Iteration ends when
 * the output does; a failed command rejects `result` (iteration itself never throws).
 */
export function execStream(argv: readonly string[], options: ExecOptions = {}): ExecStream {
  const queue: ExecChunk[] = [];
  let queuedBytes = 0;
  let ended = false;
  let wake: (() => void) | undefined;
  let control: PipeControl | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const result = new Promise<ExecResult>((resolve, reject) => {
    control = startCommand(
      argv,
      options,
      (chunk) => {
        queue.push(chunk);
        queuedBytes += chunk.data.length;
        if (queuedBytes > STREAM_HIGH_WATER_BYTES) control?.pause();
        notify();
      },
      resolve,
      reject,
    );
  });
  const finish = () => {
    ended = true;
    notify();
  };
  result.then(finish, finish);
  return {
    result,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const chunk = queue.shift();
        if (chunk) {
          queuedBytes -= chunk.data.length;
          if (queuedBytes <= STREAM_HIGH_WATER_BYTES) control?.resume();
          yield chunk;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}

interface PipeControl {
  pause(): void;
  resume(): void;
}

function startCommand(
  argv: readonly string[],
  options: ExecOptions,
  onChunk: ((chunk: ExecChunk) => void) | undefined,
  resolve: (result: ExecResult) => void,
  reject: (error: AsmError) => void,
): PipeControl | undefined {
  const [command, ...args] = argv;
  const cwd = options.cwd ?? process.cwd();
  const problem = invalidCall(argv, cwd, options);
  if (problem || command === undefined) {
    reject(problem ?? new AsmError("validation_error", "exec needs a program: argv is empty"));
    return undefined;
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const successExitCodes = options.successExitCodes ?? [0];
  const stdout = new HeadBuffer(maxOutputBytes);
  const stderr = new HeadBuffer(maxOutputBytes);
  const startedAt = performance.now();
  const facts = { command: [...argv], cwd };

  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(command, args, {
      cwd,
      env: options.env ?? process.env,
      shell: false,
      // Own process group: a timeout or cancel reaches whatever the command started too.
      detached: true,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      windowsHide: true,
    });
  } catch (error) {
    reject(new AsmError("validation_error", `cannot spawn ${command}: ${String(error)}`, { cause: error }));
    return undefined;
  }
  const pid = child.pid;
  if (pid === undefined) {
    child.once("error", (error) => reject(spawnFailure(error, command, facts)));
    return undefined;
  }
  // Short-lived commands get the exit hook, not a watchdog process: that would double every spawn.
  registerGroup(pid);

  let stopped: { kind: "timeout" } | { kind: "cancelled" } | undefined;
  const stop = (kind: "timeout" | "cancelled") => {
    if (stopped) return;
    stopped = { kind };
    signalGroup(pid, "SIGKILL");
  };
  const onAbort = () => stop("cancelled");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const timer = timeoutMs > 0 ? setTimeout(() => stop("timeout"), timeoutMs) : undefined;

  child.stdout?.on("data", (data: Buffer) => {
    stdout.write(data);
    onChunk?.({ stream: "stdout", data });
  });
  child.stderr?.on("data", (data: Buffer) => {
    stderr.write(data);
    onChunk?.({ stream: "stderr", data });
  });
  child.on("error", () => {}); // after a successful spawn: only failed kill()/IPC, never used
  if (child.stdin) {
    child.stdin.on("error", () => {}); // EPIPE from a command that does not read its input
    child.stdin.end(options.input);
  }

  child.on("close", (code, exitSignal) => {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    // The leader is gone and its pipes closed; members it left behind go too (a command's
    // background job must not outlive the call that ran it).
    void killGroupAndWait(pid).then(() => {
      unregisterGroup(pid);
      const durationMs = Math.round(performance.now() - startedAt);
      const result: ExecResult = {
        command,
        args,
        cwd,
        exitCode: code ?? -1,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        durationMs,
      };
      if (stopped?.kind === "timeout") {
        reject(
          new AsmError("timeout", `${command} timed out after ${timeoutMs} ms`, {
            details: { ...facts, timeoutMs, durationMs, stdout: result.stdout, stderr: result.stderr },
            hint: "raise timeoutMs, or 0 for no limit",
          }),
        );
      } else if (stopped?.kind === "cancelled") {
        reject(new AsmError("cancelled", `${command} was cancelled`, { details: { ...facts, durationMs } }));
      } else if (code === null || !successExitCodes.includes(code)) {
        const how = code === null ? `was killed by ${exitSignal ?? "a signal"}` : `exited with code ${code}`;
        const firstLine = result.stderr.trim().split("\n")[0];
        reject(
          new AsmError("command_failed", `${command} ${how}${firstLine ? `: ${firstLine}` : ""}`, {
            details: {
              ...facts,
              ...(code === null ? { signal: exitSignal } : { exitCode: code }),
              durationMs,
              stdout: result.stdout,
              stderr: result.stderr,
            },
          }),
        );
      } else {
        resolve(result);
      }
    });
  });

  return {
    pause: () => {
      child.stdout?.pause();
      child.stderr?.pause();
    },
    resume: () => {
      child.stdout?.resume();
      child.stderr?.resume();
    },
  };
}

/** Bad input found before spawning, as a `validation_error`; undefined when the call is fine. */
function invalidCall(argv: readonly string[], cwd: string, options: ExecOptions): AsmError | undefined {
  if (argv.length === 0 || argv[0] === "") {
    return new AsmError("validation_error", "exec needs a program: argv is empty", {
      hint: 'pass the program and its arguments as separate words: exec(["git", "status"])',
    });
  }
  // spawn() throws on NUL bytes in argv, env or paths: say which instead.
  const words = [...argv, cwd, ...Object.entries(options.env ?? {}).flat()];
  if (words.some((word) => typeof word === "string" && word.includes("\0"))) {
    return new AsmError("validation_error", "exec arguments, cwd and env must not contain NUL bytes");
  }
  if (!isDirectory(cwd)) {
    return new AsmError("validation_error", `working directory ${cwd} does not exist or is not a directory`, {
      details: { cwd },
    });
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  if (
    !Number.isInteger(timeoutMs) ||
    timeoutMs < 0 ||
    !Number.isInteger(maxOutputBytes) ||
    maxOutputBytes < 0
  ) {
    return new AsmError(
      "validation_error",
      "exec timeoutMs and maxOutputBytes must be non-negative integers",
      {
        details: { timeoutMs, maxOutputBytes },
      },
    );
  }
  return undefined;
}

function spawnFailure(error: Error, command: string, facts: Record<string, unknown>): AsmError {
  const errno = "code" in error && typeof error.code === "string" ? error.code : undefined;
  if (errno === "ENOENT") {
    return new AsmError("command_not_found", `command not found: ${command}`, {
      details: { ...facts, errno },
      hint: "check the program is installed and on PATH (or pass an absolute path), one argv word each",
      cause: error,
    });
  }
  return new AsmError("command_failed", `cannot execute ${command}: ${error.message}`, {
    details: { ...facts, ...(errno ? { errno } : {}) },
    cause: error,
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
