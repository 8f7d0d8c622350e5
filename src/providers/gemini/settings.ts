import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { PermissionMode } from "../../core/permission-mode.js";
import { isRecord } from "../../utils/is-record.js";
import { type NativeToolRules, toNativeToolNames, unique } from "../shared/tool-rules.js";
import { GEMINI_TOOL_NAMES } from "./tool-names.js";

/** The Gemini CLI's `--approval-mode` values. */
export type GeminiApprovalMode = "default" | "auto_edit" | "plan" | "yolo";

/**
 * The `--approval-mode` a permission mode runs the Gemini CLI with. A headless run never asks
 * for approval: a tool that would need one is not offered to the model at all.
 *
 * | permissionMode                 | --approval-mode | tools the model is offered (headless)                         |
 * |--------------------------------|-----------------|---------------------------------------------------------------|
 * | `default`                      | `default`       | read-only ones (read_file, list_directory, grep, glob, web search); a call to another is answered `tool_not_registered` and the run goes on |
 * | `accept_edits`                 | `auto_edit`     | plus `replace`, `write_file`, `web_fetch`                     |
 * | `plan`                         | `plan`          | read-only plus `exit_plan_mode`                               |
 * | `full_auto`                    | `yolo`          | every tool, shell included, auto-approved (Gemini has no sandbox of its own unless its `tools.sandbox` setting enables one) |
 * | `dangerously_skip_permissions` | `yolo`          | the same                                                      |
 *
 * In a folder Gemini does not trust, the CLI silently downgrades any mode to `default`: pass
 * `trustWorkspace` for the others to take effect.
 */
export function geminiApprovalMode(mode: PermissionMode): GeminiApprovalMode {
  switch (mode) {
    case "default":
      return "default";
    case "accept_edits":
      return "auto_edit";
    case "plan":
      return "plan";
    case "full_auto":
    case "dangerously_skip_permissions":
      return "yolo";
  }
}

/** What one run's settings are built from. */
export interface GeminiSettingsInput {
  /** The caller's settings (`providerOptions.settings`), laid under the adapter's. */
  base?: Record<string, unknown>;
  /** Tools that run without confirmation, in Gemini's or canonical names. */
  allowedTools: readonly string[];
  /** Tools removed from the model's offer, in Gemini's or canonical names. */
  deniedTools: readonly string[];
  /** The run's policy, already in Gemini's names. */
  toolRules?: NativeToolRules;
  maxAttempts: number;
  maxTurns?: number;
  /** The environment the CLI will see: picks the auth type. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * The auth type headless runs need to be told: a `GOOGLE_GEMINI_BASE_URL` alone selects the
 * "gateway" type, which headless mode refuses (exit 41, gemini-cli#27550).
 */
function authType(env: GeminiSettingsInput["env"]): string {
  if (env.GOOGLE_GENAI_USE_VERTEXAI === "true") return "vertex-ai";
  if (env.GOOGLE_GENAI_USE_GCA === "true") return "oauth-personal";
  return "gemini-api-key";
}

/** `over` laid over `under`, objects merged key by key, anything else replaced. */
function merge(under: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...under };
  for (const [key, value] of Object.entries(over)) {
    const below = out[key];
    out[key] = isRecord(below) && isRecord(value) ? merge(below, value) : value;
  }
  return out;
}

function section(settings: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = settings[key];
  return isRecord(value) ? value : {};
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/**
 * One run's `settings.json`. The adapter's part: the auth type (unless the caller set one),
 * `general.maxAttempts`, no telemetry, usage statistics or update checks, `tools.allowed` from
 * `allowedTools`, `tools.exclude` from `deniedTools` and the policy's denials (added to the
 * caller's), `tools.core` from the policy's allow list (Gemini then offers only those built-in
 * tools), and `model.maxSessionTurns` from `maxTurns`.
 */
export function geminiSettings(input: GeminiSettingsInput): Record<string, unknown> {
  const base = input.base ?? {};
  const baseTools = section(base, "tools");
  const callerAuth = section(section(base, "security"), "auth").selectedType;
  const allowed = toNativeToolNames(input.allowedTools, GEMINI_TOOL_NAMES);
  const excluded = unique(
    stringList(baseTools.exclude),
    toNativeToolNames(input.deniedTools, GEMINI_TOOL_NAMES),
    input.toolRules?.denied ?? [],
  );
  const tools: Record<string, unknown> = {
    ...(allowed.length > 0 ? { allowed: unique(stringList(baseTools.allowed), allowed) } : {}),
    ...(excluded.length > 0 ? { exclude: excluded } : {}),
    ...(input.toolRules?.allowed !== undefined ? { core: [...input.toolRules.allowed] } : {}),
  };
  return merge(base, {
    ...(callerAuth === undefined ? { security: { auth: { selectedType: authType(input.env) } } } : {}),
    general: { maxAttempts: input.maxAttempts, enableAutoUpdate: false, enableAutoUpdateNotification: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    ...(Object.keys(tools).length > 0 ? { tools } : {}),
    ...(input.maxTurns !== undefined ? { model: { maxSessionTurns: input.maxTurns } } : {}),
  });
}

/** Files of one asm session's Gemini home (`GEMINI_CLI_HOME`). */
export interface GeminiHome {
  /** The directory (`GEMINI_CLI_HOME`). */
  dir: string;
  /** Its `.gemini/settings.json`. */
  settingsPath: string;
  /** The system prompt file for `GEMINI_SYSTEM_MD`, when the run has one. */
  systemPromptPath?: string;
  /** A temp directory inside it (`TMPDIR`): the CLI writes its error reports to the temp dir. */
  tmpDir: string;
}

/**
 * Prepares the session's Gemini home for a run: owner-only directories, this run's settings and
 * system prompt written over the previous run's (chats stay, for `--resume`).
 */
export async function prepareGeminiHome(
  dir: string,
  settings: Record<string, unknown>,
  systemPrompt: string | undefined,
): Promise<GeminiHome> {
  const configDir = path.join(dir, ".gemini");
  const tmpDir = path.join(dir, "tmp");
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const settingsPath = path.join(configDir, "settings.json");
  await writeFile(settingsPath, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  if (systemPrompt === undefined) return { dir, settingsPath, tmpDir };
  const systemPromptPath = path.join(configDir, "asm-system.md");
  await writeFile(systemPromptPath, systemPrompt, { mode: 0o600 });
  return { dir, settingsPath, systemPromptPath, tmpDir };
}
