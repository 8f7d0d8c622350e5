// VerboseRenderer: one `[type] key=value` line per event (ending with `seq=N`, the cursor to
// resume from), streamed text written inline as it comes and its line closed before the next
// bracketed line, then `--- N events, M tools ---`. Here it renders a session's stored log —
// `render` takes any iterable of events: a live run, a follow stream, a page read back.
//
// Checks: a bracketed line for every event but the streamed text, in sequence order.
//
//   npx tsx examples/rendering-verbose.ts                   # a scripted Claude CLI
//   npx tsx examples/rendering-verbose.ts --provider amp    # the real amp CLI

import { PassThrough } from "node:stream";
import {
  MemorySessionStore,
  render,
  SessionManager,
  stripAnsi,
  TtySink,
  VerboseRenderer,
} from "agent-session-manager";
import { check, createMainAgent, runExample } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({
    answer: "The test suite passes.",
    command: "npm test",
    commandOutput: "ok 1\nok 2\n",
  });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const result = await manager.runOnce("Run the tests and tell me how it went.");

  // The whole session as stored, rendered to the terminal and, to check it, to a second stream.
  const log = await store.getEvents(result.sessionId, { limit: 1000 });
  const copy = new PassThrough();
  let shown = "";
  copy.on("data", (chunk: Buffer) => {
    shown += chunk.toString();
  });
  const report = await render(log, {
    renderer: new VerboseRenderer(),
    sinks: [new TtySink(), new TtySink({ stream: copy })],
  });

  const lines = stripAnsi(shown).trimEnd().split("\n");
  const bracketed = lines.filter((line) => line.startsWith("["));
  const expected = log.filter((event) => event.type !== "message_streamed");
  check(
    bracketed.length === expected.length,
    `one bracketed line per event (${bracketed.length} of ${expected.length})`,
  );
  check(
    bracketed.every((line, at) => line.endsWith(` seq=${expected[at]?.sequence}`)),
    "the lines in sequence order, each with its seq",
  );
  check(
    bracketed.some((line) => /^\[run_completed\] stop_reason=\S+ tokens=\d+\/\d+/.test(line)),
    "[run_completed] with stop reason and tokens",
  );
  const tools = bracketed.filter((line) => line.startsWith("[tool_call_started]")).length;
  check(lines.at(-1) === `--- ${report.events} events, ${tools} tools ---`, "the summary line");
  console.log(`checked: ${bracketed.length} bracketed lines in sequence order for ${report.events} events`);
});
