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
  variables: (argv) => ({
    sessionId: flagValue(argv, "--resume") ?? flagValue(argv, "--session-id") ?? SCRIPTED_CLAUDE_SESSION_ID,
  }),
  async onStdinFrame(frame, io) {
    if (frame.type !== "control_request") return;
    const request = frame.request;
    const subtype =
      typeof request === "object" && request !== null && "subtype" in request ? request.subtype : undefined;
    // initialize, interrupt, set_permission_mode, set_model, …: the SDK only needs a success.
    await io.writeFrame({
      type: "control_response",
      response: {
        subtype: "success",
        request_id: frame.request_id,
        response: subtype === "initialize" ? { commands: [], agents: [], models: [], pid: process.pid } : {},
      },
    });
  },
};

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
