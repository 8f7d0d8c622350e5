import type { ToolNameTable } from "../shared/tool-rules.js";

/**
 * Canonical (Claude Code) tool names → the Gemini CLI's, for compiling a run's policy into
 * Gemini's settings and naming tools on events (`Bash`, with `nativeToolName:
 * "run_shell_command"`):
 *
 * | canonical   | Gemini CLI                          |
 * |-------------|-------------------------------------|
 * | `Read`      | `read_file`, `read_many_files`      |
 * | `Write`     | `write_file`                        |
 * | `Edit`      | `replace`                           |
 * | `Bash`      | `run_shell_command`                 |
 * | `Glob`      | `glob`                              |
 * | `Grep`      | `grep_search`, `search_file_content`|
 * | `LS`        | `list_directory`                    |
 * | `WebFetch`  | `web_fetch`                         |
 * | `WebSearch` | `google_web_search`                 |
 * | `TodoWrite` | `write_todos`                       |
 *
 * Any other name (`save_memory`, MCP tools, …) is taken as Gemini's own.
 */
export const GEMINI_TOOL_NAMES: ToolNameTable = new Map([
  ["Read", ["read_file", "read_many_files"]],
  ["Write", ["write_file"]],
  ["Edit", ["replace"]],
  ["Bash", ["run_shell_command"]],
  ["Glob", ["glob"]],
  ["Grep", ["grep_search", "search_file_content"]],
  ["LS", ["list_directory"]],
  ["WebFetch", ["web_fetch"]],
  ["WebSearch", ["google_web_search"]],
  ["TodoWrite", ["write_todos"]],
]);
