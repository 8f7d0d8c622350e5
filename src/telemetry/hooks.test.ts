import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { type Script, ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import {
  type RunEndInfo,
  type RunErrorInfo,
  type RunStartInfo,
  type RunUsageInfo,
  telemetryHooks,
} from "./hooks.js";

function setup(script: Script) {
  const calls: { start: RunStartInfo[]; end: RunEndInfo[]; error: RunErrorInfo[]; usage: RunUsageInfo[] } = {
    start: [],
    end: [],
    error: [],
    usage: [],
  };
  const manager = new SessionManager({
    store: new MemorySessionStore(),
    adapter: new ScriptedAdapter(script),
    extensions: [
      telemetryHooks({
        onRunStart: (info) => calls.start.push(info),
        onRunEnd: (info) => calls.end.push(info),
        onError: (info) => calls.error.push(info),
        onUsage: (info) => calls.usage.push(info),
      }),
    ],
  });
  return { manager, calls };
}

const usage = { inputTokens: 100, outputTokens: 20 };

describe("telemetryHooks", () => {
  it("a completed run: start, usage and end with the run's ids, usage and cost; no error", async () => {
    const { manager, calls } = setup(async () => ({
      output: { content: "ok" },
      tokenUsage: usage,
      model: "claude-sonnet-4-5",
    }));
    const result = await manager.runOnce("x", { agentId: "bot" });
    const ids = { sessionId: result.sessionId, runId: result.runId, agentId: "bot", provider: "scripted" };
    expect(calls.start).toEqual([{ ...ids, startedAt: expect.any(String) }]);
    expect(calls.usage).toEqual([
      { ...ids, tokenUsage: usage, costUsd: result.costUsd, model: "claude-sonnet-4-5" },
    ]);
    expect(calls.end).toEqual([
      {
        ...ids,
        status: "completed",
        durationMs: expect.any(Number),
        tokenUsage: usage,
        costUsd: result.costUsd,
        model: "claude-sonnet-4-5",
      },
    ]);
    expect(calls.error).toEqual([]);
  });

  it("a failed run: a non-fatal error_occurred, then the fatal failure, usage and a failed end", async () => {
    const { manager, calls } = setup(async (_request, sink) => {
      sink.emit({
        type: "error_occurred",
        data: { errorCode: "parse_error", errorMessage: "bad line", fatal: false },
      });
      sink.emit({ type: "token_usage_updated", data: usage });
      throw new AsmError("provider_error", "crashed");
    });
    await expect(manager.runOnce("x")).rejects.toMatchObject({ code: "provider_error" });
    expect(calls.error.map((info) => [info.error.code, info.error.message, info.fatal])).toEqual([
      ["parse_error", "bad line", false],
      ["provider_error", "crashed", true],
    ]);
    expect(calls.usage[0]?.tokenUsage).toEqual(usage);
    expect(calls.end[0]).toMatchObject({ status: "failed", errorType: "provider_error" });
  });

  it("a cancelled run ends cancelled, with no error", async () => {
    const { manager, calls } = setup(
      (_request, _sink, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener("abort", () => reject(new AsmError("cancelled", "stopped")), {
            once: true,
          }),
        ),
    );
    const controller = new AbortController();
    controller.abort();
    await expect(manager.runOnce("x", { signal: controller.signal })).rejects.toMatchObject({
      code: "cancelled",
    });
    expect(calls.end[0]).toMatchObject({ status: "cancelled" });
    expect(calls.end[0]).not.toHaveProperty("errorType");
    expect(calls.error).toEqual([]);
  });

  it("a hook that throws is a warning; the run completes", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      const manager = new SessionManager({
        store: new MemorySessionStore(),
        adapter: new ScriptedAdapter(async () => ({ output: { content: "ok" } })),
        extensions: [
          telemetryHooks({
            onRunStart: () => {
              throw new Error("hook bug");
            },
          }),
        ],
      });
      const result = await manager.runOnce("x");
      expect(result.output.content).toBe("ok");
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual(["a telemetry-hooks hook threw: hook bug"]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
