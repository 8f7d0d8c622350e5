import type { Options } from "@anthropic-ai/claude-agent-sdk";
import type { ToolRestrictions } from "../../ports/provider-adapter.js";
import { isMcpToolName, nativeToolRules, type ToolNameTable, unique } from "../shared/tool-rules.js";

/**
 * Canonical → Claude Code tool names. The canonical names are Claude Code's own (`Bash`, `Read`,
 * `Edit`, `Write`, `WebSearch`, `mcp__<server>__<tool>`, …), so no name differs and the table is
 * empty.
 */
export const CLAUDE_TOOL_NAMES: ToolNameTable = new Map();

/** The SDK options that decide which tools Claude Code offers and approves. */
export type ClaudeToolOptions = Pick<Options, "tools" | "allowedTools" | "disallowedTools">;

export interface ClaudeToolInputs {
  /** The adapter's `allowedTools`: permission rules approved without asking (`Read`, `Bash(ls:*)`). */
  allowedTools: readonly string[];
  /** The adapter's `deniedTools`. */
  deniedTools: readonly string[];
  /** What `providerOptions` says about the same three options, if anything. */
  passThrough: ClaudeToolOptions;
  /** The run's policy (`ExecuteRequest.toolRules`). */
  toolRules: ToolRestrictions | undefined;
}

/** The tool a permission rule is about: `Bash` for `Bash(ls:*)`. */
function ruleTool(rule: string): string {
  const paren = rule.indexOf("(");
  return paren === -1 ? rule : rule.slice(0, paren);
}

/**
 * The tool options a run starts Claude Code with, so it refuses what the run's policy forbids
 * before a tool runs (the manager's enforcement on events stays the safety net):
 *
 * - the policy's allowed tools → `tools` (`--tools=…`), Claude Code's base set of built-in tools:
 *   the model is offered no other built-in tool, in any permission mode. A `providerOptions.tools`
 *   list narrows it further (the intersection).
 * - `tools` does not cover MCP tools. When the allowed tools name none, `mcp__*` joins
 *   `disallowedTools`, which removes every MCP tool; when they name some, the other tools of MCP
 *   servers are left to the manager's enforcement.
 * - the adapter's `allowedTools` (auto-approved, not "the only tools") keep only the rules about
 *   allowed tools: Claude Code offers a tool an allow rule names even outside `tools`, so an
 *   approval must not widen the set.
 * - the policy's denied tools → `disallowedTools` (`--disallowedTools=…`), together with the
 *   adapter's `deniedTools` and `providerOptions.disallowedTools` (the union): removed from the
 *   model's context.
 *
 * Without tool rules, the adapter's lists are passed as they are (`allowedTools` replacing the
 * pass-through's, `disallowedTools` joining it).
 */
export function claudeToolOptions(input: ClaudeToolInputs): ClaudeToolOptions {
  const rules = nativeToolRules(input.toolRules, CLAUDE_TOOL_NAMES);
  const { passThrough } = input;
  const approved = input.allowedTools.length > 0 ? input.allowedTools : (passThrough.allowedTools ?? []);
  const only = rules?.allowed !== undefined ? new Set(rules.allowed) : undefined;
  const tools =
    only === undefined
      ? passThrough.tools
      : (Array.isArray(passThrough.tools) ? passThrough.tools : [...only]).filter((tool) => only.has(tool));
  const allowedTools =
    only === undefined ? [...approved] : approved.filter((rule) => only.has(ruleTool(rule)));
  const noMcp = only !== undefined && ![...only].some(isMcpToolName) ? ["mcp__*"] : [];
  const denied = unique(passThrough.disallowedTools ?? [], input.deniedTools, rules?.denied ?? [], noMcp);
  // Every key is set, undefined where Claude Code's default applies, so that spread over the
  // pass-through options it replaces their (unnarrowed) lists.
  return {
    tools,
    allowedTools: allowedTools.length > 0 ? allowedTools : undefined,
    disallowedTools: denied.length > 0 ? denied : undefined,
  };
}
