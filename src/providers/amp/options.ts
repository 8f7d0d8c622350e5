import { z } from "zod";
import { AsmError } from "../../core/errors.js";
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
 * What `providerOptions` of an `AmpAdapter` may hold. Each key is optional; unknown keys are
 * rejected, so a typo never silently drops a setting.
 */
export interface AmpProviderOptions {
  /**
   * MCP servers for the run, passed as `--mcp-config`: an object (`{ "name": { command, args } }`,
   * sent as JSON) or a string (JSON text, or the path of a JSON file), as the CLI accepts.
   * Default: none.
   */
  mcpConfig?: string | Record<string, unknown>;
  /**
   * Path of an Amp settings file (JSON) to start each run's settings from, e.g. the user's own
   * `~/.config/amp/settings.json` to keep its MCP servers. Read at the start of every run; a
   * relative path resolves against `cwd`. Its `amp.permissions` rules are kept (after the ones
   * `allowedTools` adds), its `amp.tools.disable` list is extended with `deniedTools`, and its
   * `amp.dangerouslyAllowAll` is replaced by what `permissionMode` says. Default: none (the run's
   * settings hold only what the adapter writes).
   */
  settingsFile?: string;
  /**
   * More Amp settings for every run, laid over `settingsFile` (e.g. `{ "amp.tools.stopTimeout":
   * 600 }`). `amp.dangerouslyAllowAll` is refused here: use `permissionMode`. Default: none.
   */
  settings?: Record<string, unknown>;
}

/**
 * Options of an `AmpAdapter`, fixed for the runs it executes. The common ones map to the `amp`
 * CLI as follows:
 *
 * - `executablePath`: the CLI to run. Default `amp`, looked up on `PATH`. A path with a `/` is
 *   resolved against `cwd`; one ending in `.js`, `.mjs` or `.cjs` is run with this process's
 *   node (`process.execPath`), so a script works without an exec bit or a shebang.
 * - `env` is merged over `process.env`. `AMP_API_KEY` must be set in one of them: without it
 *   the real CLI would start an interactive browser login, so runs fail at once instead, with
 *   `provider_authentication_failed`.
 * - `systemPrompt` is **appended** to Amp's own system prompt (the `amp.systemPrompt` setting):
 *   Amp has no way to replace it.
 * - `permissionMode`, `allowedTools` and `deniedTools` become a settings file passed with
 *   `--settings-file` (see `ampSettings` for the exact rules of each mode).
 * - `providerOptions`: see `AmpProviderOptions`.
 * - `model` and `maxTurns` are refused with `validation_error`: the CLI has neither a model flag
 *   (Amp picks models by `mode`) nor a turn limit, and a setting that silently does nothing is
 *   worse than an error.
 */
export interface AmpAdapterOptions extends AgentAdapterOptions {
  /**
   * Amp's agent mode, passed as `--mode` (the names change between CLI releases: `smart`, `rush`,
   * `deep`, …). Default: none, so the CLI's own default mode.
   */
  mode?: string;
  /**
   * Ask for thinking blocks (`--stream-json-thinking`); each becomes a `message_streamed` event
   * with `stream: "thinking"`. Default `false`.
   */
  thinking?: boolean;
  /**
   * After a cancel, milliseconds between SIGTERM and SIGKILL to Amp's process group; also how
   * long Amp may take to exit once its output ended. Default `2000`.
   */
  killGraceMs?: number;
  /** Output lines longer than this many bytes are skipped and reported as `parse_error` (with their first 4 KiB). Default 1 MiB. */
  maxLineBytes?: number;
}

/**
 * Per-run options: the `amp` namespace of `executeRun({ providerOptions })`; each overrides the
 * adapter's. Unknown keys are a `validation_error`.
 */
export interface AmpRunOptions {
  /**
   * Continue this Amp thread (`amp threads continue <id>`): its id is `providerSessionId` of an
   * earlier run (`T-…`), or a thread URL.
   */
  resumeThreadId?: string;
  mode?: string;
  thinking?: boolean;
  permissionMode?: PermissionMode;
  systemPrompt?: string;
}

export const AMP_ADAPTER_DEFAULTS = Object.freeze({
  executablePath: "amp",
  thinking: false,
  killGraceMs: 2000,
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
});

/** `AmpAdapterOptions` validated, with defaults applied and `providerOptions` typed. */
export interface ResolvedAmpOptions extends Omit<ResolvedAgentOptions, "providerOptions" | "executablePath"> {
  /** The command to spawn: a bare name (looked up on `PATH`) or an absolute path. */
  executablePath: string;
  mode?: string;
  thinking: boolean;
  killGraceMs: number;
  maxLineBytes: number;
  providerOptions: Readonly<AmpProviderOptions>;
}

// Thread ids look like T-<uuid>; the CLI also takes a thread's URL.
const threadId = cliArgumentSchema.regex(
  /^(?:T-[A-Za-z0-9-]+|https?:\/\/\S+)$/,
  "must be an Amp thread id (T-…) or a thread URL",
);

const providerOptionsSchema = z.strictObject({
  mcpConfig: z.union([cliArgumentSchema, z.record(z.string(), z.unknown())]).optional(),
  settingsFile: cliArgumentSchema.optional(),
  settings: z
    .record(z.string(), z.unknown())
    .refine((settings) => !("amp.dangerouslyAllowAll" in settings), {
      message: "amp.dangerouslyAllowAll is set by permissionMode (use dangerously_skip_permissions)",
    })
    .optional(),
});

const adapterSchema = agentAdapterOptionsSchema.extend({
  mode: cliArgumentSchema.optional(),
  thinking: z.boolean().optional(),
  killGraceMs: timerMsSchema.optional(),
  maxLineBytes: z.number().int().positive().optional(),
});

const runSchema = z.strictObject({
  resumeThreadId: threadId.optional(),
  mode: cliArgumentSchema.optional(),
  thinking: z.boolean().optional(),
  permissionMode: permissionModeSchema.optional(),
  systemPrompt: z.string().optional(),
});

function unsupported(option: "model" | "maxTurns", why: string, hint: string): AsmError {
  return new AsmError("validation_error", `invalid amp adapter options: ${option} is not supported: ${why}`, {
    details: { provider: "amp", option },
    hint,
  });
}

/** Validates the adapter's options (throws `validation_error`) and applies defaults. */
export function resolveAmpOptions(options: AmpAdapterOptions): ResolvedAmpOptions {
  const value = parseWith(adapterSchema, options, "amp adapter options");
  if (value.model !== undefined) {
    throw unsupported(
      "model",
      "the amp CLI has no way to choose a model (no flag, no setting): Amp picks it by agent mode",
      "choose a mode instead (the mode option; CLI: --provider-option mode=<smart|rush|…>), or leave the model out",
    );
  }
  if (value.maxTurns !== undefined) {
    throw unsupported(
      "maxTurns",
      "the amp CLI has no turn limit",
      "bound the run with a timeout or a policy",
    );
  }
  const { mode, thinking, killGraceMs, maxLineBytes, providerOptions, ...common } = value;
  const resolved = resolveAgentOptions(common, "amp adapter options");
  const executable = resolved.executablePath ?? AMP_ADAPTER_DEFAULTS.executablePath;
  const { executablePath: _executable, providerOptions: _provider, ...rest } = resolved;
  return {
    ...rest,
    executablePath: resolveExecutable(executable, resolved.cwd),
    ...(mode !== undefined ? { mode } : {}),
    thinking: thinking ?? AMP_ADAPTER_DEFAULTS.thinking,
    killGraceMs: killGraceMs ?? AMP_ADAPTER_DEFAULTS.killGraceMs,
    maxLineBytes: maxLineBytes ?? AMP_ADAPTER_DEFAULTS.maxLineBytes,
    providerOptions: Object.freeze(
      parseWith(providerOptionsSchema, providerOptions ?? {}, "amp providerOptions"),
    ),
  };
}

/** Validates the run's `amp` options; unknown keys are rejected so a typo never silently drops a setting. */
export function parseAmpRunOptions(options: JsonObject): AmpRunOptions {
  return parseWith(runSchema, options, "amp run options");
}

/**
 * The schema of `AmpAdapterOptions`, `providerOptions` included (the provider's descriptor
 * publishes it; `resolveAmpOptions` checks `providerOptions` on its own).
 */
export const ampOptionsSchema = adapterSchema.extend({ providerOptions: providerOptionsSchema.optional() });
/** The schema of `AmpRunOptions`. */
export { runSchema as ampRunOptionsSchema };
