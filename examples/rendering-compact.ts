// CompactRenderer: a run's events as dense tokens — `r+ model` run started, `>> text` streamed
// text, `t+Name` / `t-Name` a tool call, `tk:in/out $cost` usage, `msg` a complete message,
// `r-:reason` the end, `!` a failure, `?type` anything else — then `N events, M tools`.
// The run's live event stream (`streamRun`'s handle) goes through `render` to the terminal.
//
// Checks: the tokens show up in the order the run made them, and the summary counts them.
//
//   npx tsx examples/rendering-compact.ts                      # a scripted Claude CLI
//   npx tsx examples/rendering-compact.ts --no-color
//   npx tsx examples/rendering-compact.ts --provider codex     # the real codex CLI
import {
  CallbackSink,
  CompactRenderer,
  MemorySessionStore,
  render,
  SessionManager,
  stripAnsi,
  TtySink,
} from "agent-session-manager";
import { check, createMainAgent, runExample } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({
    answer: "There are two files: a README and a package manifest.",
    command: "ls",
    commandOutput: "README.md\npackage.json\n",
  });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const session = await manager.startSession({ agentId: "rendering-compact" });
  await manager.activateSession(session.id);
  const handle = await manager.streamRun(session.id, "List the files here, then say what they are.");

  let shown = "";
  const collect = (text: string) => {
    shown += text;
  };
  const report = await render(handle.events, {
    renderer: new CompactRenderer({ color: !process.argv.includes("--no-color") }),
    sinks: [new TtySink(), new CallbackSink({ callback: (_event, text) => collect(text), onText: collect })],
  });
  await handle.result;

  const plain = stripAnsi(shown);
  // A real agent may answer without a tool; the scripted one runs `ls` first.
  const tokens = agent.live ? ["r+", "tk:", "r-"] : ["r+", "t+Bash", "t-Bash", "msg", "r-:end"];
  const at = tokens.map((token) => plain.indexOf(token));
  check(
    at.every((index, i) => index >= 0 && (i === 0 || index > (at[i - 1] ?? -1))),
    `the tokens ${tokens.join(" ")} in order`,
  );
  check(/(>>|msg) \S/.test(plain), "the answer, streamed (>>) or whole (msg)");
  const tools = (plain.match(/t\+\S+/g) ?? []).length;
  check(
    plain.endsWith(`${report.events} events, ${tools} tools\n`),
    "the summary counts the events and tools",
  );
  check(report.failures.length === 0, "no sink failed");
  console.log(`checked: ${tokens.join(" ")} in order, then "${report.events} events, ${tools} tools"`);
});
