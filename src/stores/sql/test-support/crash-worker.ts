/**
 * A process that works on a SQL store and is killed by the crash tests:
 *
 *   node --import tsx crash-worker.ts stream <store spec JSON>
 *   node --import tsx crash-worker.ts stream-long-lived <store spec JSON>
 *   node --import tsx crash-worker.ts recover <store spec JSON>
 *
 * `stream` runs one run through the SessionManager with a provider that streams a message
 * every 10 ms and never finishes; every event the manager reports stored (`onEvent`) is printed
 * as one JSON line, so the parent knows what was acknowledged before it kills this process.
 * It runs as `asm run` does, in a one-shot session (`runOnce`); `stream-long-lived` runs it in
 * a session started and activated on its own, which outlives its runs.
 *
 * `recover` opens the store without recovering, prints "ready", waits for a line on stdin (so
 * several start at the same moment), runs `maintenance.recoverOrphanedRuns()` and prints its
 * report as one JSON line.
 */
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { AsmError } from "../../../core/errors.js";
import type { AsmEvent } from "../../../core/events.js";
import type { ProviderAdapter } from "../../../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../../../ports/provider-adapter.js";
import { SessionManager } from "../../../session-manager.js";
import type { DurableSessionStore } from "../../../testing/index.js";
import type { CrashStoreSpec } from "./crash-scenario.js";

const [command, specText] = process.argv.slice(2);
const COMMANDS = ["stream", "stream-long-lived", "recover"];
if (command === undefined || !COMMANDS.includes(command) || specText === undefined) {
  process.stderr.write(`usage: crash-worker.ts ${COMMANDS.join("|")} <store spec JSON>\n`);
  process.exit(2);
}
const spec = JSON.parse(specText) as CrashStoreSpec;

async function openStore(recover: boolean): Promise<DurableSessionStore> {
  if (spec.kind === "sqlite") {
    const { openSqliteStore } = await import("../../sqlite/index.js");
    return openSqliteStore({ path: spec.path, recover });
  }
  const { openPostgresStore } = await import("../../postgres/index.js");
  return openPostgresStore({ connectionString: spec.connectionString, schema: spec.schema, recover });
}

if (command === "recover") {
  const store = await openStore(false);
  process.stdout.write("ready\n");
  await once(process.stdin, "data");
  process.stdin.pause();
  const report = await store.maintenance.recoverOrphanedRuns();
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await store.close();
} else {
  const store = await openStore(true);
  const adapter: ProviderAdapter = {
    specificationVersion: PROVIDER_ADAPTER_SPECIFICATION,
    name: "streams-forever",
    capabilities: [],
    async execute(_request, sink, signal) {
      sink.emit({ type: "run_started", data: { model: "none" } });
      for (let chunk = 0; !signal.aborted; chunk++) {
        sink.emit({ type: "message_streamed", data: { delta: `chunk ${chunk}` } });
        await sleep(10);
      }
      throw new AsmError("cancelled", "stopped");
    },
    async cancel() {
      return false;
    },
  };
  const manager = new SessionManager({ store, adapter });
  const onEvent = ({ id, sequence, type, sessionId, runId }: AsmEvent): void => {
    process.stdout.write(`${JSON.stringify({ id, sequence, type, sessionId, runId })}\n`);
  };
  if (command === "stream") {
    await manager.runOnce("stream until killed", { onEvent });
  } else {
    const session = await manager.startSession({ agentId: "long-lived" });
    await manager.activateSession(session.id);
    const run = await manager.startRun(session.id, "stream until killed");
    await manager.executeRun(run.id, { onEvent });
  }
}
