import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { RUN_EXTENSION_SPECIFICATION, type RunExtension, type RunHooks } from "../ports/run-extension.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { SessionManagerBase } from "./session-manager.js";
import { type Script, ScriptedAdapter } from "./test-support/scripted-adapter.js";

const answer: Script = async (_request, sink) => {
  sink.emit({ type: "run_started", data: {} });
  sink.emit({ type: "message_received", data: { role: "assistant", content: "done" } });
  return { output: { content: "done" }, tokenUsage: { inputTokens: 3, outputTokens: 4 } };
};

function extension(
  name: string,
  start: RunExtension["start"],
  more: Partial<RunExtension> = {},
): RunExtension {
  return { specificationVersion: RUN_EXTENSION_SPECIFICATION, name, start, ...more };
}

async function setup(extensions: RunExtension[], script: Script = answer) {
  const store = new MemorySessionStore();
  const adapter = new ScriptedAdapter(script);
  const manager = new SessionManagerBase({ store, adapter, extensions });
  const session = await manager.startSession({ agentId: "agent" });
  await manager.activateSession(session.id);
  const run = await manager.startRun(session.id, "go");
  return { store, adapter, manager, run };
}

function rejection(promise: Promise<unknown>): Promise<AsmError> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error as AsmError,
  );
}

describe("run extensions", () => {
  it("run every hook in order: start, transformRequest, onEvent per stored event, finish, close", async () => {
    const calls: string[] = [];
    const recorder = (name: string): RunExtension =>
      extension(name, ({ run }) => {
        calls.push(`${name}.start:${run.status}`);
        return {
          transformRequest: (request) => {
            calls.push(`${name}.transform`);
            return { ...request, providerOptions: { ...request.providerOptions, [name]: { added: true } } };
          },
          onEvent: (event) => calls.push(`${name}.event:${event.sequence}:${event.type}`),
          finish: ({ outcome, events }) => {
            calls.push(`${name}.finish:${outcome.status}:${events.length}`);
            return { metadata: { [name]: "seen" } };
          },
          close: () => {
            calls.push(`${name}.close`);
          },
        };
      });
    const { manager, adapter, store, run } = await setup([recorder("a"), recorder("b")]);
    const result = await manager.executeRun(run.id);

    expect(adapter.calls[0]?.providerOptions).toEqual({ a: { added: true }, b: { added: true } });
    const events = await store.getEvents(run.sessionId, { runId: run.id });
    const stored = events.filter((event) => event.type !== "run_completed");
    const terminal = events.find((event) => event.type === "run_completed");
    const seen = (event: AsmEvent) => [
      `a.event:${event.sequence}:${event.type}`,
      `b.event:${event.sequence}:${event.type}`,
    ];
    // The run's input is logged (message_sent) before the provider request is built.
    expect(stored[0]?.type).toBe("message_sent");
    expect(calls).toEqual([
      "a.start:running",
      "b.start:running",
      ...stored.slice(0, 1).flatMap(seen),
      "a.transform",
      "b.transform",
      ...stored.slice(1).flatMap(seen),
      `a.finish:completed:${stored.length}`,
      `b.finish:completed:${stored.length}`,
      `a.event:${terminal?.sequence}:run_completed`,
      `b.event:${terminal?.sequence}:run_completed`,
      "b.close",
      "a.close",
    ]);
    expect((await store.getRun(run.id)).metadata).toMatchObject({ a: "seen", b: "seen" });
    expect(result.output.content).toBe("done");
  });

  it("validate their options with the call's: a bad value is a validation_error and the run stays pending", async () => {
    const typed = extension("typed", () => undefined, {
      optionSchemas: { budget: z.number().int().positive().optional() },
      checkOptions: (options) => {
        if (options.budget === 13) throw new AsmError("validation_error", "13 is unlucky");
      },
    });
    const { manager, store, run, adapter } = await setup([typed]);
    const options = (budget: unknown) => ({ budget }) as Record<string, unknown>;
    expect((await rejection(manager.executeRun(run.id, options(-1)))).code).toBe("validation_error");
    expect((await rejection(manager.executeRun(run.id, options(13)))).message).toBe("13 is unlucky");
    expect((await rejection(manager.executeRun(run.id, { unknownKey: 1 } as never))).code).toBe(
      "validation_error",
    );
    expect((await store.getRun(run.id)).status).toBe("pending");
    expect(adapter.calls).toHaveLength(0);
    await manager.executeRun(run.id, options(5));
    expect((await store.getRun(run.id)).status).toBe("completed");
  });

  it("a veto at start fails the run before the provider starts; the extensions started before it finish and close", async () => {
    const seen: string[] = [];
    const first = extension("first", () => ({
      finish: ({ outcome }) => {
        seen.push(`first.finish:${outcome.status}`);
        return undefined;
      },
      close: () => {
        seen.push("first.close");
      },
    }));
    const veto = extension("veto", () => {
      throw new AsmError("validation_error", "workspace path does not exist");
    });
    const never = extension("never", () => {
      seen.push("never.start");
      return {};
    });
    const { manager, adapter, store, run } = await setup([first, veto, never]);
    const error = await rejection(manager.executeRun(run.id));
    expect(error.code).toBe("validation_error");
    expect(error.message).toBe("workspace path does not exist");
    expect(adapter.calls).toHaveLength(0);
    expect(seen).toEqual(["first.finish:failed", "first.close"]);
    const events = await store.getEvents(run.sessionId, { runId: run.id });
    expect(events.map((event) => event.type)).toEqual(["message_sent", "run_failed"]);
    expect((await store.getRun(run.id)).status).toBe("failed");
  });

  it("a throwing onEvent is reported once as error_occurred and not called again; the log and the others go on", async () => {
    let brokenCalls = 0;
    const healthySeen: AsmEvent[] = [];
    const broken = extension("broken", () => ({
      onEvent: () => {
        brokenCalls += 1;
        throw new Error("bug in observer");
      },
    }));
    const healthy = extension("healthy", () => ({ onEvent: (event) => healthySeen.push(event) }));
    const { manager, store, run } = await setup([broken, healthy]);
    await manager.executeRun(run.id);
    const events = await store.getEvents(run.sessionId, { runId: run.id });
    const reports = events.filter((event) => event.type === "error_occurred");
    expect(brokenCalls).toBe(1);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.data).toMatchObject({
      errorCode: "internal_error",
      fatal: false,
      details: { extension: "broken", hook: "onEvent" },
    });
    const first = events[0]?.sequence ?? 0;
    expect(events.map((event) => event.sequence)).toEqual(events.map((_, index) => first + index));
    // The healthy observer saw every stored event of the run, the report and the terminal one included.
    expect(healthySeen.map((event) => event.id)).toEqual(events.map((event) => event.id));
  });

  it("finish contributions apply in order: a cost, result fields, and a failure of a completing run", async () => {
    const pricing = extension("pricing", () => ({
      finish: ({ tokenUsage }) => ({
        cost: { usd: (tokenUsage.inputTokens + tokenUsage.outputTokens) / 100, source: "priced" },
      }),
    }));
    const auditor = extension("auditor", () => ({
      finish: ({ cost }) =>
        cost?.usd !== undefined && cost.usd !== null && cost.usd > 0.05
          ? { failure: new AsmError("policy_violation", `over budget: ${cost.usd}`) }
          : undefined,
    }));
    const { manager, store, run } = await setup([pricing, auditor]);
    const error = await rejection(manager.executeRun(run.id));
    expect(error.code).toBe("policy_violation");
    expect(error.message).toBe("over budget: 0.07");
    const stored = await store.getRun(run.id);
    expect(stored.status).toBe("failed");
    expect(stored.costUsd).toBe(0.07);
  });

  it("a throwing finish fails the run with its error, still with one terminal event, and close still runs", async () => {
    let closed = false;
    const hooks: RunHooks = {
      finish: () => {
        throw new Error("finish exploded");
      },
      close: () => {
        closed = true;
      },
    };
    const { manager, store, run } = await setup([extension("exploding", () => hooks)]);
    const error = await rejection(manager.executeRun(run.id));
    expect(error.code).toBe("internal_error");
    expect(error.details).toMatchObject({ extension: "exploding", hook: "finish" });
    const terminal = (await store.getEvents(run.sessionId, { runId: run.id })).filter(
      (event) => event.type.startsWith("run_") && event.type !== "run_started",
    );
    expect(terminal.map((event) => event.type)).toEqual(["run_failed"]);
    expect(closed).toBe(true);
  });

  it("an extension appends events in order with the provider's and can fail the run, which stops the provider", async () => {
    let stoppedProvider = false;
    const script: Script = async (_request, sink, signal) => {
      sink.emit({ type: "run_started", data: {} });
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      stoppedProvider = true;
      throw new AsmError("cancelled", "stopped");
    };
    const guard = extension("guard", ({ append, fail }) => ({
      onEvent: (event) => {
        if (event.type !== "run_started") return;
        void append({
          type: "policy_violation",
          data: { policy: "guard", kind: "tool_denied", action: "cancel", details: {} },
        }).then(() => fail(new AsmError("policy_violation", "guard says no")));
      },
    }));
    const { manager, store, run } = await setup([guard], script);
    const error = await rejection(manager.executeRun(run.id));
    expect(error.code).toBe("policy_violation");
    expect(stoppedProvider).toBe(true);
    const types = (await store.getEvents(run.sessionId, { runId: run.id })).map((event) => event.type);
    expect(types).toEqual(["message_sent", "run_started", "policy_violation", "run_failed"]);
  });

  it("a manager refuses two extensions of one name, a foreign specification, and an option owned twice", () => {
    const store = new MemorySessionStore();
    const adapter = new ScriptedAdapter(answer);
    const create = (extensions: RunExtension[]) => () =>
      new SessionManagerBase({ store, adapter, extensions });
    const plain = extension("x", () => undefined);
    expect(create([plain, plain])).toThrow(/two run extensions are named "x"/);
    expect(create([{ ...plain, specificationVersion: "asm.run-extension.v0" as never }])).toThrow(
      /run extension "x" implements specification asm.run-extension.v0, not v1/,
    );
    expect(create([extension("y", () => undefined, { optionSchemas: { timeoutMs: z.number() } })])).toThrow(
      /claims the executeRun option "timeoutMs", which the SessionManager owns/,
    );
    const a = extension("a", () => undefined, { optionSchemas: { shared: z.string() } });
    const b = extension("b", () => undefined, { optionSchemas: { shared: z.string() } });
    expect(create([a, b])).toThrow(/claims the executeRun option "shared", which run extension "a" owns/);
  });
});

describe("a manager refuses what it could not drive", () => {
  it("a manager refuses a store or an adapter written against another specification", () => {
    const store = new MemorySessionStore();
    const adapter = new ScriptedAdapter(answer);
    const oldAdapter = Object.assign(Object.create(adapter) as ScriptedAdapter, {
      specificationVersion: "v0",
    });
    expect(() => new SessionManagerBase({ store, adapter: oldAdapter as never })).toThrow(
      /provider adapter "scripted" implements specification v0, not v1/,
    );
    const unversioned = Object.assign(Object.create(store) as MemorySessionStore, {
      specificationVersion: undefined,
    });
    expect(() => new SessionManagerBase({ store: unversioned as never, adapter })).toThrow(
      /the store implements specification \(none declared\), not v1/,
    );
  });

  it("a manager refuses group-commit bounds that could not write anything", () => {
    const store = new MemorySessionStore();
    const adapter = new ScriptedAdapter(answer);
    expect(() => new SessionManagerBase({ store, adapter, groupCommit: { maxEvents: 0 } })).toThrow(
      /groupCommit.maxEvents must be a positive integer/,
    );
    expect(() => new SessionManagerBase({ store, adapter, groupCommit: { maxWaitMs: -1 } })).toThrow(
      /groupCommit.maxWaitMs must be a finite number >= 0/,
    );
  });
});
