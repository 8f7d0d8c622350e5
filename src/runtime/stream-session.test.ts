import { afterEach, describe, expect, it, vi } from "vitest";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { aborted, type Script, ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { streamSession } from "./stream-session.js";

/** Streams `count` deltas, yielding to the event loop between them. */
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

/** Starts, then waits until it is cancelled. */
const stalling: Script = async (_request, sink, signal) => {
  sink.emit({ type: "run_started", data: {} });
  await aborted(signal);
  throw new AsmError("cancelled", "stopped");
};

async function collect(events: AsyncIterable<AsmEvent>): Promise<AsmEvent[]> {
  const seen: AsmEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error: unknown) => (AsmError.is(error) ? error.code : String(error)),
  );

afterEach(() => {
  vi.restoreAllMocks();
});

describe("streamSession", () => {
  it("streams the run's stored events in order, resolves the result, completes the session", async () => {
    const store = new MemorySessionStore();
    const stream = await streamSession({ adapter: new ScriptedAdapter(streaming(100)), input: "go", store });
    const events = await collect(stream);
    const result = await stream.result;

    expect(events.map((event) => event.type)).toEqual([
      "message_sent",
      "run_started",
      ...Array.from({ length: 100 }, () => "message_streamed"),
      "run_completed",
    ]);
    const stored = await store.getEvents(stream.sessionId, { runId: stream.runId, limit: 1000 });
    expect(events.map((event) => event.id)).toEqual(stored.map((event) => event.id));
    expect(result).toMatchObject({ runId: stream.runId, output: { content: "streamed" } });
    expect((await store.getSession(stream.sessionId)).status).toBe("completed");
    // A store given to it is left open.
    expect((await store.getRun(stream.runId)).status).toBe("completed");
  });

  it("closes the store it created itself, once the stream ends, and only that", async () => {
    const close = vi.spyOn(MemorySessionStore.prototype, "close");
    const owned = await streamSession({ adapter: new ScriptedAdapter(streaming(3)), input: "go" });
    await collect(owned);
    expect(close).toHaveBeenCalledTimes(1);
    await owned.close();
    expect(close).toHaveBeenCalledTimes(1);

    const given = new MemorySessionStore();
    const stream = await streamSession({
      adapter: new ScriptedAdapter(streaming(3)),
      input: "go",
      store: given,
    });
    await collect(stream);
    await stream.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it("close mid-stream cancels the run, ends the stream without an error event, and is idempotent", async () => {
    const store = new MemorySessionStore();
    const stream = await streamSession({ adapter: new ScriptedAdapter(stalling), input: "wait", store });
    const seen: string[] = [];
    let closing: Promise<void> | undefined;
    for await (const event of stream) {
      seen.push(event.type);
      if (event.type === "run_started") closing = stream.close();
    }
    expect(stream.close()).toBe(closing);
    await closing;
    expect(seen).toEqual(["message_sent", "run_started"]);
    expect(await codeOf(stream.result)).toBe("cancelled");
    expect((await store.getRun(stream.runId)).status).toBe("cancelled");
    expect((await store.getSession(stream.sessionId)).status).toBe("cancelled");
    const logged = await store.getEvents(stream.sessionId, { limit: 100 });
    expect(logged.filter((event) => event.type === "error_occurred")).toEqual([]);
  });

  it("leaving the loop early closes the stream session: the run is cancelled", async () => {
    const store = new MemorySessionStore();
    const stream = await streamSession({ adapter: new ScriptedAdapter(stalling), input: "wait", store });
    for await (const event of stream) if (event.type === "run_started") break;
    expect((await store.getRun(stream.runId)).status).toBe("cancelled");
    expect(await codeOf(stream.result)).toBe("cancelled");
  });

  it("an idle run ends the stream with one error_occurred (timeout) and is cancelled", async () => {
    const store = new MemorySessionStore();
    const stream = await streamSession({
      adapter: new ScriptedAdapter(stalling),
      input: "wait",
      store,
      idleTimeoutMs: 30,
    });
    const types = (await collect(stream)).map((event) => event.type);
    // run_started may or may not come first: on a loaded machine the idle timer can beat it.
    expect(types.filter((type) => type !== "run_started")).toEqual([
      "message_sent",
      "run_cancelled",
      "error_occurred",
    ]);
    const logged = await store.getEvents(stream.sessionId, { limit: 100 });
    expect(logged.filter((event) => event.type === "error_occurred").at(0)?.data).toMatchObject({
      errorCode: "timeout",
      errorMessage: "stream idle timeout after 30 ms",
      fatal: true,
      details: { runId: stream.runId, idleTimeoutMs: 30 },
    });
    expect(await codeOf(stream.result)).toBe("timeout");
    expect((await store.getRun(stream.runId)).status).toBe("cancelled");
    expect((await store.getSession(stream.sessionId)).status).toBe("failed");
  });

  it("a failed run ends the stream with exactly one error_occurred, logged in the session", async () => {
    const store = new MemorySessionStore();
    const adapter = new ScriptedAdapter(async (_request, sink) => {
      sink.emit({ type: "run_started", data: {} });
      throw new AsmError("provider_error", "the model went away");
    });
    const stream = await streamSession({ adapter, input: "go", store });
    const events = await collect(stream);
    expect(events.map((event) => event.type)).toEqual([
      "message_sent",
      "run_started",
      "run_failed",
      "error_occurred",
    ]);
    const errors = events.filter((event) => event.type === "error_occurred");
    expect(errors).toHaveLength(1);
    expect(errors[0]?.data).toMatchObject({
      errorCode: "provider_error",
      errorMessage: "the model went away",
    });
    const logged = await store.getEvents(stream.sessionId, { limit: 100 });
    expect(logged.filter((event) => event.type === "error_occurred").map((event) => event.id)).toEqual([
      errors[0]?.id,
    ]);
    expect(await codeOf(stream.result)).toBe("provider_error");
    expect((await store.getSession(stream.sessionId)).status).toBe("failed");
  });

  it("a store that goes away mid-run still ends the stream with one error_occurred (unstored)", async () => {
    const store = new MemorySessionStore();
    const adapter = new ScriptedAdapter(async (_request, sink, signal) => {
      sink.emit({ type: "run_started", data: {} });
      await store.close();
      sink.emit({ type: "message_streamed", data: { delta: "lost" } });
      await aborted(signal);
      throw new AsmError("cancelled", "stopped");
    });
    const stream = await streamSession({
      adapter,
      input: "go",
      store,
      managerOptions: { storageRetry: { attempts: 1 } },
    });
    const events = await collect(stream);
    const last = events.at(-1);
    expect(events.filter((event) => event.type === "error_occurred")).toHaveLength(1);
    expect(last).toMatchObject({ type: "error_occurred", sequence: 0, metadata: { unstored: true } });
    expect(await codeOf(stream.result)).toMatch(/^storage_/);
  });

  it("can be iterated once", async () => {
    const stream = await streamSession({ adapter: new ScriptedAdapter(streaming(1)), input: "go" });
    await collect(stream);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(
      expect.objectContaining({ code: "invalid_operation" }),
    );
  });

  it("refuses bad options with validation_error and creates nothing", async () => {
    const close = vi.spyOn(MemorySessionStore.prototype, "close");
    const adapter = new ScriptedAdapter(streaming(1));
    expect(await codeOf(streamSession({ input: "go" } as never))).toBe("validation_error");
    expect(await codeOf(streamSession({ adapter } as never))).toBe("validation_error");
    expect(await codeOf(streamSession({ adapter, input: "go", idleTimeoutMs: 0 }))).toBe("validation_error");
    expect(close).not.toHaveBeenCalled();
    // A run the manager refuses releases the store it created.
    const impossible = { requiredCapabilities: [{ type: "tool" as const, name: "teleport" }] };
    expect(await codeOf(streamSession({ adapter, input: "go", runOptions: impossible }))).toBe(
      "missing_required_capability",
    );
    expect(close).toHaveBeenCalledTimes(1);
  });
});
