import { z } from "zod";
import { AsmError } from "../../core/errors.js";
import type { PermissionMode } from "../../core/permission-mode.js";
import type { JsonObject } from "../../core/session.js";
import { parseWith } from "../../core/validation.js";
import {
  type AgentAdapterOptions,
  agentAdapterOptionsSchema,
  permissionModeSchema,
  type ResolvedAgentOptions,
  rejectReservedProviderOptions,
  resolveAgentOptions,
  timerMsSchema,
} from "../shared/agent-options.js";
import { DEFAULT_MAX_LINE_BYTES } from "../shared/jsonl-reader.js";

/**
 * Options of a `ClaudeAdapter`, fixed for the runs it executes. The common ones map to Claude
 * Code as follows:
 *
 * - `executablePath` → `pathToClaudeCodeExecutable` (default: the binary of the SDK's platform
 *   package); a relative path resolves against `cwd`. A path ending in `.js`/`.mjs`/`.ts` is run
 *   with this process's node. A path that does not exist is `provider_unavailable` at run time.
 * - `env` is merged over `process.env` (the SDK's own `env` would replace it).
 * - `systemPrompt`: a string replaces Claude Code's system prompt. Default: Claude Code's own
 *   prompt (`{ type: "preset", preset: "claude_code" }`); the SDK alone would use an empty one.
 * - `permissionMode`: `default` → `default`, `accept_edits` → `acceptEdits`, `plan` → `plan`,
 *   `full_auto` → `acceptEdits`, `dangerously_skip_permissions` → `bypassPermissions` with
 *   `allowDangerouslySkipPermissions`. Claude Code has no sandboxed "run everything" mode like
 *   Codex's full-auto, and `full_auto` must never silently turn every check off: it approves
 *   edits, and commands run only when `allowedTools` allows them. For Claude's classifier-approved
 *   autonomy pass `providerOptions: { permissionMode: "auto" }`.
 * - `allowedTools` → `allowedTools` (auto-approved), `deniedTools` → `disallowedTools` (joining
 *   `providerOptions.disallowedTools`). A run's policy narrows both: see `claudeToolOptions`.
 * - `providerOptions` are spread into the SDK's `Options` (e.g. `effort`, `thinking`,
 *   `settingSources`, `mcpServers`, `hooks`, `canUseTool`, `permissionMode`); the typed options
 *   above win, except `providerOptions.permissionMode`, which replaces the mapped mode. The
 *   options the adapter must own to keep its guarantees are rejected: `abortController`,
 *   `spawnClaudeCodeProcess`, `pathToClaudeCodeExecutable`, `cwd`, `env`, `resume`.
 */
export interface ClaudeAdapterOptions extends AgentAdapterOptions {
  /**
   * After a cancel or an interrupt, milliseconds Claude Code gets to end its turn on the SDK's
   * `interrupt()` (and exit) before its process group gets SIGTERM, and again before SIGKILL.
   * Default `2000` (the SDK's own grace).
   */
  killGraceMs?: number;
  /** Output lines longer than this are skipped and reported as `parse_error` (with their first 4 KiB). Default 1 MiB. */
  maxLineBytes?: number;
  /** Stream text and thinking deltas (`message_streamed`) as they arrive. Default `true`. */
  includePartialMessages?: boolean;
}

/**
 * Per-run options: the `claude` namespace of `executeRun({ providerOptions })`. Unknown keys are
 * a `validation_error`.
 */
export interface ClaudeRunOptions {
  /**
   * Continue this Claude session (its id is `run_started.data.providerSessionId` of an earlier
   * run, stored as `run.providerMetadata.providerSessionId`). The run's own cost is known when an
   * earlier run of the same asm session recorded that Claude session's total (its resume point).
   * Default: a new Claude session.
   */
  resumeSessionId?: string;
  /** With `resumeSessionId`: continue in a new session id instead of appending to the old one. Default false. */
  forkSession?: boolean;
  model?: string;
  maxTurns?: number;
  permissionMode?: PermissionMode;
  systemPrompt?: string;
}

export const CLAUDE_ADAPTER_DEFAULTS = Object.freeze({
  killGraceMs: 2000,
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  includePartialMessages: true,
});

export interface ResolvedClaudeOptions extends ResolvedAgentOptions {
  killGraceMs: number;
  maxLineBytes: number;
  includePartialMessages: boolean;
}

const adapterSchema = agentAdapterOptionsSchema.extend({
  killGraceMs: timerMsSchema.optional(),
  maxLineBytes: z.number().int().positive().optional(),
  includePartialMessages: z.boolean().optional(),
});

const runSchema = z.strictObject({
  resumeSessionId: z.string().min(1).optional(),
  forkSession: z.boolean().optional(),
  model: z.string().min(1).optional(),
  maxTurns: z.number().int().positive().optional(),
  permissionMode: permissionModeSchema.optional(),
  systemPrompt: z.string().optional(),
});

/** SDK options the adapter sets itself; taking them from `providerOptions` would break its guarantees. */
const RESERVED_PROVIDER_OPTIONS = {
  abortController: "cancel through the run's AbortSignal or adapter.cancel(runId)",
  spawnClaudeCodeProcess: "the adapter spawns Claude Code itself, to stop its whole process tree",
  pathToClaudeCodeExecutable: "use the executablePath option",
  cwd: "use the cwd option",
  env: "use the env option (merged over process.env)",
  resume: "use the per-run option resumeSessionId",
} as const;

/** Validates the adapter's options (throws `validation_error`) and applies defaults. */
export function resolveClaudeOptions(options: ClaudeAdapterOptions): ResolvedClaudeOptions {
  const value = parseWith(adapterSchema, options, "claude adapter options");
  rejectReservedProviderOptions(value.providerOptions, RESERVED_PROVIDER_OPTIONS, "claude adapter options");
  const { killGraceMs, maxLineBytes, includePartialMessages, ...common } = value;
  return {
    ...resolveAgentOptions(common, "claude adapter options"),
    killGraceMs: killGraceMs ?? CLAUDE_ADAPTER_DEFAULTS.killGraceMs,
    maxLineBytes: maxLineBytes ?? CLAUDE_ADAPTER_DEFAULTS.maxLineBytes,
    includePartialMessages: includePartialMessages ?? CLAUDE_ADAPTER_DEFAULTS.includePartialMessages,
  };
}

/** Validates the run's `claude` options; unknown keys are rejected so a typo never silently drops a setting. */
export function parseClaudeRunOptions(options: JsonObject): ClaudeRunOptions {
  const value = parseWith(runSchema, options, "claude run options");
  if (value.forkSession && !value.resumeSessionId) {
    throw new AsmError("validation_error", "invalid claude run options: forkSession needs resumeSessionId");
  }
  return value;
}

/** Claude Code's own names for the permission modes. */
export type ClaudePermissionMode = "default" | "acceptEdits" | "plan" | "bypassPermissions";

/** The normalized mode as Claude Code's mode, and whether bypassing must be explicitly allowed. */
export function claudePermissionMode(mode: PermissionMode): {
  permissionMode: ClaudePermissionMode;
  allowDangerouslySkipPermissions: boolean;
} {
  switch (mode) {
    case "default":
      return { permissionMode: "default", allowDangerouslySkipPermissions: false };
    case "accept_edits":
    case "full_auto":
      return { permissionMode: "acceptEdits", allowDangerouslySkipPermissions: false };
    case "plan":
      return { permissionMode: "plan", allowDangerouslySkipPermissions: false };
    case "dangerously_skip_permissions":
      return { permissionMode: "bypassPermissions", allowDangerouslySkipPermissions: true };
  }
}

/** The schemas of `ClaudeAdapterOptions` and `ClaudeRunOptions` (the provider's descriptor publishes them). */
export { adapterSchema as claudeOptionsSchema, runSchema as claudeRunOptionsSchema };
