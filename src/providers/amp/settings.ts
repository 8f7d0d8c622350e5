import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { AsmError } from "../../core/errors.js";
import type { PermissionMode } from "../../core/permission-mode.js";
import { isMcpToolName, type NativeToolRules, unique } from "../shared/tool-rules.js";
import type { AmpProviderOptions } from "./options.js";

/** One entry of Amp's `amp.permissions` list (the fields this adapter writes). */
export interface AmpPermissionRule {
  /** Tool name, globs allowed (`Bash`, `mcp__*`, `*`). */
  tool: string;
  action: "allow" | "reject" | "ask" | "delegate";
  /** On `reject`: told to the model, and the conversation goes on instead of halting. */
  message?: string;
}

/**
 * Amp's file-editing tools, approved by `accept_edits`. Amp's built-in rules approve them already;
 * the explicit rules keep a stricter rule in the caller's settings from turning them into
 * questions, which nobody can answer in execute mode.
 */
export const AMP_EDIT_TOOLS: readonly string[] = Object.freeze(["edit_file", "create_file", "undo_edit"]);

/**
 * Amp's tools that read, search or plan without changing anything: all `plan` allows. The list
 * fails closed: a tool it does not name (a new one, an MCP tool) is refused in plan mode.
 */
export const AMP_READ_ONLY_TOOLS: readonly string[] = Object.freeze([
  "Read",
  "Grep",
  "glob",
  "finder",
  "read_web_page",
  "web_search",
  "read_thread",
  "find_thread",
  "oracle",
  "todo_read",
  "todo_write",
]);

/**
 * Amp's built-in tools as this adapter knows them: what a policy's allow list switches off
 * (`amp.tools.disable`) when it does not name them. A built-in tool missing here (a newer one)
 * is not switched off, except in `full_auto`; the manager's enforcement still stops a run that
 * uses it.
 */
export const AMP_BUILTIN_TOOLS: readonly string[] = Object.freeze([
  "Bash",
  "Task",
  ...AMP_READ_ONLY_TOOLS,
  ...AMP_EDIT_TOOLS,
  "format_file",
  "get_diagnostics",
  "mermaid",
]);

const PLAN_REFUSAL =
  "This run is in plan mode: only tools that read or plan may be used. Describe the change instead of making it.";
const POLICY_REFUSAL = "This run's policy does not allow this tool. Carry on without it.";
const POLICY_MCP_REFUSAL: AmpPermissionRule = { tool: "mcp__*", action: "reject", message: POLICY_REFUSAL };

export interface AmpSettingsInput {
  permissionMode: PermissionMode;
  allowedTools: readonly string[];
  deniedTools: readonly string[];
  /** Appended to Amp's system prompt. */
  systemPrompt?: string;
  /** Settings to start from (`providerOptions.settingsFile` with `providerOptions.settings` over it). */
  base?: Readonly<Record<string, unknown>>;
  /** The run's policy, in Amp's tool names (see `AMP_TOOL_NAMES`). Default: none. */
  toolRules?: NativeToolRules;
}

const PERMISSIONS = "amp.permissions";
const ALLOW_ALL = "amp.dangerouslyAllowAll";
const DISABLED_TOOLS = "amp.tools.disable";
const SYSTEM_PROMPT = "amp.systemPrompt";

function invalidBase(key: string, expected: string): AsmError {
  return new AsmError("validation_error", `invalid amp settings: ${key} must be ${expected}`, {
    details: { setting: key },
  });
}

function listOf(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

function isRejectRule(rule: unknown): boolean {
  return typeof rule === "object" && rule !== null && "action" in rule && rule.action === "reject";
}

/**
 * The Amp settings a run executes with. Amp applies the first `amp.permissions` rule that
 * matches a tool call, then its built-in rules, and in execute mode refuses what would need a
 * question. The list is built in this order:
 *
 * 1. `allowedTools` → `{ tool, action: "allow" }`: the caller's explicit allowances come first
 *    (after the run's policy's refusal of MCP tools, see below);
 * 2. the mode's own allowances (`accept_edits`: `AMP_EDIT_TOOLS`; `plan`: `AMP_READ_ONLY_TOOLS`);
 * 3. the base settings' rules, as a block, since reordering first-match rules changes what they
 *    mean — except in `plan`, which keeps only their `reject` rules (moved before its
 *    allowances: that can only make it stricter) and drops the rest, because an allow rule there
 *    could let a tool that changes things through;
 * 4. the mode's catch-all: `plan` rejects every other tool (with a message, so the agent carries
 *    on); `full_auto` allows every other tool (only the allowed ones under a policy's allow list).
 *
 * The five modes, honestly:
 * - `default`: no rules of its own; Amp's built-in rules decide.
 * - `accept_edits`: as `default`, plus explicit approval of file edits.
 * - `plan`: read-only tools (and `allowedTools`) only; the list fails closed.
 * - `full_auto`: everything without asking, but every `reject` rule of the base settings and
 *   `deniedTools` still hold. Amp has no sandbox, so this is only as safe as those rules.
 * - `dangerously_skip_permissions`: `amp.dangerouslyAllowAll: true`, under which Amp consults no
 *   permission rule at all. In every other mode it is written as `false`, whatever the base says.
 *
 * `deniedTools` extend `amp.tools.disable` (the model is not offered them) rather than adding
 * reject rules, because that list holds in every mode, `dangerously_skip_permissions` included.
 * `systemPrompt` becomes `amp.systemPrompt`.
 *
 * A run's policy (`toolRules`, in Amp's names) holds whatever the mode:
 * - its denied tools extend `amp.tools.disable`, as `deniedTools` do;
 * - with an allow list, every tool of `AMP_BUILTIN_TOOLS` it does not name extends
 *   `amp.tools.disable` too; unless it names an MCP tool, `mcp__*` is rejected by the first
 *   rule; `allowedTools` keeps only the tools it allows; and `full_auto`'s catch-all allows the
 *   allowed tools and rejects everything else. Only `full_auto` gets a catch-all rejection: in the
 *   other modes it would also have to approve each allowed tool (the rule list cannot hand a tool
 *   back to Amp's built-in rules), approving commands Amp would have refused.
 *
 * Throws `validation_error` when the base settings' `amp.permissions` or `amp.tools.disable` is
 * not a list.
 */
export function ampSettings(input: AmpSettingsInput): Record<string, unknown> {
  const base = input.base ?? {};
  const baseRules = listOf(base[PERMISSIONS] ?? []);
  if (!baseRules) throw invalidBase(PERMISSIONS, "a list of rules");
  const baseDisabled = listOf(base[DISABLED_TOOLS] ?? []);
  if (!baseDisabled?.every((tool): tool is string => typeof tool === "string")) {
    throw invalidBase(DISABLED_TOOLS, "a list of tool names");
  }
  const allow = (tool: string): AmpPermissionRule => ({ tool, action: "allow" });
  const only = input.toolRules?.allowed === undefined ? undefined : new Set(input.toolRules.allowed);
  // First, as Amp applies the first rule that matches: no later allowance may override it.
  const rules: unknown[] = only && ![...only].some(isMcpToolName) ? [POLICY_MCP_REFUSAL] : [];
  // An approval never widens what the policy allows.
  rules.push(...input.allowedTools.filter((tool) => only?.has(tool) ?? true).map(allow));
  switch (input.permissionMode) {
    case "default":
    case "dangerously_skip_permissions":
      rules.push(...baseRules);
      break;
    case "accept_edits":
      rules.push(...AMP_EDIT_TOOLS.map(allow), ...baseRules);
      break;
    case "plan":
      rules.push(...baseRules.filter(isRejectRule), ...AMP_READ_ONLY_TOOLS.map(allow), {
        tool: "*",
        action: "reject",
        message: PLAN_REFUSAL,
      } satisfies AmpPermissionRule);
      break;
    case "full_auto":
      rules.push(
        ...baseRules,
        ...(only
          ? [...[...only].map(allow), { tool: "*", action: "reject", message: POLICY_REFUSAL }]
          : [{ tool: "*", action: "allow" }]),
      );
      break;
  }
  const notAllowed = only ? AMP_BUILTIN_TOOLS.filter((tool) => !only.has(tool)) : [];
  const disabled = unique(baseDisabled, input.deniedTools, input.toolRules?.denied ?? [], notAllowed);
  return {
    ...base,
    [PERMISSIONS]: rules,
    [ALLOW_ALL]: input.permissionMode === "dangerously_skip_permissions",
    ...(disabled.length > 0 ? { [DISABLED_TOOLS]: disabled } : {}),
    ...(input.systemPrompt !== undefined ? { [SYSTEM_PROMPT]: input.systemPrompt } : {}),
  };
}

/**
 * The settings a run starts from: `providerOptions.settingsFile` (JSON, read now, so edits reach
 * the next run), with `providerOptions.settings` laid over it. Throws `validation_error` when the
 * file cannot be read or is not a JSON object.
 */
export async function loadBaseSettings(
  providerOptions: Readonly<AmpProviderOptions>,
  cwd: string,
): Promise<Record<string, unknown>> {
  let fromFile: Record<string, unknown> = {};
  if (providerOptions.settingsFile !== undefined) {
    const file = path.resolve(cwd, providerOptions.settingsFile);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      throw new AsmError(
        "validation_error",
        `cannot use the amp settings file ${file}: ${messageOf(error)}`,
        {
          details: { settingsFile: file },
          hint: "providerOptions.settingsFile must name a readable JSON file (comments are not supported)",
          cause: error,
        },
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new AsmError("validation_error", `the amp settings file ${file} is not a JSON object`, {
        details: { settingsFile: file },
      });
    }
    fromFile = parsed as Record<string, unknown>;
  }
  return { ...fromFile, ...providerOptions.settings };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A run's settings file, in a private temporary directory, and how to remove it. */
export interface SettingsFile {
  path: string;
  remove(): Promise<void>;
}

/**
 * Writes `settings` for one run. Readable by the owner only: it may hold a system prompt and MCP
 * server settings with credentials. Kept out of the agent's working directory, which the agent
 * reads and may commit.
 */
export async function writeSettingsFile(settings: Record<string, unknown>): Promise<SettingsFile> {
  const dir = await mkdtemp(path.join(tmpdir(), "asm-amp-"));
  const file = path.join(dir, "settings.json");
  try {
    await writeFile(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { path: file, remove: () => rm(dir, { recursive: true, force: true }) };
}
