/**
 * The scripted ACP agent's contract, kept free of Node imports: the scenarios it plays, the
 * environment it reads, and the record it writes.
 *
 * | scenario        | what the agent does on `session/prompt`                                         |
 * |-----------------|----------------------------------------------------------------------------------|
 * | `text`          | a thought chunk, a plan, the answer "Hello from ACP: 3 + 5 = 8." in two chunks, `end_turn` with usage in `_meta.quota` |
 * | `tool_call`     | `tool_call` (execute, pending) → `tool_call_update` in_progress → completed with text and a diff; then "3 + 5 = 8." |
 * | `permission`    | `session/request_permission` for `echo hi` (execute); allowed: the call completes, "granted"; refused or cancelled: "denied" |
 * | `stall`         | starts a child `sleep` (same process group) and never answers, not even `session/cancel` |
 * | `malformed_line`| a line that is not JSON on stdout, then the `text` answer                         |
 * | `crash`         | a chunk, then dies from SIGKILL                                                 |
 * | `auth_failure`  | `session/new` fails with -32000 (auth required)                                  |
 * | `rate_limited`  | `session/prompt` fails with code 429 (as Gemini's ACP mode reports HTTP errors)  |
 * | `failure`       | `session/prompt` fails with -32603 and a message                                |
 * | `chunks`        | one `agent_message_chunk` per line of the file named by `ASM_SCRIPTED_ACP_CHUNKS` (a JSON string each), then `end_turn` with usage |
 *
 * `initialize` advertises `loadSession` (session/load replays one user and one agent chunk
 * before answering) and `sessionCapabilities.resume`; `session/cancel` ends a running prompt
 * with `cancelled` (except in `stall`).
 */

export const SCRIPTED_ACP_ENV = {
  /** The scenario to play (see the table). Required. */
  scenario: "ASM_SCRIPTED_ACP_SCENARIO",
  /** Path of the JSON record to write. Optional. */
  record: "ASM_SCRIPTED_ACP_RECORD",
  /** For `chunks`: a file of JSON strings, one per line, each sent as a message chunk. */
  chunks: "ASM_SCRIPTED_ACP_CHUNKS",
} as const;

export const SCRIPTED_ACP_SCENARIOS = [
  "text",
  "tool_call",
  "permission",
  "stall",
  "malformed_line",
  "crash",
  "auth_failure",
  "rate_limited",
  "failure",
  "chunks",
] as const;
export type ScriptedAcpScenario = (typeof SCRIPTED_ACP_SCENARIOS)[number];

/** Session id the scripted agent gives a new session. */
export const SCRIPTED_ACP_SESSION_ID = "acp-session-0001";

/** What the scripted agent saw, written to `ASM_SCRIPTED_ACP_RECORD` (rewritten on every change). */
export interface ScriptedAcpRecord {
  pid: number;
  argv: string[];
  cwd: string;
  /** The `initialize` params. */
  initialize?: Record<string, unknown>;
  /** `session/new`, `session/load`, `session/resume` calls: method and params. */
  sessions: { method: string; params: Record<string, unknown> }[];
  /** Prompt texts received. */
  prompts: string[];
  /** Outcomes of the permission requests it sent. */
  permissionOutcomes: unknown[];
  /** How many `session/cancel` notifications arrived. */
  cancels: number;
  /** Pids of the children `stall` started. */
  childPids: number[];
  stalled: boolean;
}
