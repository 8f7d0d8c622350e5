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
 * `Bash`, `Read`, `Grep`, `Task` and `mcp__<server>__<tool>` are the same in both; any other
 * name is taken as Amp's own, so a policy may name Amp's tools directly. Note that Amp's events
 * carry Amp's names (`edit_file`), which is what the manager's own enforcement matches: a rule
 * meant to hold there too should name the tool as Amp does.
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
