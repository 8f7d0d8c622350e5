import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import type { SessionStore } from "../ports/session-store.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { SessionManagerBase } from "./session-manager.js";
import { aborted, type Script, ScriptedAdapter } from "./test-support/scripted-adapter.js";

/** Streams `count` deltas, yielding to the event loop between them so readers interleave. */
function streaming(count: number): Script {
  return async (_request, sink) => {
    sink.emit({ type: "run_started", data: {} });
    for (let index = 0; index < count; index += 1) {
      sink.emit({ type: "message_streamed", data: { delta: `d${index} ` } });
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { output: { content: "streamed" } };
  };
}

async function collect(events: AsyncIterable<AsmEvent>): Promise<AsmEvent[]> {
  const seen: AsmEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => Promise<SessionStore>][] = [
  ["memory", async () => new MemorySessionStore()],
  [
    "SQLite",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "asm-handle-"));
      dirs.push(dir);
      return openSqliteStore({ path: join(dir, "asm.db") });
    },
  ],
];

describe.each(stores)("streamRun on %s", (_name, open) => {
  async function setup(script: Script) {
    const store = await open();
    const manager = new SessionManagerBase({ store, adapter: new ScriptedAdapter(script) });
    const session = await manager.startSession({ agentId: "agent" });
    await manager.activateSession(session.id);
    return { store, manager, session };
  }

  it("returns at once with the run id; its events are the stored ones, first to terminal, read live and again later", async () => {
    const { store, manager, session } = await setup(streaming(200));
    const handle = await manager.streamRun(session.id, "go");
    expect((await store.getRun(handle.runId)).sessionId).toBe(session.id);
    const live = await collect(handle.events);
    const result = await handle.result;
    const stored = await store.getEvents(session.id, { runId: handle.runId, limit: 1000 });
    expect(live.map((event) => event.id)).toEqual(stored.map((event) => event.id));
    expect(live[0]?.type).toBe("message_sent");
    expect(live.at(-1)?.type).toBe("run_completed");
    expect(live.filter((event) => event.type === "message_streamed")).toHaveLength(200);
    expect(result.output.content).toBe("streamed");
    // A second iteration, after the run ended, replays the same events from the log.
    expect((await collect(handle.events)).map((event) => event.id)).toEqual(stored.map((event) => event.id));
  });

  it("only this run's events, while another run of the session streams at the same time", async () => {
    const { manager, session } = await setup(streaming(50));
    const [first, second] = await Promise.all([
      manager.streamRun(session.id, "one"),
      manager.streamRun(session.id, "two"),
    ]);
    const [a, b] = await Promise.all([collect(first.events), collect(second.events)]);
    expect(a.every((event) => event.runId === first.runId)).toBe(true);
    expect(b.every((event) => event.runId === second.runId)).toBe(true);
    expect(a.filter((event) => event.type === "message_streamed")).toHaveLength(50);
    expect(b.filter((event) => event.type === "message_streamed")).toHaveLength(50);
    const increasing = (events: AsmEvent[]) =>
      events.every((event, i) => i === 0 || event.sequence > (events[i - 1]?.sequence ?? 0));
    expect(increasing(a) && increasing(b)).toBe(true);
  });

  it("cancel stops the run: the events end with run_cancelled and the result rejects with cancelled", async () => {
    const { manager, session } = await setup(async (_request, sink, signal) => {
      sink.emit({ type: "run_started", data: {} });
      await aborted(signal);
      throw new AsmError("cancelled", "stopped");
    });
    const handle = await manager.streamRun(session.id, "wait");
    const seen: AsmEvent[] = [];
    for await (const event of handle.events) {
      seen.push(event);
      if (event.type === "run_started") await handle.cancel("enough");
    }
    expect(seen.map((event) => event.type)).toEqual(["message_sent", "run_started", "run_cancelled"]);
    await expect(handle.result).rejects.toMatchObject({ code: "cancelled" });
  });

  it("refused options reject the result and end the events without a terminal event (no hang)", async () => {
    const { store, manager, session } = await setup(streaming(1));
    const handle = await manager.streamRun(session.id, "go", { timeoutMs: -5 });
    await expect(handle.result).rejects.toMatchObject({ code: "validation_error" });
    expect(await collect(handle.events)).toEqual([]);
    expect((await store.getRun(handle.runId)).status).toBe("pending");
  });
});
