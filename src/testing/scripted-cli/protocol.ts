/**
 * The transcript format shared by every scripted CLI, and the record each one writes. Kept free
 * of Node imports so tests and tools can use the types without starting anything.
 *
 * A transcript is a JSONL file. Each line is either a frame, written to stdout as one JSON line
 * exactly as the real CLI would print it, or a directive (an object whose keys start with `$`):
 *
 * | directive | effect |
 * |---|---|
 * | `{"$delay": 50}` | wait 50 ms |
 * | `{"$awaitStdin": "user"}` | wait for a stdin JSON line whose `type` is `user` (any type name works) |
 * | `{"$awaitStdin": "line"}` / `{"$awaitStdin": "eof"}` | wait for any stdin line / for stdin to close |
 * | `{"$stall": true}` | start a child `sleep` (so tests can check the whole process tree dies), then hang until killed or interrupted (the child is then stopped); add `"$ignoreSigterm": true` to make SIGKILL the only way out, `"$ignoreInterrupt": true` to hang through an interrupt |
 * | `{"$exit": 1, "$stderr": "boom"}` | write `boom` to stderr, then exit with code 1 |
 * | `{"$stderr": "warning"}` | write to stderr (a newline is added) |
 * | `{"$raw": "not json"}` | write the text as one stdout line, unparsed |
 * | `{"$bytes": "<base64>", "$repeat": 3}` | write the decoded bytes as they are, `$repeat` times (default 1), no newline added: any bytes, including invalid UTF-8, NUL, CR and lines of any length |
 * | `{"$oversized": 2000000}` | write one valid JSON line of that many bytes |
 * | `{"$crash": true}` | die from SIGKILL at once (a crash mid-stream) |
 * | `{"$comment": "…"}` | nothing |
 *
 * Strings in frames may contain `{{name}}` placeholders, filled from the CLI's argv by its
 * profile: `{{sessionId}}` (Claude: `--resume`/`--session-id`), `{{threadId}}` (Codex:
 * `resume <id>`; Amp: `threads continue <id>`), `{{prompt}}` (the prompt text received), `{{cwd}}`.
 *
 * The CLI reads the transcript from `ASM_SCRIPTED_CLI_SCENARIO` and, when
 * `ASM_SCRIPTED_CLI_RECORD` is set, keeps a JSON record of how it was called there (rewritten
 * atomically on every change, so it can be read while the CLI runs or after it was killed).
 *
 * An interrupt (the scripted Claude answers the SDK's `interrupt` control request) stops the
 * transcript where it is — a `$delay` or `$stall` ends — and the profile writes what the real
 * CLI writes for an interrupted turn; the CLI then waits for stdin to close, as at the end.
 */

/** Environment variables the scripted CLIs read. */
export const SCRIPTED_CLI_ENV = {
  /** Path of the transcript (JSONL) to play. Required. */
  scenario: "ASM_SCRIPTED_CLI_SCENARIO",
  /** Path of the JSON record to write. Optional. */
  record: "ASM_SCRIPTED_CLI_RECORD",
} as const;

export type ScriptedCliProvider = "claude" | "codex" | "amp" | "gemini";

export interface DelayDirective {
  $delay: number;
}
export interface AwaitStdinDirective {
  /** `eof`, `line`, or the `type` of the stdin JSON line to wait for. */
  $awaitStdin: string;
  /** Give up after this long: write to stderr and exit 3. Default 30 000 ms. */
  $timeoutMs?: number;
}
export interface StallDirective {
  $stall: true;
  $ignoreSigterm?: boolean;
  /** Keep stalling through an interrupt (Claude's `interrupt` control request). */
  $ignoreInterrupt?: boolean;
}
export interface ExitDirective {
  $exit: number;
  $stderr?: string;
}
export interface StderrDirective {
  $stderr: string;
}
export interface RawDirective {
  $raw: string;
}
export interface BytesDirective {
  /** Base64 of the bytes to write to stdout exactly (no newline is added). */
  $bytes: string;
  /** Write them this many times, one after the other. Default 1. */
  $repeat?: number;
}
export interface OversizedDirective {
  $oversized: number;
}
export interface CrashDirective {
  $crash: true;
}
export interface CommentDirective {
  $comment: string;
}

export type TranscriptDirective =
  | DelayDirective
  | AwaitStdinDirective
  | StallDirective
  | ExitDirective
  | StderrDirective
  | RawDirective
  | BytesDirective
  | OversizedDirective
  | CrashDirective
  | CommentDirective;

/** A native output frame of the provider (printed as is, placeholders filled). */
export type TranscriptFrame = { [key: string]: unknown };

export type TranscriptLine = TranscriptFrame | TranscriptDirective;

/** What a scripted CLI saw, written to `ASM_SCRIPTED_CLI_RECORD`. */
export interface ScriptedCliRecord {
  provider: ScriptedCliProvider;
  pid: number;
  /** Arguments after the script path. */
  argv: string[];
  cwd: string;
  /**
   * The environment it was started with. Values of names that look secret (…API_KEY, …TOKEN,
   * …SECRET, …PASSWORD, …CREDENTIAL…) are replaced by `[redacted]`, so presence can be asserted.
   */
  env: Record<string, string>;
  /** stdin as received: every line, JSON lines parsed (`{ raw }` for lines that are not JSON). */
  stdin: unknown[];
  /** True once stdin was closed. */
  stdinClosed: boolean;
  /** Pids of the children `$stall` started. */
  childPids: number[];
  /** Set when the transcript is stalled (`$stall`). */
  stalled: boolean;
  /** How it ended, when it ended on its own (not when killed). */
  exitCode?: number;
  /** The settings file it was given (Amp: `--settings-file`) as it read at start, parsed. */
  settings?: unknown;
}

/** Secret-looking environment variable names, redacted in records. */
export const SECRET_ENV_NAME = /API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|COOKIE|PRIVATE/i;

export function isDirective(line: TranscriptLine): line is TranscriptDirective {
  return Object.keys(line).some((key) => key.startsWith("$"));
}
