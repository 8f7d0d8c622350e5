/**
 * A process that queues three runs on a SessionServer over a SQLite file and then hangs with the
 * first one executing, until it is killed: `queue-worker.ts <db path>`. Prints one JSON line,
 * `{ sessionId, runIds }`, once the first run has started.
 */
import { AsmError } from "../../core/errors.js";
import { aborted, ScriptedAdapter } from "../../manager/test-support/scripted-adapter.js";
import { SessionManager } from "../../session-manager.js";
import { openSqliteStore } from "../../stores/sqlite/index.js";
import { SessionServer } from "../session-server.js";

const [path] = process.argv.slice(2);
if (!path) throw new Error("usage: queue-worker.ts <db path>");

const store = await openSqliteStore({ path });
let started!: () => void;
const firstStarted = new Promise<void>((resolve) => {
  started = resolve;
});
const adapter = new ScriptedAdapter(async (_request, sink, signal) => {
  sink.emit({ type: "run_started", data: {} });
  started();
  await aborted(signal);
  throw new AsmError("cancelled", "aborted");
});
const manager = new SessionManager({ store, adapter });
const server = await SessionServer.start({ manager, session: { agentId: "queue-worker" } });
const runIds = [
  await server.submitRun("one"),
  await server.submitRun("two", { timeoutMs: 60_000, providerOptions: { scripted: { tag: "two" } } }),
  await server.submitRun("three"),
];
await firstStarted;
// The event is written by the pipeline after emit: wait until the store holds it.
while ((await store.getEvents(server.sessionId, { types: ["run_started"] })).length === 0) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
process.stdout.write(`${JSON.stringify({ sessionId: server.sessionId, runIds })}\n`);
setInterval(() => undefined, 60_000);
