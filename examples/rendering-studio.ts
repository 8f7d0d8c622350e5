// StudioRenderer: the CLI's renderer. ● information, ◐ a tool running, ✓ done, ✗ failed; text
// in indented blocks; one summary line per tool call (`Ran: npm test (exit 0, 12 chars)`), with
// its output as asked: `summary` (none), `preview` (its last 3 lines, │) or `full` (┊). On a
// terminal a running tool is one line with a turning spinner, replaced by its summary; off one
// (a pipe, a file) every line is final and no cursor control is written.
//
// The run is rendered live (spinner and all when stdout is a terminal), then its stored events
// are rendered again with each tool-output mode, off-terminal, and checked.
//
//   npx tsx examples/rendering-studio.ts                     # a scripted Claude CLI
//   npx tsx examples/rendering-studio.ts --provider codex    # the real codex CLI
import {
  type AsmEvent,
  CallbackSink,
  MemorySessionStore,
  render,
  SessionManager,
  StudioRenderer,
  type ToolOutputMode,
  TtySink,
} from "agent-session-manager";
import { check, createMainAgent, runExample } from "./support.js";

/** The studio's text for `events`, off a terminal, without colour. */
async function studioText(events: AsmEvent[], toolOutput: ToolOutputMode): Promise<string> {
  let text = "";
  const collect = (part: string) => {
    text += part;
  };
  await render(events, {
    renderer: new StudioRenderer({ toolOutput, tty: false, color: false }),
    sinks: [new CallbackSink({ callback: (_event, part) => collect(part), onText: collect })],
  });
  return text;
}

runExample(async () => {
  const agent = createMainAgent({
    answer: "All four tests pass.",
    command: "npm test",
    commandOutput: "ok 1 parses\nok 2 renders\nok 3 sinks\nok 4 spinner\n",
  });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const session = await manager.startSession({ agentId: "rendering-studio" });
  await manager.activateSession(session.id);

  console.log("== live");
  const handle = await manager.streamRun(session.id, "Run the tests.");
  await render(handle.events, {
    renderer: new StudioRenderer({ toolOutput: "preview" }),
    sinks: [new TtySink()],
  });
  const result = await handle.result;

  const events = await store.getEvents(session.id, { limit: 1000 });
  const modes: Record<ToolOutputMode, string> = {
    summary: await studioText(events, "summary"),
    preview: await studioText(events, "preview"),
    full: await studioText(events, "full"),
  };
  for (const [mode, text] of Object.entries(modes))
    console.log(`== stored events, tool output: ${mode}\n${text}`);

  check(!Object.values(modes).join("").includes("\u001b"), "off a terminal: no escape sequence at all");
  check(
    Object.values(modes).every((text) => /^ {2}✓ run completed · end_turn · \d+ ms · /m.test(text)),
    "each ends the run with ✓ run completed",
  );
  if (!agent.live) {
    check(
      /^ {2}◐ Running: npm test\n {2}✓ Ran: npm test \(exit 0, \d+ chars\)\n\n/m.test(modes.summary),
      "the summary line",
    );
    check(
      modes.preview.includes("    │ ok 2 renders\n    │ ok 3 sinks\n    │ ok 4 spinner\n"),
      "the last 3 lines",
    );
    check((modes.full.match(/ {4}┊ ok \d/g) ?? []).length === 4, "all 4 lines");
  }
  console.log(
    `checked: ${result.events.length} run events in three tool-output modes, no escape sequence off a terminal`,
  );
});
