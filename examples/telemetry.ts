// OpenTelemetry: `otelExtension()` gives every run an `invoke_agent` span (GenAI semantic
// conventions) with an `execute_tool` child per tool call, and records token, duration, run and
// cost metrics. Here spans and metrics go to the console; in production an OTLP exporter sends
// them to a collector (see the README's "OpenTelemetry" section).
//
// Checks: one run span with the GenAI attributes (conversation id = session id, usage, models),
// a Bash tool span whose parent is the run span, a failed run's span with status ERROR and
// `error.type`, and the token-usage histogram split by `gen_ai.token.type`.
//
//   npx tsx examples/telemetry.ts                    # a scripted Claude CLI
//   npx tsx examples/telemetry.ts --provider codex   # the real codex CLI
import { SpanStatusCode } from "@opentelemetry/api";
import {
  ConsoleMetricExporter,
  type DataPoint,
  type Histogram,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { MemorySessionStore, SessionManager } from "agent-session-manager";
import { otelExtension } from "agent-session-manager/otel";
import { check, createMainAgent, runExample, unreachableAgent } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({
    answer: "There are two files.",
    command: "ls",
    commandOutput: "a.txt\nb.txt\n",
  });

  // Spans: printed to the console, and kept in memory so this example can check them.
  const kept = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter()), new SimpleSpanProcessor(kept)],
  });
  // Metrics: exported to the console when the provider shuts down (and every minute before).
  const metricExporter = new ConsoleMetricExporter();
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 60_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });

  const store = new MemorySessionStore();
  const manager = new SessionManager({
    store,
    adapter: agent.adapter,
    extensions: [otelExtension({ tracerProvider, meterProvider })],
  });

  const result = await manager.runOnce("How many files are there?", { agentId: "file-counter" });
  console.log(`answer: ${result.output.content}`);

  const spans = kept.getFinishedSpans();
  const run = spans.find((span) => span.name === "invoke_agent file-counter");
  check(run, "an invoke_agent span for the run");
  const attributes = run.attributes;
  console.log(
    `span "${run.name}": provider ${attributes["gen_ai.provider.name"]}, conversation ${attributes["gen_ai.conversation.id"]}, ` +
      `tokens ${attributes["gen_ai.usage.input_tokens"]} in / ${attributes["gen_ai.usage.output_tokens"]} out`,
  );
  check(attributes["gen_ai.operation.name"] === "invoke_agent", "gen_ai.operation.name");
  check(attributes["gen_ai.conversation.id"] === result.sessionId, "the conversation id is the session id");
  check(
    attributes["gen_ai.usage.input_tokens"] === result.tokenUsage.inputTokens,
    "input tokens on the span",
  );

  const tool = spans.find((span) => span.name.startsWith("execute_tool"));
  if (!agent.live || tool) {
    check(tool, "an execute_tool span for the Bash call");
    check(
      tool.parentSpanContext?.spanId === run.spanContext().spanId,
      "the tool span is a child of the run span",
    );
    console.log(`span "${tool.name}": call ${tool.attributes["gen_ai.tool.call.id"]}, child of the run span`);
  }

  // A run that fails: its span says so.
  // A provider that is down (its CLI is not installed).
  const failing = new SessionManager({
    store,
    adapter: unreachableAgent(),
    extensions: [otelExtension({ tracerProvider, meterProvider })],
  });
  await failing.runOnce("again", { agentId: "file-counter" }).catch(() => undefined);
  const failed = kept.getFinishedSpans().at(-1);
  check(failed?.status.code === SpanStatusCode.ERROR, "the failed run's span has status ERROR");
  console.log(`failed run span: status ERROR, error.type ${failed.attributes["error.type"]}`);
  check(failed.attributes["error.type"] === "provider_unavailable", "error.type is the error code");

  const { resourceMetrics } = await reader.collect();
  const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  const usage = metrics.find((metric) => metric.descriptor.name === "gen_ai.client.token.usage");
  check(usage, "the gen_ai.client.token.usage histogram");
  const types = (usage.dataPoints as DataPoint<Histogram>[]).map(
    (point) => `${point.attributes["gen_ai.token.type"]} ${point.value.sum}`,
  );
  console.log(`gen_ai.client.token.usage: ${types.sort().join(", ")}`);
  check(
    types.some((type) => type.startsWith("input")) && types.some((type) => type.startsWith("output")),
    "split by token type",
  );
  const names = metrics.map((metric) => metric.descriptor.name).sort();
  console.log(`metrics: ${names.join(", ")}`);

  await tracerProvider.shutdown();
  await meterProvider.shutdown();
});
