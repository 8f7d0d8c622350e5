import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { z } from "zod";
import type { PermissionMode } from "../../core/permission-mode.js";
import type { JsonObject } from "../../core/session.js";
import { parseWith } from "../../core/validation.js";
import {
  type AgentAdapterOptions,
  agentAdapterOptionsSchema,
  cliArgumentSchema,
  permissionModeSchema,
  type ResolvedAgentOptions,
  resolveAgentOptions,
  timerMsSchema,
} from "../shared/agent-options.js";
import { resolveExecutable } from "../shared/cli-run.js";
import { DEFAULT_MAX_LINE_BYTES } from "../shared/jsonl-reader.js";

/**
 * What `providerOptions` of a `GeminiAdapter` may hold. Unknown keys are rejected, so a typo
 * never silently drops a setting.
 */
export interface GeminiProviderOptions {
  /**
   * More Gemini CLI settings for every run (the `settings.json` schema, e.g. `{ mcpServers: {…} }`
   * or `{ model: { name: … } }`), laid under what the adapter sets itself: the approval mode
   * flag, tool rules, auth type, retries, telemetry. Default: none.
   */
  settings?: Record<string, unknown>;
}

/**
 * Options of a `GeminiAdapter`, fixed for the runs it executes. The common ones map to the
 * `gemini` CLI as follows:
 *
 * - `executablePath`: default the `bundle/gemini.js` of the installed `@google/gemini-cli`
 *   package, else `gemini` on `PATH`. A `.js`/`.mjs`/`.cjs` path runs with this process's node.
 * - `model` → `-m`. Default: the CLI's own (`auto`, which routes each turn).
 * - `systemPrompt` **replaces** Gemini's system prompt (written to a file named by
 *   `GEMINI_SYSTEM_MD`).
 * - `maxTurns` → the `model.maxSessionTurns` setting.
 * - `permissionMode` → `--approval-mode`; see `geminiApprovalMode` for the table.
 * - `allowedTools` → `tools.allowed` (run without confirmation), `deniedTools` →
 *   `tools.exclude`, in Gemini's tool names (or canonical ones, see `GEMINI_TOOL_NAMES`).
 * - `env` is merged over `process.env`. The CLI's own state (`GEMINI_CLI_HOME`) is always the
 *   asm session's directory under `stateDir`, never the user's `~/.gemini`.
 */
export interface GeminiAdapterOptions extends AgentAdapterOptions {
  /**
   * Pass `--skip-trust`: run in a folder Gemini has not been told to trust. Without it a headless
   * run in an untrusted folder fails at once (the CLI's exit code 55, reported as
   * `provider_error` with a hint), and a non-default approval mode is downgraded to `default`.
   * Only for unattended runs whose `cwd` you trust. Default `false`.
   */
  trustWorkspace?: boolean;
  /**
   * Where each asm session's Gemini state lives (`<stateDir>/<sessionId>` is its
   * `GEMINI_CLI_HOME`: settings, chats for `--resume`, logs, temp files). Native resume needs the
   * same directory across processes; a temp directory is lost on reboot. Default
   * `<os.tmpdir()>/asm-gemini-<uid>`.
   */
  stateDir?: string;
  /**
   * Attempts per model request (the `general.maxAttempts` setting, 1–10). The CLI waits 5–30 s
   * between attempts, so the default fails a dead endpoint in seconds and leaves retries to
   * the caller, who gets a typed, retryable error (`provider_rate_limited` with
   * `details.retryAfterMs`, or a transient server error). Default `1`.
   */
  maxAttempts?: number;
  /** After a cancel, milliseconds between SIGTERM and SIGKILL to the CLI's process group. Default `2000`. */
  killGraceMs?: number;
  /** Output lines longer than this many bytes are skipped and reported as `parse_error`. Default 1 MiB. */
  maxLineBytes?: number;
}

/**
 * Per-run options: the `gemini` namespace of `executeRun({ providerOptions })`; each overrides
 * the adapter's. Unknown keys are a `validation_error`.
 */
export interface GeminiRunOptions {
  /**
   * Continue this Gemini session (`--resume <id>`): the `providerSessionId` of an earlier run of
   * the same asm session (its chats live in that session's state directory). Without it the run
   * starts a new Gemini session under a fresh id (`--session-id`).
   */
  resumeSessionId?: string;
  model?: string;
  permissionMode?: PermissionMode;
  systemPrompt?: string;
}

/** The CLI the adapter runs when no `executablePath` is given: the installed package's bundle, else `gemini`. */
export function defaultGeminiExecutable(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve("@google/gemini-cli/package.json");
    return path.join(path.dirname(pkg), "bundle", "gemini.js");
  } catch {
    return "gemini";
  }
}

export const GEMINI_ADAPTER_DEFAULTS = Object.freeze({
  trustWorkspace: false,
  maxAttempts: 1,
  killGraceMs: 2000,
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
});

/** `GeminiAdapterOptions` validated, with defaults applied. */
export interface ResolvedGeminiOptions
  extends Omit<ResolvedAgentOptions, "providerOptions" | "executablePath"> {
  executablePath: string;
  trustWorkspace: boolean;
  stateDir: string;
  maxAttempts: number;
  killGraceMs: number;
  maxLineBytes: number;
  providerOptions: Readonly<GeminiProviderOptions>;
}

const sessionId = z.string().regex(/^[0-9a-fA-F-]{8,64}$/, "must be a Gemini session id (a UUID)");

const providerOptionsSchema = z.strictObject({
  settings: z.record(z.string(), z.unknown()).optional(),
});

const adapterSchema = agentAdapterOptionsSchema.extend({
  model: cliArgumentSchema.optional(),
  trustWorkspace: z.boolean().optional(),
  stateDir: z.string().min(1).optional(),
  maxAttempts: z.number().int().min(1).max(10).optional(),
  killGraceMs: timerMsSchema.optional(),
  maxLineBytes: z.number().int().positive().optional(),
});

const runSchema = z.strictObject({
  resumeSessionId: sessionId.optional(),
  model: cliArgumentSchema.optional(),
  permissionMode: permissionModeSchema.optional(),
  systemPrompt: z.string().optional(),
});

function defaultStateDir(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : "user";
  return path.join(tmpdir(), `asm-gemini-${uid}`);
}

/** Validates the adapter's options (throws `validation_error`) and applies defaults. */
export function resolveGeminiOptions(options: GeminiAdapterOptions): ResolvedGeminiOptions {
  const value = parseWith(adapterSchema, options, "gemini adapter options");
  const { trustWorkspace, stateDir, maxAttempts, killGraceMs, maxLineBytes, providerOptions, ...common } =
    value;
  const resolved = resolveAgentOptions(common, "gemini adapter options");
  const executable = resolved.executablePath ?? defaultGeminiExecutable();
  const { executablePath: _executable, providerOptions: _provider, ...rest } = resolved;
  return {
    ...rest,
    executablePath: resolveExecutable(executable, resolved.cwd),
    trustWorkspace: trustWorkspace ?? GEMINI_ADAPTER_DEFAULTS.trustWorkspace,
    stateDir: path.resolve(stateDir ?? defaultStateDir()),
    maxAttempts: maxAttempts ?? GEMINI_ADAPTER_DEFAULTS.maxAttempts,
    killGraceMs: killGraceMs ?? GEMINI_ADAPTER_DEFAULTS.killGraceMs,
    maxLineBytes: maxLineBytes ?? GEMINI_ADAPTER_DEFAULTS.maxLineBytes,
    providerOptions: Object.freeze(
      parseWith(providerOptionsSchema, providerOptions ?? {}, "gemini providerOptions"),
    ),
  };
}

/** Validates the run's `gemini` options; unknown keys are rejected. */
export function parseGeminiRunOptions(options: JsonObject): GeminiRunOptions {
  return parseWith(runSchema, options, "gemini run options");
}

/** The schema of `GeminiAdapterOptions`, `providerOptions` included. */
export const geminiOptionsSchema = adapterSchema.extend({
  providerOptions: providerOptionsSchema.optional(),
});
/** The schema of `GeminiRunOptions`. */
export { runSchema as geminiRunOptionsSchema };
