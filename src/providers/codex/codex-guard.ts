#!/usr/bin/env node
/*
 * The Codex guard: the process the Codex SDK spawns in place of the Codex CLI (the protocol is in
 * guard-protocol.ts; guard-launcher.ts makes the executable that runs this file). It runs the
 * real CLI with exactly the argv, environment (minus its own configuration variable) and stdin
 * the SDK gave it, and adds the two things the SDK cannot do:
 *
 * - Codex runs in its own process group, so a stop reaches every process it started (tool
 *   commands, MCP servers), and nothing it started outlives the run;
 * - its stdout goes through the shared JSONL filter, checked against Codex's events (frames.ts):
 *   a malformed or oversized line, or one that is not a Codex event of the right shape, becomes a
 *   `line_problem` frame instead of making the SDK (or the adapter's mapper) throw and kill the run.
 *
 * SIGTERM/SIGINT/SIGHUP (the SDK's abort) or a reader that went away stop the group: SIGTERM,
 * then SIGKILL after the configured grace. The guard exits once the group is gone, as Codex did
 * (its exit code, or its signal raised again), so the SDK reports the same. A parent that died
 * leaves nobody to report to: the guard exits at once, and the protection of Codex's group
 * (../shared/watchdog.ts, as for every provider CLI) SIGKILLs it.
 */
import { once } from "node:events";
import { constants } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CliProcess } from "../shared/cli-process.js";
import { createJsonlFilter } from "../shared/jsonl-reader.js";
import { watchParent } from "../shared/watchdog.js";
import { CODEX_FRAMES } from "./frames.js";
import { GUARD_CONFIG_ENV, type GuardConfig, type GuardFrame, readGuardConfig } from "./guard-protocol.js";

const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
/** Bound on waiting for the rest of Codex's stdout (or the SDK's stdin) once it is over. */
const DRAIN_MS = 2000;

function frameLine(frame: GuardFrame): string {
  return `${JSON.stringify(frame)}\n`;
}

function flushStdout(): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.write("", () => resolve());
  });
}

/** The SDK's environment for Codex: without the guard's variable, PATH as the SDK would set it. */
function codexEnv(env: NodeJS.ProcessEnv, pathDirs: readonly string[]): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = { ...env };
  delete result[GUARD_CONFIG_ENV];
  if (pathDirs.length > 0) {
    const rest = (result.PATH ?? "")
      .split(path.delimiter)
      .filter((entry) => entry.length > 0 && !pathDirs.includes(entry));
    result.PATH = [...pathDirs, ...rest].join(path.delimiter);
  }
  return result;
}

function errnoOf(error: Error | undefined): string | undefined {
  return error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/** Runs Codex to its end; resolves with the exit code or signal the guard should end with. */
async function guard(config: GuardConfig): Promise<number | NodeJS.Signals> {
  // Stop requests are listened for before Codex starts, so none can be lost in between.
  let cli: CliProcess | undefined;
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    cli?.terminate(config.killGraceMs);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  // The SDK stopped reading (it went away): nobody is left to report to.
  process.stdout.on("error", stop);
  process.stdin.on("error", () => {});
  // The SDK owns our stdio, so no pipe from the adapter can tell us it died: watch our parent pid.
  const unwatch = watchParent(() => process.exit(1));

  cli = new CliProcess({
    command: config.executable,
    args: process.argv.slice(2),
    env: codexEnv(process.env, config.pathDirs),
  });
  const pid = cli.pid;
  if (pid === undefined) {
    unwatch();
    await cli.exited;
    const error = cli.spawnError;
    const errno = errnoOf(error);
    process.stdout.write(
      frameLine({
        type: "asm.codex_guard.spawn_failed",
        token: config.token,
        message: error?.message ?? `cannot start ${config.executable}`,
        ...(errno ? { errno } : {}),
      }),
    );
    // Read what the SDK writes, so its write to our stdin never fails with EPIPE.
    process.stdin.resume();
    await Promise.race([once(process.stdin, "end"), sleep(DRAIN_MS)]);
    await flushStdout();
    return 127;
  }
  // Written before any output of Codex, so the adapter learns the group first.
  process.stdout.write(
    frameLine({ type: "asm.codex_guard.started", token: config.token, guardPid: process.pid, pid }),
  );
  if (stopping) cli.terminate(config.killGraceMs);

  process.stdin.pipe(cli.child.stdin);
  cli.child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  const filter = createJsonlFilter(
    (problem) =>
      JSON.stringify({
        type: "asm.codex_guard.line_problem",
        token: config.token,
        problem,
      } satisfies GuardFrame),
    // Frames are checked here, before the SDK: some wrong shapes would make it throw.
    { maxLineBytes: config.maxLineBytes, frames: CODEX_FRAMES },
  );
  const stdoutEnded = once(filter, "end").catch(() => undefined);
  cli.child.stdout.pipe(filter).pipe(process.stdout, { end: false });

  const exit = await cli.exited;
  // Whatever Codex left running goes with it; after a stop request the grace was already given.
  await cli.stop(stopping ? config.killGraceMs : 0);
  await Promise.race([stdoutEnded, sleep(DRAIN_MS)]);
  await flushStdout();
  unwatch();
  if (exit === undefined) return 1;
  return exit.signal ?? exit.code ?? 1;
}

async function main(): Promise<void> {
  let config: GuardConfig;
  try {
    config = readGuardConfig(process.env);
  } catch (error) {
    process.stderr.write(`asm codex guard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const outcome = await guard(config);
  if (typeof outcome === "number") process.exit(outcome);
  // Die from the signal that ended Codex, so the SDK reports it as Codex's own.
  for (const signal of STOP_SIGNALS) process.removeAllListeners(signal);
  process.kill(process.pid, outcome);
  // Only reached when the signal is ignored here (inherited SIG_IGN): end with its shell code.
  setTimeout(() => process.exit(128 + (constants.signals[outcome] ?? 0)), 1000);
}

await main();
