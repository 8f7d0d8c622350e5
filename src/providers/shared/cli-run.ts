import { access, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AsmError } from "../../core/errors.js";
import type { CliProcess } from "./cli-process.js";
import { type FrameCheck, type LineProblem, readJsonLines } from "./jsonl-reader.js";
import { executableNotFound, type ProviderIdentity } from "./provider-failures.js";

/** Scripts run with this process's node, so they need neither an exec bit nor a shebang. */
const SCRIPT_EXTENSION = /\.(?:c|m)?js$/;
/**
 * Once the CLI exited, how long its stdout may stay open: only a process it left behind can hold
 * it, and then the group is stopped rather than waited for.
 */
const PIPE_DRAIN_MS = 2000;

/**
 * Checked before every spawn: spawn reports a missing cwd as ENOENT, which would read as a missing
 * executable, and a missing script would only show as node's own failure. Throws
 * `validation_error` for a cwd that is not a directory, the provider's `executableNotFound` for a
 * missing absolute executable.
 */
export async function checkCliPaths(
  provider: ProviderIdentity,
  cwd: string,
  executable: string,
): Promise<void> {
  const isDirectory = await stat(cwd).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    throw new AsmError("validation_error", `working directory ${cwd} does not exist or is not a directory`, {
      details: { cwd },
    });
  }
  // A bare command name is looked up on PATH by spawn, which reports ENOENT itself.
  if (!path.isAbsolute(executable)) return;
  await access(executable).catch((error: unknown) => {
    throw executableNotFound(provider, executable, error);
  });
}

/**
 * The executable as spawn should get it: a bare name stays as it is (spawn looks it up on PATH);
 * anything with a directory part is a path, resolved against `cwd`.
 */
export function resolveExecutable(executable: string, cwd: string): string {
  return executable.includes("/") ? path.resolve(cwd, executable) : executable;
}

/** The command that runs `executable` with `args`: a `.js`/`.cjs`/`.mjs` script through this node. */
export function cliCommandLine(executable: string, args: string[]): { command: string; args: string[] } {
  return SCRIPT_EXTENSION.test(executable)
    ? { command: process.execPath, args: [executable, ...args] }
    : { command: executable, args };
}

/** How `runCliToEnd` feeds a CLI and reads its JSONL output. */
export interface CliRunSpec<T> {
  cli: CliProcess;
  /** Aborting it cancels: the process group gets SIGTERM, then SIGKILL after `killGraceMs`. */
  signal: AbortSignal;
  killGraceMs: number;
  /** Written to stdin, which is then closed. */
  stdin: string;
  maxLineBytes: number;
  frames: FrameCheck<T>;
  /** Each checked frame, until a cancel is asked for. */
  onFrame(frame: T): void;
  /** Each line that is not a usable frame, until a cancel is asked for. */
  onProblem(problem: LineProblem): void;
}

/**
 * Runs a spawned one-shot CLI to its end: writes `stdin`, maps stdout's lines until it closes,
 * then waits for the process group to be gone. A CLI without an interrupt protocol is cancelled by
 * stopping its group. Resolves true when the run was cancelled (the caller throws `cancelled`).
 */
export async function runCliToEnd<T>(spec: CliRunSpec<T>): Promise<boolean> {
  const { cli, signal, killGraceMs } = spec;
  let cancelled = false;
  const onAbort = (): void => {
    cancelled = true;
    cli.terminate(killGraceMs);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  try {
    cli.child.stdin.end(spec.stdin);
    // Once a cancel is asked for, what the CLI still prints is not the run's anymore.
    await readUntilClosed(spec, () => cancelled);
    if (cancelled) {
      // SIGTERM went out with the abort; this waits for the group, with SIGKILL after the grace.
      await cli.stop(killGraceMs);
    } else {
      // Stdout closes when the CLI exits; give it the grace to finish, then stop anything left behind.
      await Promise.race([cli.exited, sleep(killGraceMs, undefined, { ref: false })]);
      await cli.stop(0);
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return cancelled;
}

/**
 * Maps stdout's lines until it closes. If the CLI exited and a process it left behind still holds
 * the pipe open, that group is stopped and reading ends.
 */
async function readUntilClosed<T>(spec: CliRunSpec<T>, isCancelled: () => boolean): Promise<void> {
  const { cli } = spec;
  const reading = (async () => {
    try {
      for await (const line of readJsonLines(cli.child.stdout, {
        maxLineBytes: spec.maxLineBytes,
        frames: spec.frames,
      })) {
        if (isCancelled()) continue;
        if (line.kind === "problem") spec.onProblem(line.problem);
        else spec.onFrame(line.value);
      }
    } catch {
      // The stream was destroyed below, or failed with the process: the exit tells what happened.
    }
    return "read" as const;
  })();
  const drained = cli.exited.then(() => sleep(PIPE_DRAIN_MS, "drain" as const, { ref: false }));
  if ((await Promise.race([reading, drained])) === "read") return;
  await cli.stop(0);
  cli.child.stdout.destroy();
  await reading;
}
