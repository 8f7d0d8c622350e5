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

/** Codex's sandbox modes (`--sandbox`). */
export type CodexSandboxMode = "read-only" | "workspace-write" | "danger-full-access";
/** Codex's approval policies (`approval_policy`). */
export type CodexApprovalPolicy = "never" | "on-request" | "on-failure" | "untrusted";
export type CodexReasoningEffort =
  | "minimal"
  | "low"
  | "medium"
  | "high"
  | "xhigh"
  | "max"
  | "ultra"
  | "persistent";
export type CodexWebSearchMode = "disabled" | "cached" | "live";

/** A value Codex's `--config key=value` accepts (TOML: no null). */
export type CodexConfigValue =
  | string
  | number
  | boolean
  | CodexConfigValue[]
  | { [key: string]: CodexConfigValue };
/** Codex `config.toml` settings, nested; flattened by the SDK into `--config` flags. */
export type CodexConfig = { [key: string]: CodexConfigValue };

/**
 * Settings passed through to the Codex SDK as they are (`providerOptions` of a `CodexAdapter`).
 * The thread settings go into the SDK's `ThreadOptions` for every run (resumed threads too: Codex
 * does not remember them); `apiKey`, `config` and `configOverrides` go into `CodexOptions`.
 */
export type CodexProviderOptions = {
  /** Replaces the sandbox the permission mode picked. */
  sandboxMode?: CodexSandboxMode;
  /** Replaces the approval policy the permission mode picked. */
  approvalPolicy?: CodexApprovalPolicy;
  modelReasoningEffort?: CodexReasoningEffort;
  /** Network access for commands in the `workspace-write` sandbox. Default: Codex's (off). */
  networkAccessEnabled?: boolean;
  webSearchMode?: CodexWebSearchMode;
  webSearchEnabled?: boolean;
  /** Run outside a git repository (Codex refuses to by default). Default false. */
  skipGitRepoCheck?: boolean;
  additionalDirectories?: string[];
  threadSource?: string;
  /** Sent as `CODEX_API_KEY`. Default: the environment's, or Codex's own login. */
  apiKey?: string;
  /** `config.toml` overrides, e.g. `{ model_instructions_file: "/path/to/prompt.md" }`. */
  config?: CodexConfig;
  /** Raw `key=value` overrides, passed after `config`. */
  configOverrides?: string[];
};

/**
 * Options of a `CodexAdapter`, fixed for the runs it executes. The common ones map to Codex
 * (`codex exec --experimental-json`, through `@openai/codex-sdk`) as follows:
 *
 * - `executablePath` → the Codex CLI to run (default: the binary of `@openai/codex`'s platform
 *   package, as the SDK finds it). The SDK itself is given the path of the adapter's guard,
 *   which runs this CLI unchanged (see `CodexAdapter`).
 * - `model` → `--model`. Default: Codex's configured model (the adapter then cannot tell which).
 * - `cwd` → `workingDirectory` (`--cd`). Codex refuses to run outside a git repository unless
 *   `providerOptions.skipGitRepoCheck` is set.
 * - `systemPrompt` → Codex's `developer_instructions` setting: `codex exec` has no flag to
 *   replace its own base instructions, so the prompt is added as developer instructions after
 *   them, and Codex keeps the instructions that make its tools work. To replace the base
 *   instructions, pass `providerOptions.config.model_instructions_file`.
 * - `maxTurns`: not supported (`codex exec` runs one turn with no model-call limit); setting it
 *   throws `capability_not_supported` rather than letting a limit silently not apply. Bound a
 *   run with `timeoutMs` or a policy (`maxToolCalls`, `maxTotalTokens`).
 * - `permissionMode` → sandbox and approval policy; see `codexPermissionSettings`.
 * - `allowedTools` / `deniedTools`: `codex exec` has no per-tool allow or deny list. The only
 *   tool that can be switched off is web search: `deniedTools: ["WebSearch"]` sets
 *   `webSearchMode: "disabled"`. Any other entry throws `capability_not_supported`. (Policies
 *   still see every tool call, under the names in `CODEX_TOOL_NAMES`, and a run's policy can
 *   switch off the shell tool and file changes too: see `codexToolSwitches`.)
 * - `env` is merged over `process.env` (the SDK's own `env` would replace it).
 * - `providerOptions`: see `CodexProviderOptions`; unknown keys are rejected. The typed options
 *   above win, except `providerOptions.sandboxMode`/`approvalPolicy`, which replace the ones
 *   the permission mode picked.
 */
export interface CodexAdapterOptions extends AgentAdapterOptions {
  /**
   * Base URL of the Responses API Codex calls (the SDK's `baseUrl`, Codex's `openai_base_url`),
   * e.g. `http://127.0.0.1:8080/v1`. Default: Codex's configured provider.
   */
  baseUrl?: string;
  /**
   * After a cancel, milliseconds Codex's process group gets after SIGTERM before SIGKILL.
   * Default `2000`.
   */
  killGraceMs?: number;
  /** Output lines longer than this are skipped and reported as `parse_error` (with their first 4 KiB). Default 1 MiB. */
  maxLineBytes?: number;
  providerOptions?: CodexProviderOptions;
}

/**
 * Per-run options: the `codex` namespace of `executeRun({ providerOptions })`. Unknown keys are a
 * `validation_error`.
 */
export interface CodexRunOptions {
  /**
   * Continue this Codex thread: the `providerSessionId` of an earlier run (the manager keeps it
   * in `run.providerMetadata.providerSessionId`). The run's own usage is known when an earlier
   * run of the same asm session recorded the thread's total (its resume point; see
   * `CodexAdapter`). Default: a new thread.
   */
  resumeThreadId?: string;
  model?: string;
  permissionMode?: PermissionMode;
  systemPrompt?: string;
  /** JSON schema the final answer must follow (`--output-schema`); its parse is `output.structuredOutput`. */
  outputSchema?: JsonObject;
}

export const CODEX_ADAPTER_DEFAULTS = Object.freeze({
  killGraceMs: 2000,
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
});

export interface ResolvedCodexOptions extends ResolvedAgentOptions {
  baseUrl?: string;
  killGraceMs: number;
  maxLineBytes: number;
  codex: Readonly<CodexProviderOptions>;
}

/** Canonical tool names `deniedTools` can switch off in Codex. */
const DENIABLE_TOOLS: ReadonlySet<string> = new Set(["WebSearch"]);

const noNul = z.string().refine((value) => !value.includes("\0"), "must not contain NUL characters");
const nonEmpty = noNul.min(1);

function isConfigValue(value: unknown): value is CodexConfigValue {
  if (typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isConfigValue);
  return isConfig(value);
}

function isConfig(value: unknown): value is CodexConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(([key, item]) => key.length > 0 && isConfigValue(item));
}

const configSchema = z.custom<CodexConfig>(
  isConfig,
  "must be an object of strings, finite numbers, booleans, arrays and objects (no null)",
);

const providerOptionsSchema = z.strictObject({
  sandboxMode: z.enum(["read-only", "workspace-write", "danger-full-access"]).optional(),
  approvalPolicy: z.enum(["never", "on-request", "on-failure", "untrusted"]).optional(),
  modelReasoningEffort: z
    .enum(["minimal", "low", "medium", "high", "xhigh", "max", "ultra", "persistent"])
    .optional(),
  networkAccessEnabled: z.boolean().optional(),
  webSearchMode: z.enum(["disabled", "cached", "live"]).optional(),
  webSearchEnabled: z.boolean().optional(),
  skipGitRepoCheck: z.boolean().optional(),
  additionalDirectories: z.array(nonEmpty).optional(),
  threadSource: nonEmpty.optional(),
  apiKey: nonEmpty.optional(),
  config: configSchema.optional(),
  configOverrides: z.array(nonEmpty).optional(),
});

const adapterSchema = agentAdapterOptionsSchema.extend({
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  killGraceMs: timerMsSchema.optional(),
  maxLineBytes: z.number().int().positive().optional(),
});

const runSchema = z.strictObject({
  resumeThreadId: nonEmpty.optional(),
  model: nonEmpty.optional(),
  permissionMode: permissionModeSchema.optional(),
  systemPrompt: noNul.optional(),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
});

/** SDK options the adapter sets itself; taking them from `providerOptions` would break its guarantees. */
const RESERVED_PROVIDER_OPTIONS = {
  codexPathOverride: "use the executablePath option",
  workingDirectory: "use the cwd option",
  env: "use the env option (merged over process.env)",
  baseUrl: "use the baseUrl option",
  model: "use the model option",
} as const;

function unsupported(option: string, message: string, hint: string): AsmError {
  return new AsmError("capability_not_supported", `invalid codex adapter options: ${option}: ${message}`, {
    details: { provider: "codex", option },
    hint,
  });
}

/**
 * Validates the adapter's options (throws `validation_error`, or `capability_not_supported` for
 * common options Codex cannot honour) and applies defaults.
 */
export function resolveCodexOptions(options: CodexAdapterOptions): ResolvedCodexOptions {
  const value = parseWith(adapterSchema, options, "codex adapter options");
  rejectReservedProviderOptions(value.providerOptions, RESERVED_PROVIDER_OPTIONS, "codex adapter options");
  const codex = parseWith(
    providerOptionsSchema,
    value.providerOptions ?? {},
    "codex adapter providerOptions",
  );
  if (value.maxTurns !== undefined) {
    throw unsupported(
      "maxTurns",
      "codex exec has no turn limit",
      "bound the run with executeRun({ timeoutMs }) or a policy (maxToolCalls, maxTotalTokens)",
    );
  }
  if (value.allowedTools !== undefined && value.allowedTools.length > 0) {
    throw unsupported(
      "allowedTools",
      "codex exec has no per-tool allow list",
      "choose a permissionMode (sandbox), or enforce tool rules with a policy",
    );
  }
  const notDeniable = (value.deniedTools ?? []).filter((tool) => !DENIABLE_TOOLS.has(tool));
  if (notDeniable.length > 0) {
    throw unsupported(
      "deniedTools",
      `codex exec cannot deny ${notDeniable.join(", ")} (only WebSearch can be switched off)`,
      "choose a permissionMode (sandbox), or enforce tool rules with a policy",
    );
  }
  const { baseUrl, killGraceMs, maxLineBytes, providerOptions: _passThrough, ...common } = value;
  const webSearchDenied = (value.deniedTools ?? []).includes("WebSearch");
  return {
    ...resolveAgentOptions(common, "codex adapter options"),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    killGraceMs: killGraceMs ?? CODEX_ADAPTER_DEFAULTS.killGraceMs,
    maxLineBytes: maxLineBytes ?? CODEX_ADAPTER_DEFAULTS.maxLineBytes,
    // A denial wins over a webSearchMode passed through (the SDK lets webSearchMode win over webSearchEnabled).
    codex: Object.freeze(webSearchDenied ? { ...codex, webSearchMode: "disabled" as const } : codex),
  };
}

/** Validates the run's `codex` options; unknown keys are rejected so a typo never silently drops a setting. */
export function parseCodexRunOptions(options: JsonObject): CodexRunOptions {
  return parseWith(runSchema, options, "codex run options");
}

/** The sandbox and approval policy a permission mode runs Codex with. */
export interface CodexPermissionSettings {
  sandboxMode?: CodexSandboxMode;
  approvalPolicy?: CodexApprovalPolicy;
}

/**
 * The normalized permission mode as Codex settings. `codex exec` has no one to ask: it never
 * waits for an approval, and whatever would need one is refused and reported back to the
 * model. So the sandbox is what differs between modes:
 *
 * - `default` → nothing set: Codex's own configuration decides (a stock `codex exec` runs in
 *   the `read-only` sandbox).
 * - `plan` → `read-only`, approval `never`: the agent reads and plans, nothing is changed.
 * - `accept_edits` → `workspace-write`, approval `never`. Codex has no mode that lets edits
 *   through but refuses commands; its sandbox confines commands to the working directory (and
 *   `additionalDirectories`), without network unless `networkAccessEnabled`.
 * - `full_auto` → `workspace-write`, approval `never` (Codex's own `--full-auto` sandbox).
 * - `dangerously_skip_permissions` → `danger-full-access`, approval `never`: no sandbox at all.
 */
export function codexPermissionSettings(mode: PermissionMode): CodexPermissionSettings {
  switch (mode) {
    case "default":
      return {};
    case "plan":
      return { sandboxMode: "read-only", approvalPolicy: "never" };
    case "accept_edits":
    case "full_auto":
      return { sandboxMode: "workspace-write", approvalPolicy: "never" };
    case "dangerously_skip_permissions":
      return { sandboxMode: "danger-full-access", approvalPolicy: "never" };
  }
}

/**
 * The schema of `CodexAdapterOptions`, `providerOptions` included (the provider's descriptor
 * publishes it; `resolveCodexOptions` checks `providerOptions` on its own, after its reserved keys).
 */
export const codexOptionsSchema = adapterSchema.extend({ providerOptions: providerOptionsSchema.optional() });
/** The schema of `CodexRunOptions`. */
export { runSchema as codexRunOptionsSchema };
