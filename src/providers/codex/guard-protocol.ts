import { isRecord } from "../../utils/is-record.js";
import type { LineProblem, LineProblemReason } from "../shared/jsonl-reader.js";

/*
 * What the adapter and the Codex guard process (codex-guard.ts) say to each other.
 *
 * The Codex SDK spawns the path it is given directly and reads its stdout line by line, with
 * no hook for the process or the stream. The adapter gives it the guard's launcher as that path;
 * the guard runs the real Codex CLI — the same executable, argv, environment and stdin the SDK
 * would have used — in its own process group, and passes its stdout through the shared JSONL
 * filter. Its own lines on stdout are the frames below, told apart from Codex's by a per-run
 * token; the SDK yields them like any other event and the adapter takes them out of the stream.
 */

/** Environment variable carrying the guard's configuration (JSON); removed before Codex starts. */
export const GUARD_CONFIG_ENV = "ASM_CODEX_GUARD";

export interface GuardConfig {
  /** The Codex CLI to run. */
  executable: string;
  /** Directories prepended to PATH, as the SDK does for its bundled binary (it ships `rg` there). */
  pathDirs: string[];
  /** Marks the guard's frames, so a line Codex prints can never pass for one. */
  token: string;
  /** Output lines longer than this are replaced by a `line_problem` frame (as are lines that are not Codex events). */
  maxLineBytes: number;
  /** After a stop request, how long Codex's process group gets before SIGKILL. */
  killGraceMs: number;
}

/** First line the guard prints: where Codex runs, so the adapter can watch its process group. */
export interface GuardStartedFrame {
  type: "asm.codex_guard.started";
  token: string;
  /** The guard's own pid. */
  guardPid: number;
  /** Codex's pid, which is also its process group id. */
  pid: number;
}

/** Printed in place of a Codex output line that is not a frame it can pass on (see `createJsonlFilter`). */
export interface GuardLineProblemFrame {
  type: "asm.codex_guard.line_problem";
  token: string;
  problem: LineProblem;
}

/** Printed when Codex could not be started at all (the guard then exits 127). */
export interface GuardSpawnFailedFrame {
  type: "asm.codex_guard.spawn_failed";
  token: string;
  /** The errno code, e.g. `ENOENT`, `EACCES`. */
  errno?: string;
  message: string;
}

export type GuardFrame = GuardStartedFrame | GuardLineProblemFrame | GuardSpawnFailedFrame;

const PROBLEM_REASONS: ReadonlySet<string> = new Set<LineProblemReason>([
  "malformed_json",
  "oversized_line",
  "not_an_object",
  "unknown_frame",
  "invalid_frame",
]);

function isFrameIssue(value: unknown): boolean {
  return isRecord(value) && typeof value.path === "string" && typeof value.message === "string";
}

function isLineProblem(value: unknown): value is LineProblem {
  return (
    isRecord(value) &&
    typeof value.reason === "string" &&
    PROBLEM_REASONS.has(value.reason) &&
    typeof value.message === "string" &&
    typeof value.lineNumber === "number" &&
    typeof value.bytes === "number" &&
    typeof value.preview === "string" &&
    typeof value.truncated === "boolean" &&
    (value.frameType === undefined || typeof value.frameType === "string") &&
    (value.issues === undefined || (Array.isArray(value.issues) && value.issues.every(isFrameIssue)))
  );
}

/** `value` as a guard frame carrying `token`, or undefined (a Codex event, or a forged frame). */
export function parseGuardFrame(value: unknown, token: string): GuardFrame | undefined {
  if (!isRecord(value) || value.token !== token || typeof value.type !== "string") return undefined;
  switch (value.type) {
    case "asm.codex_guard.started":
      return typeof value.guardPid === "number" && typeof value.pid === "number"
        ? { type: value.type, token, guardPid: value.guardPid, pid: value.pid }
        : undefined;
    case "asm.codex_guard.line_problem":
      return isLineProblem(value.problem) ? { type: value.type, token, problem: value.problem } : undefined;
    case "asm.codex_guard.spawn_failed":
      return typeof value.message === "string"
        ? {
            type: value.type,
            token,
            message: value.message,
            ...(typeof value.errno === "string" ? { errno: value.errno } : {}),
          }
        : undefined;
    default:
      return undefined;
  }
}

/** Reads and checks the guard's configuration from its environment. */
export function readGuardConfig(env: NodeJS.ProcessEnv): GuardConfig {
  const text = env[GUARD_CONFIG_ENV];
  if (!text) throw new Error(`${GUARD_CONFIG_ENV} is not set`);
  const value: unknown = JSON.parse(text);
  if (
    !isRecord(value) ||
    typeof value.executable !== "string" ||
    value.executable === "" ||
    !Array.isArray(value.pathDirs) ||
    !value.pathDirs.every((dir: unknown): dir is string => typeof dir === "string") ||
    typeof value.token !== "string" ||
    typeof value.maxLineBytes !== "number" ||
    typeof value.killGraceMs !== "number"
  ) {
    throw new Error(`${GUARD_CONFIG_ENV} is not a valid guard configuration`);
  }
  return {
    executable: value.executable,
    pathDirs: value.pathDirs,
    token: value.token,
    maxLineBytes: value.maxLineBytes,
    killGraceMs: value.killGraceMs,
  };
}
