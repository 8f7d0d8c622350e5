import type { ToolRestrictions } from "../../ports/provider-adapter.js";
import { CODEX_TOOL_NAMES } from "./tool-names.js";

/**
 * What a run's policy switches off in Codex. `codex exec` has no per-tool allow or deny list,
 * only these switches, each compiled from the policy's canonical tool names (the names of
 * `CODEX_TOOL_NAMES`):
 *
 * | canonical       | Codex setting                                                                  |
 * |-----------------|--------------------------------------------------------------------------------|
 * | `Bash`          | `--config features.shell_tool=false`: the model is offered no shell tool       |
 * |                 | (`exec_command`, `write_stdin`)                                                |
 * | `Edit`, `Write` | `--sandbox read-only` and `approval_policy="never"`: no file can change, by a  |
 * |                 | patch or a command, and no command can be escalated out of the sandbox         |
 * | `WebSearch`     | `web_search="disabled"`: no web search tool                                    |
 *
 * A tool is switched off when the policy denies it, or has an allow list that does not name it.
 * `Write` counts as a file change too, since Codex's patches add files as well as edit them (its
 * events name every patch `Edit`): file changes are off when either is denied, or an allow list
 * names neither. A switch only ever makes a run stricter than its permission
 * mode and `providerOptions` (a read-only sandbox replaces any other).
 *
 * Reactive only (no setting turns them off one by one; the manager's enforcement on events stops
 * a run that uses them): `TodoWrite` (the plan), MCP tools, and Codex's other tools
 * (`view_image`, `request_user_input`, subagents, goals).
 */
export interface CodexToolSwitches {
  /** No shell tool. */
  noShell: boolean;
  /** A read-only sandbox, approval `never`. */
  noFileChanges: boolean;
  noWebSearch: boolean;
}

const SHELL = [CODEX_TOOL_NAMES.command_execution];
const FILE_CHANGES = [CODEX_TOOL_NAMES.file_change, "Write"];
const WEB_SEARCH = [CODEX_TOOL_NAMES.web_search];

/** The switches `rules` turn off; undefined without tool rules, so the invocation stays as it was. */
export function codexToolSwitches(rules: ToolRestrictions | undefined): CodexToolSwitches | undefined {
  if (rules?.allowedTools === undefined && rules?.deniedTools === undefined) return undefined;
  const allowed = rules.allowedTools === undefined ? undefined : new Set(rules.allowedTools);
  const denied = new Set(rules.deniedTools);
  // Off when any of its names is denied, or when an allow list names none of them.
  const off = (names: readonly string[]): boolean =>
    names.some((name) => denied.has(name)) ||
    (allowed !== undefined && !names.some((name) => allowed.has(name)));
  return { noShell: off(SHELL), noFileChanges: off(FILE_CHANGES), noWebSearch: off(WEB_SEARCH) };
}

/** The raw `--config` override that removes the shell tool. */
export const NO_SHELL_OVERRIDE = "features.shell_tool=false";
