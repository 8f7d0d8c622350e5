/**
 * The canonical tool names of Codex's tool items: Claude Code's names where the concept is the
 * same, so one policy's tool rules (`deny: ["Bash"]`) mean the same for both providers.
 * MCP calls are named `mcp__<server>__<tool>`, as Claude Code names them (`mcpToolName`); item
 * types not listed here (e.g. `collab_tool_call`, which the SDK's types do not know yet) keep
 * their type as their name.
 */
export const CODEX_TOOL_NAMES = Object.freeze({
  /** A shell command (`exec_command`); Codex runs it as `bash -lc …`. */
  command_execution: "Bash",
  /** An `apply_patch`: files added, updated or deleted, in one item. */
  file_change: "Edit",
  web_search: "WebSearch",
  /** The agent's plan; started, updated, and completed at the end of the turn. */
  todo_list: "TodoWrite",
});

/** `mcp__<server>__<tool>`, Claude Code's name for an MCP tool. */
export function mcpToolName(server: string, tool: string): string {
  return `mcp__${server}__${tool}`;
}
