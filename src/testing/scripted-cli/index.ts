import { createHash } from "node:crypto";
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  SCRIPTED_CLI_ENV,
  type ScriptedCliProvider,
  type ScriptedCliRecord,
  type TranscriptLine,
} from "./protocol.js";

export {
  type FuzzableProvider,
  type FuzzLineKind,
  type FuzzOptions,
  type FuzzTranscript,
  fuzzTranscript,
} from "./fuzz.js";
export {
  SCRIPTED_AMP_THREAD_ID,
  SCRIPTED_CLAUDE_INTERRUPTED_COST_USD,
  SCRIPTED_CLAUDE_SESSION_ID,
  SCRIPTED_CODEX_THREAD_ID,
} from "./profiles.js";
export * from "./protocol.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Running from the TypeScript sources (vitest, tsx) rather than from the compiled package. */
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const resolved = new Map<ScriptedCliProvider, string>();

/**
 * The path of the scripted CLI for `provider`, ready to be executed directly (it is what the
 * adapters' `executablePath` should be):
 *
 * - from the built package, `dist/testing/scripted-cli/<provider>.js` (a `#!/usr/bin/env node`
 *   script), made executable here since a build or an install need not keep the mode bits;
 * - from the sources, or when the file cannot be made executable (read-only install), a small
 *   `/bin/sh` launcher in the temp directory that runs it with this process's node (and tsx for
 *   the `.ts` sources). A launcher rather than `node --import tsx` flags, because SDKs spawn the
 *   path directly (Codex) and drop `NODE_OPTIONS` (Claude).
 *
 * POSIX only: the Codex SDK cannot spawn a script on Windows.
 */
export function scriptedCliPath(provider: ScriptedCliProvider): string {
  const cached = resolved.get(provider);
  if (cached && existsSync(cached)) return cached;
  const file = path.join(HERE, `${provider}.${FROM_SOURCE ? "ts" : "js"}`);
  let result: string | undefined;
  if (!FROM_SOURCE) result = makeExecutable(file);
  result ??= launcher(provider, file);
  resolved.set(provider, result);
  return result;
}

function makeExecutable(file: string): string | undefined {
  try {
    accessSync(file, constants.X_OK);
    return file;
  } catch {
    try {
      chmodSync(file, 0o755);
      return file;
    } catch {
      return undefined;
    }
  }
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function launcher(provider: ScriptedCliProvider, file: string): string {
  const nodeArgs = [process.execPath];
  if (FROM_SOURCE) {
    const tsx = createRequire(import.meta.url).resolve("tsx");
    nodeArgs.push("--import", pathToFileURL(tsx).href);
  }
  const script = `#!/bin/sh\nexec ${[...nodeArgs, file].map(shellQuote).join(" ")} "$@"\n`;
  const hash = createHash("sha256").update(script).digest("hex").slice(0, 12);
  const dir = path.join(tmpdir(), `asm-scripted-cli-${hash}`);
  const target = path.join(dir, provider);
  if (existsSync(target)) return target;
  mkdirSync(dir, { recursive: true });
  // Written aside and renamed: test workers may race to create the same launcher.
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, script, { mode: 0o755 });
  renameSync(temp, target);
  return target;
}

/** The environment that points a scripted CLI at its transcript (and record file). */
export function scriptedCliEnv(options: { scenario: string; record?: string }): Record<string, string> {
  return {
    [SCRIPTED_CLI_ENV.scenario]: options.scenario,
    ...(options.record ? { [SCRIPTED_CLI_ENV.record]: options.record } : {}),
  };
}

/** Writes `lines` as a transcript file (JSONL) and returns its path. */
export function writeTranscript(file: string, lines: readonly TranscriptLine[]): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
  return file;
}

/** Reads a transcript file (JSONL) into its lines, e.g. to adapt a recorded stream before replaying it. */
export function readTranscript(file: string): TranscriptLine[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as TranscriptLine);
}

/** The record a scripted CLI wrote, or undefined when it has not written one (yet). */
export function readScriptedCliRecord(file: string): ScriptedCliRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ScriptedCliRecord;
  } catch {
    return undefined;
  }
}
