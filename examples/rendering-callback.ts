// PassthroughRenderer + CallbackSink: no text at all — the pipeline as a programmable event
// processor. The callback sees every event of the live run and builds statistics: events by
// type, text bytes, tools used, model, stop reason, and the full response text.
//
// Checks: the statistics agree with the run's result.
//
//   npx tsx examples/rendering-callback.ts                     # a scripted Claude CLI
//   npx tsx examples/rendering-callback.ts --provider claude   # the real claude CLI
import {
  type AsmEvent,
  CallbackSink,
  MemorySessionStore,
  PassthroughRenderer,
  render,
  SessionManager,
} from "agent-session-manager";
import { check, createMainAgent, runExample } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({
    answer: "Two files: README.md and package.json.",
    command: "ls",
    commandOutput: "README.md\npackage.json\n",
  });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const session = await manager.startSession({ agentId: "rendering-callback" });
  await manager.activateSession(session.id);
  const handle = await manager.streamRun(session.id, "What files are here?");

  const stats = { events: 0, textBytes: 0, tools: [] as string[], model: "", stopReason: "", text: "" };
  const byType = new Map<string, number>();
  const collect = (event: AsmEvent, rendered: string) => {
    check(rendered === "", "the passthrough renderer renders nothing");
    stats.events += 1;
    byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
    if (event.type === "message_streamed") stats.textBytes += Buffer.byteLength(event.data.delta);
    if (event.type === "message_received" && event.data.role === "assistant")
      stats.text += event.data.content;
    if (event.type === "tool_call_started") stats.tools.push(event.data.toolName);
    if (event.type === "run_started") stats.model = event.data.model ?? "";
    if (event.type === "run_completed") stats.stopReason = event.data.stopReason;
  };
  const report = await render(handle.events, {
    renderer: new PassthroughRenderer(),
    sinks: [new CallbackSink({ callback: collect })],
  });
  const result = await handle.result;

  console.log(
    `events: ${stats.events} (${[...byType].map(([type, count]) => `${type}×${count}`).join(" ")})`,
  );
  console.log(`text: ${stats.textBytes} bytes streamed; tools: ${stats.tools.join(", ") || "none"}`);
  console.log(`model: ${stats.model || "not named"}; stop reason: ${stats.stopReason}`);
  console.log(`response: ${stats.text.trim()}`);
  check(
    stats.events === report.events && stats.events === result.events.length,
    "every event of the run, once",
  );
  check(stats.text.trim() === result.output.content.trim(), "the response text is the run's output");
  check(stats.stopReason === result.stopReason, "the stop reason is the run's");
  if (!agent.live) check(stats.tools.join() === "Bash", "the scripted agent ran one Bash command");
  console.log("checked: the callback's statistics agree with the run's result");
});
