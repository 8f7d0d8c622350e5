import type { ToolNameTable } from "../shared/tool-rules.js";

/**
 * Canonical (Claude Code) tool names → Amp's, where they differ, for compiling a run's policy
 * into Amp's settings:
 *
 * | canonical   | Amp                        |
 * |-------------|----------------------------|
 * | `Edit`      | `edit_file`, `undo_edit`   |
 * | `Write`     | `create_file`              |
 * | `Glob`      | `glob`                     |
 * | `WebSearch` | `web_search`               |
 * | `WebFetch`  | `read_web_page`            |
 * | `TodoWrite` | `todo_write`, `todo_read`  |
 * | `Agent`     | `Task`                     |
 *
 * `Bash`, `Read`, `Grep` and `mcp__<server>__<tool>` are the same in both; any other name is
 * taken as Amp's own. Events carry the canonical name (`Edit`, with `nativeToolName: "edit_file"`),
 * so a policy written once holds for every provider, on the provider side and on the events.
 */
export const AMP_TOOL_NAMES: ToolNameTable = new Map([
  ["Edit", ["edit_file", "undo_edit"]],
  ["Write", ["create_file"]],
  ["Glob", ["glob"]],
  ["WebSearch", ["web_search"]],
  ["WebFetch", ["read_web_page"]],
  ["TodoWrite", ["todo_write", "todo_read"]],
  ["Agent", ["Task"]],
]);
