import { flagValue, type ScriptedCliProfile, wordAfter } from "./engine.js";

/** Session id a scripted Claude reports when it is not resuming one (`{{sessionId}}`). */
export const SCRIPTED_CLAUDE_SESSION_ID = "5c6f7a3e-0000-4000-8000-00000000c1a0";
/** Thread id a scripted Codex reports when it is not resuming one (`{{threadId}}`). */
export const SCRIPTED_CODEX_THREAD_ID = "0199a000-0000-7000-8000-00000000c0de";
/** Thread id a scripted Amp reports when it is not continuing one (`{{threadId}}`). */
export const SCRIPTED_AMP_THREAD_ID = "T-5c6f7a3e-0000-4000-8000-0000000000a1";

/**
 * Claude Code in `--input-format stream-json` mode, as the Agent SDK drives it: NDJSON on stdin
 * (an `initialize` control request, then user messages and control responses), answers control
 * requests by itself, and exits once stdin closes.
 */
export const claudeProfile: ScriptedCliProfile = {
  provider: "claude",
  stdinMode: () => "ndjson",
  atEnd: "await_stdin_eof",
  variables: (argv) => ({ sessionId: claudeSessionId(argv) }),
  async onStdinFrame(frame, io) {
    if (frame.type !== "control_request") return;
    const request = frame.request;
    const subtype =
      typeof request === "object" && request !== null && "subtype" in request ? request.subtype : undefined;
    // An interrupt stops the turn before it is answered, as Claude Code does.
    const interrupted = subtype === "interrupt" && io.interruptTranscript();
    // initialize, interrupt, set_permission_mode, set_model, …: the SDK only needs a success.
    await io.writeFrame({
      type: "control_response",
      response: {
        subtype: "success",
        request_id: frame.request_id,
        response:
          subtype === "initialize"
            ? { commands: [], agents: [], models: [], pid: process.pid }
            : subtype === "interrupt"
              ? { still_queued: [] }
              : {},
      },
    });
    if (interrupted)
      for (const line of claudeInterruptedTurn(claudeSessionId(io.argv))) await io.writeFrame(line);
  },
};

function claudeSessionId(argv: readonly string[]): string {
  return flagValue(argv, "--resume") ?? flagValue(argv, "--session-id") ?? SCRIPTED_CLAUDE_SESSION_ID;
}

/** Cost the scripted Claude reports for an interrupted turn (`total_cost_usd`). */
export const SCRIPTED_CLAUDE_INTERRUPTED_COST_USD = 0.0001;

/**
 * What Claude Code 2.1.330 prints after an interrupt (seen against a loopback model mock): the
 * interruption as a user message, then an `error_during_execution` result whose
 * `terminal_reason` is `aborted_streaming`.
 */
function claudeInterruptedTurn(sessionId: string): Record<string, unknown>[] {
  const zero = {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  return [
    {
      type: "user",
      message: { role: "user", content: [{ type: "text", text: "[Request interrupted by user]" }] },
      parent_tool_use_id: null,
      session_id: sessionId,
      uuid: "interrupted-1",
    },
    {
      type: "result",
      subtype: "error_during_execution",
      is_error: true,
      duration_ms: 400,
      duration_api_ms: 0,
      num_turns: 1,
      stop_reason: null,
      session_id: sessionId,
      total_cost_usd: SCRIPTED_CLAUDE_INTERRUPTED_COST_USD,
      usage: zero,
      modelUsage: {},
      permission_denials: [],
      terminal_reason: "aborted_streaming",
      errors: ["[ede_diagnostic] result_type=user last_content_type=n/a stop_reason=null"],
      uuid: "interrupted-result",
    },
  ];
}

/** `codex exec --experimental-json [resume <id>]`: the prompt on stdin until EOF, JSONL out. */
export const codexProfile: ScriptedCliProfile = {
  provider: "codex",
  stdinMode: () => "text",
  readsStdinFirst: () => true,
  atEnd: "exit",
  variables: (argv) => ({ threadId: wordAfter(argv, "resume") ?? SCRIPTED_CODEX_THREAD_ID }),
};

/**
 * `amp [threads continue <id>] --execute --stream-json [--stream-json-input]`: the prompt on
 * stdin (a line of text, or NDJSON user messages with `--stream-json-input`), NDJSON out.
 */
export const ampProfile: ScriptedCliProfile = {
  provider: "amp",
  stdinMode: (argv) => (argv.includes("--stream-json-input") ? "ndjson" : "text"),
  readsStdinFirst: (argv) => !argv.includes("--stream-json-input"),
  atEnd: "exit",
  variables: (argv) => ({ threadId: wordAfter(argv, "threads", "continue") ?? SCRIPTED_AMP_THREAD_ID }),
  settingsFile: (argv) => flagValue(argv, "--settings-file"),
};
