#!/usr/bin/env node
// A scripted gemini CLI for tests: plays the transcript named by ASM_SCRIPTED_CLI_SCENARIO (see protocol.ts).
import { flagValue, runScriptedCli } from "./engine.js";

/** Session id a scripted Gemini reports when the adapter named none (`{{sessionId}}`). */
const DEFAULT_SESSION_ID = "5c6f7a3e-0000-4000-8000-00000000e001";

// `gemini -p "" -o stream-json (--session-id ID | --resume ID) …`: the prompt on stdin until EOF, JSONL out.
await runScriptedCli({
  provider: "gemini",
  stdinMode: () => "text",
  readsStdinFirst: () => true,
  atEnd: "exit",
  variables: (argv) => ({
    sessionId: flagValue(argv, "--resume") ?? flagValue(argv, "--session-id") ?? DEFAULT_SESSION_ID,
  }),
});
