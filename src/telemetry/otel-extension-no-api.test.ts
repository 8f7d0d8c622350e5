import { describe, expect, it, vi } from "vitest";

// As if the optional peer were not installed.
vi.mock("@opentelemetry/api", () => {
  throw Object.assign(new Error("Cannot find package '@opentelemetry/api'"), {
    code: "ERR_MODULE_NOT_FOUND",
  });
});

describe("otelExtension without @opentelemetry/api", () => {
  it("sits every run out: the runs complete and nothing is reported", async () => {
    const { moduleNotFound } = await import("../utils/lazy-import.js");
    const importing = await import("@opentelemetry/api").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(moduleNotFound(importing)).toBeInstanceOf(Error);
    const { ScriptedAdapter } = await import("../manager/test-support/scripted-adapter.js");
    const { SessionManager } = await import("../session-manager.js");
    const { MemorySessionStore } = await import("../stores/memory/index.js");
    const { otelExtension } = await import("./otel-extension.js");
    const manager = new SessionManager({
      store: new MemorySessionStore(),
      adapter: new ScriptedAdapter(async () => ({ output: { content: "ok" } })),
      extensions: [otelExtension()],
    });
    for (const prompt of ["one", "two"]) {
      const result = await manager.runOnce(prompt);
      expect(result.output.content).toBe("ok");
      expect(result.events.map((event) => event.type)).toEqual(["message_sent", "run_completed"]);
    }
  });
});
