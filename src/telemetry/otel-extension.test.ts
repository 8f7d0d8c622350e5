import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  type DataPoint,
  DataPointType,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { type Script, ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import type { ProviderAdapter } from "../ports/provider-adapter.js";
import { ProviderRouter } from "../routing/provider-router.js";
import { fail, ManualClock, ScriptedProvider, succeed } from "../routing/test-support/scripted-provider.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { otelExtension } from "./otel-extension.js";

/** A metric reader that hands over what it collects: the SDK's in-memory way to read metrics. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
  async metrics(): Promise<MetricData[]> {
    const { resourceMetrics } = await this.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  }
}

function setup(script: Script | ProviderAdapter) {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const store = new MemorySessionStore();
  const manager = new SessionManager({
    store,
    adapter: typeof script === "function" ? new ScriptedAdapter(script) : script,
    extensions: [otelExtension({ tracerProvider, meterProvider })],
  });
  const spans = () => exporter.getFinishedSpans();
  const byName = (name: string): ReadableSpan => {
    const span = spans().find((candidate) => candidate.name === name);
    if (!span) throw new Error(`no span ${name}; got ${spans().map((s) => s.name)}`);
    return span;
  };
  return { store, manager, spans, byName, reader };
}

const usage = { inputTokens: 1200, outputTokens: 300, cacheReadTokens: 1000 };

const toolScript: Script = async (_request, sink) => {
  sink.emit({ type: "run_started", data: { model: "claude-sonnet-4-5" } });
  sink.emit({
    type: "tool_call_started",
    data: { toolCallId: "t1", toolName: "Bash", toolInput: { command: "ls" } },
  });
  sink.emit({
    type: "tool_call_completed",
    data: { toolCallId: "t1", toolName: "Bash", toolOutput: "a\nb" },
  });
  sink.emit({
    type: "tool_call_started",
    data: { toolCallId: "t2", toolName: "Read", toolInput: { path: "x" } },
  });
  sink.emit({
    type: "tool_call_failed",
    data: { toolCallId: "t2", toolName: "Read", errorMessage: "no such file" },
  });
  sink.emit({ type: "token_usage_updated", data: usage });
  return {
    output: { content: "done" },
    tokenUsage: usage,
    model: "claude-sonnet-4-5",
    stopReason: "end_turn",
  };
};

function points(metrics: MetricData[], name: string): DataPoint<unknown>[] {
  const metric = metrics.find((candidate) => candidate.descriptor.name === name);
  if (!metric) throw new Error(`no metric ${name}`);
  return metric.dataPoints as DataPoint<unknown>[];
}

afterEach(() => {
  trace.disable();
  context.disable();
});

describe("otelExtension: spans", () => {
  it("one invoke_agent span per run with the GenAI attributes, and an execute_tool child per tool call", async () => {
    const { manager, spans, byName } = setup(toolScript);
    const result = await manager.runOnce("list files", {
      agentId: "reviewer",
      providerOptions: { scripted: { model: "claude-sonnet-4-5" } },
    });

    expect(
      spans()
        .map((span) => span.name)
        .sort(),
    ).toEqual(["execute_tool Bash", "execute_tool Read", "invoke_agent reviewer"]);
    const run = byName("invoke_agent reviewer");
    expect(run.kind).toBe(SpanKind.CLIENT);
    expect(run.attributes).toEqual({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.provider.name": "scripted",
      "gen_ai.agent.name": "reviewer",
      "gen_ai.conversation.id": result.sessionId,
      "gen_ai.request.model": "claude-sonnet-4-5",
      "gen_ai.response.model": "claude-sonnet-4-5",
      "gen_ai.usage.input_tokens": 1200,
      "gen_ai.usage.output_tokens": 300,
      "gen_ai.usage.cache_read.input_tokens": 1000,
      "gen_ai.response.finish_reasons": ["end_turn"],
      "asm.run.id": result.runId,
      "asm.run.status": "completed",
      "asm.run.cost_usd": result.costUsd,
    });
    expect(run.status.code).toBe(SpanStatusCode.UNSET);
    expect(run.parentSpanContext).toBeUndefined();

    const bash = byName("execute_tool Bash");
    const read = byName("execute_tool Read");
    for (const tool of [bash, read]) {
      expect(tool.kind).toBe(SpanKind.INTERNAL);
      expect(tool.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
      expect(tool.spanContext().traceId).toBe(run.spanContext().traceId);
    }
    expect(bash.attributes).toEqual({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "Bash",
      "gen_ai.tool.call.id": "t1",
    });
    expect(bash.status.code).toBe(SpanStatusCode.UNSET);
    expect(read.attributes).toMatchObject({ "gen_ai.tool.call.id": "t2", "error.type": "tool_call_failed" });
    expect(read.status).toEqual({ code: SpanStatusCode.ERROR, message: "no such file" });
    // Tool spans take their times from the events: they lie inside the run's span.
    const startedTool = result.events.find((event) => event.type === "tool_call_started");
    expect(bash.startTime).toEqual(hrTime(startedTool?.timestamp));
  });

  it("a failed run: error.type is the error code, status ERROR; a tool call left open ends as abandoned", async () => {
    const { manager, byName } = setup(async (_request, sink) => {
      sink.emit({ type: "tool_call_started", data: { toolCallId: "t1", toolName: "Bash", toolInput: {} } });
      throw new AsmError("provider_rate_limited", "slow down");
    });
    await expect(manager.runOnce("x", { agentId: "a" })).rejects.toMatchObject({
      code: "provider_rate_limited",
    });
    const run = byName("invoke_agent a");
    expect(run.status).toEqual({ code: SpanStatusCode.ERROR, message: "slow down" });
    expect(run.attributes).toMatchObject({
      "error.type": "provider_rate_limited",
      "asm.run.status": "failed",
    });
    // The manager closes the open call with the run (a tool_call_failed), which ends its span.
    const tool = byName("execute_tool Bash");
    expect(tool.status.code).toBe(SpanStatusCode.ERROR);
    expect(tool.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
  });

  it("a timed-out run is an error; a cancelled one is not", async () => {
    const never: Script = (_request, _sink, signal) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener("abort", () => reject(new AsmError("cancelled", "stopped")), { once: true }),
      );
    const timedOut = setup(never);
    await expect(timedOut.manager.runOnce("x", { agentId: "a", timeoutMs: 5 })).rejects.toMatchObject({
      code: "timeout",
    });
    const span = timedOut.byName("invoke_agent a");
    expect(span.attributes).toMatchObject({ "error.type": "timeout", "asm.run.status": "timeout" });
    expect(span.status.code).toBe(SpanStatusCode.ERROR);

    const cancelled = setup(never);
    const controller = new AbortController();
    controller.abort();
    await expect(
      cancelled.manager.runOnce("x", { agentId: "a", signal: controller.signal }),
    ).rejects.toMatchObject({ code: "cancelled" });
    const cancelledSpan = cancelled.byName("invoke_agent a");
    expect(cancelledSpan.attributes).toMatchObject({ "asm.run.status": "cancelled" });
    expect(cancelledSpan.attributes).not.toHaveProperty("error.type");
    expect(cancelledSpan.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("span events for a policy violation and a failover", async () => {
    const { manager, byName } = setup(async (_request, sink) => {
      // What ProviderRouter logs when it hands a run over.
      sink.emit({
        type: "error_occurred",
        data: {
          errorCode: "provider_unavailable",
          errorMessage: "down",
          fatal: false,
          details: { failover: { from: "claude", to: "codex", reason: "provider_unavailable", attempt: 1 } },
        },
      });
      sink.emit({ type: "tool_call_started", data: { toolCallId: "t1", toolName: "bash", toolInput: {} } });
      sink.emit({
        type: "tool_call_completed",
        data: { toolCallId: "t1", toolName: "bash", toolOutput: "" },
      });
      return { output: { content: "ok" }, provider: "codex" };
    });
    await manager.runOnce("x", {
      agentId: "a",
      policy: { name: "no-shell", toolRules: [{ deny: ["bash"] }], onViolation: "warn" },
    });
    const run = byName("invoke_agent a");
    expect(run.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        "asm.failover",
        {
          "asm.failover.from": "claude",
          "asm.failover.to": "codex",
          "asm.failover.attempt": 1,
          "error.type": "provider_unavailable",
        },
      ],
      [
        "asm.policy_violation",
        {
          "asm.policy.name": "no-shell",
          "asm.policy.violation.kind": "tool_denied",
          "asm.policy.action": "warn",
        },
      ],
    ]);
    // The provider that answered, as a router reports it.
    expect(run.attributes["gen_ai.provider.name"]).toBe("codex");
  });

  it("a ProviderRouter's failover is an asm.failover event; the span names the provider that answered", async () => {
    const router = new ProviderRouter({ clock: new ManualClock().now });
    router.register("claude", new ScriptedProvider("claude", fail("provider_unavailable")));
    router.register("codex", new ScriptedProvider("codex", succeed("from codex")));
    const { manager, byName } = setup(router);
    const result = await manager.runOnce("x", { agentId: "a" });
    expect(result.output.content).toBe("from codex");
    const run = byName("invoke_agent a");
    expect(run.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        "asm.failover",
        {
          "asm.failover.from": "claude",
          "asm.failover.to": "codex",
          "asm.failover.attempt": 1,
          "error.type": "provider_unavailable",
        },
      ],
    ]);
    expect(run.attributes["gen_ai.provider.name"]).toBe("codex");
    expect(run.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("the run span is a child of the span active where the run was started", async () => {
    const { manager, spans } = setup(toolScript);
    const { AsyncLocalStorageContextManager } = await import("./test-support/context-manager.js");
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const workflowTracer = new BasicTracerProvider().getTracer("workflow");
    const step = workflowTracer.startSpan("workflow step");
    await context.with(trace.setSpan(context.active(), step), () => manager.runOnce("x", { agentId: "a" }));
    step.end();
    const run = spans().find((span) => span.name === "invoke_agent a");
    expect(run?.parentSpanContext?.spanId).toBe(step.spanContext().spanId);
    expect(run?.spanContext().traceId).toBe(step.spanContext().traceId);
  });
});

describe("otelExtension: metrics", () => {
  it("token usage by type, duration, run count and cost, with the GenAI attributes", async () => {
    const { manager, reader } = setup(toolScript);
    const result = await manager.runOnce("x", { agentId: "a" });
    await manager.runOnce("again", { agentId: "a" });
    const metrics = await reader.metrics();

    const common = {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.provider.name": "scripted",
      "gen_ai.response.model": "claude-sonnet-4-5",
    };
    const tokens = metrics.find((metric) => metric.descriptor.name === "gen_ai.client.token.usage");
    expect(tokens?.descriptor.unit).toBe("{token}");
    expect(tokens?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const byType = new Map(
      points(metrics, "gen_ai.client.token.usage").map((point) => [
        point.attributes["gen_ai.token.type"],
        point as DataPoint<Histogram>,
      ]),
    );
    expect(byType.get("input")?.attributes).toEqual({ ...common, "gen_ai.token.type": "input" });
    expect(byType.get("input")?.value).toMatchObject({ count: 2, sum: 2400 });
    expect(byType.get("output")?.value).toMatchObject({ count: 2, sum: 600 });

    const [duration] = points(metrics, "gen_ai.client.operation.duration") as DataPoint<Histogram>[];
    expect(duration?.attributes).toEqual(common);
    expect(duration?.value.count).toBe(2);
    expect(
      metrics.find((metric) => metric.descriptor.name === "gen_ai.client.operation.duration")?.descriptor
        .unit,
    ).toBe("s");

    expect(points(metrics, "asm.runs").map((point) => [point.attributes, point.value])).toEqual([
      [{ ...common, "asm.run.status": "completed" }, 2],
    ]);
    const [cost] = points(metrics, "asm.run.cost");
    expect(cost?.attributes).toEqual({ ...common, "asm.cost.source": "priced" });
    expect(cost?.value).toBeCloseTo((result.costUsd ?? 0) * 2, 12);
  });

  it("a failed run counts under its status, its duration with error.type", async () => {
    const { manager, reader } = setup(async () => {
      throw new AsmError("provider_authentication_failed", "log in");
    });
    await expect(manager.runOnce("x")).rejects.toBeInstanceOf(Error);
    const metrics = await reader.metrics();
    expect(points(metrics, "asm.runs").map((point) => point.attributes["asm.run.status"])).toEqual([
      "failed",
    ]);
    expect(points(metrics, "gen_ai.client.operation.duration")[0]?.attributes).toMatchObject({
      "error.type": "provider_authentication_failed",
    });
  });
});

describe("otelExtension: off", () => {
  it("with no SDK registered, nothing records and the run is unaffected", async () => {
    const store = new MemorySessionStore();
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(toolScript),
      extensions: [otelExtension()],
    });
    const result = await manager.runOnce("x");
    expect(result.output.content).toBe("done");
    // No extension error reported into the log.
    expect(result.events.filter((event) => event.type === "error_occurred")).toEqual([]);
    expect(trace.getTracerProvider().getTracer("probe").startSpan("probe").isRecording()).toBe(false);
  });
});

/** An ISO timestamp as the SDK's [seconds, nanoseconds]. */
function hrTime(iso: string | undefined): [number, number] {
  const ms = Date.parse(iso ?? "");
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}
