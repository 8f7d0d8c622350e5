import type {
  Attributes,
  Counter,
  Histogram,
  MeterProvider,
  Span,
  Tracer,
  TracerProvider,
} from "@opentelemetry/api";
import { AsmError } from "../core/errors.js";
import type { AsmEvent, EventOf } from "../core/events.js";
import { RUN_EXTENSION_SPECIFICATION, type RunEnd, type RunExtension } from "../ports/run-extension.js";
import { lazyImport, moduleNotFound } from "../utils/lazy-import.js";
import { runEndStatus } from "./run-end.js";

type OtelApi = typeof import("@opentelemetry/api");

/** The instrumentation scope name of the tracer and meter. */
export const TELEMETRY_SCOPE = "agent-session-manager";

/**
 * Bucket boundaries the GenAI semantic conventions advise for `gen_ai.client.token.usage`
 * (tokens) and `gen_ai.client.operation.duration` (seconds).
 */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

export interface OtelExtensionOptions {
  /**
   * Where spans go. Default: the global tracer provider of `@opentelemetry/api` — a no-op until
   * an SDK registers one (`NodeSDK.start()`, `provider.register()`).
   */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global meter provider (a no-op until an SDK registers one). */
  meterProvider?: MeterProvider;
  /**
   * The agent's name on spans (`gen_ai.agent.name`, and the span name `invoke_agent <name>`).
   * Default: the session's `agentId`. Tool inputs and outputs are never recorded: they may hold
   * anything.
   */
  agentName?: (session: { id: string; agentId: string }) => string;
}

/** The instruments, made once per meter provider. */
interface Instruments {
  tokenUsage: Histogram;
  duration: Histogram;
  runs: Counter;
  cost: Counter;
}

const loadOtel = lazyImport<OtelApi | undefined>(
  () =>
    import("@opentelemetry/api").catch((error: unknown) => {
      // Not installed: telemetry is off, and stays off without another failed import per run.
      if (moduleNotFound(error)) return undefined;
      throw error;
    }),
  (error) => AsmError.from(error, "dependency_not_available"),
);

/**
 * OpenTelemetry for runs, following the GenAI semantic conventions: one `invoke_agent` span per
 * run (kind CLIENT: the agent runs in a provider process or service), a child `execute_tool`
 * span per tool call (ended by the call's `tool_call_completed` / `tool_call_failed` event, or as
 * an error when the run ends with the call open), span events for policy violations
 * (`asm.policy_violation`) and failovers (`asm.failover`); and the metrics
 * `gen_ai.client.token.usage`, `gen_ai.client.operation.duration`, `asm.runs` and `asm.run.cost`.
 *
 * `@opentelemetry/api` is an optional peer, imported on the first run: without it the extension
 * sits every run out. With it but no SDK registered, spans do not record and the extension does
 * no per-event work (a few no-op metric calls per run remain). The run span's parent is the
 * context active where `executeRun` was called, so a workflow step's span contains its runs.
 * Opt in with `new SessionManager({ extensions: [otelExtension()] })`.
 */
export function otelExtension(options: OtelExtensionOptions = {}): RunExtension {
  let warned = false;
  const warnOnce = (error: unknown) => {
    if (warned) return;
    warned = true;
    process.emitWarning(`OpenTelemetry is off: ${error instanceof Error ? error.message : String(error)}`, {
      code: "ASM_OTEL",
    });
  };
  let instruments: { provider: MeterProvider; instruments: Instruments } | undefined;

  function instrumentsOf(api: OtelApi): Instruments {
    const provider = options.meterProvider ?? api.metrics.getMeterProvider();
    // The global provider can be registered after this extension was made: follow it.
    if (instruments?.provider !== provider) {
      const meter = provider.getMeter(TELEMETRY_SCOPE);
      instruments = {
        provider,
        instruments: {
          tokenUsage: meter.createHistogram("gen_ai.client.token.usage", {
            description: "Number of input and output tokens used per run",
            unit: "{token}",
            advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
          }),
          duration: meter.createHistogram("gen_ai.client.operation.duration", {
            description: "Duration of a run",
            unit: "s",
            advice: { explicitBucketBoundaries: DURATION_BUCKETS },
          }),
          runs: meter.createCounter("asm.runs", { description: "Runs ended, by status", unit: "{run}" }),
          cost: meter.createCounter("asm.run.cost", {
            description: "Cost of runs whose cost is known",
            unit: "USD",
          }),
        },
      };
    }
    return instruments.instruments;
  }

  return {
    specificationVersion: RUN_EXTENSION_SPECIFICATION,
    name: "otel",
    start: async ({ run, session, provider, options: runOptions }) => {
      // Telemetry never fails a run: an API that will not load leaves the run untraced.
      const api = await loadOtel().catch((error: unknown) => {
        warnOnce(error);
        return undefined;
      });
      if (!api) return undefined;
      const tracer: Tracer = (options.tracerProvider ?? api.trace.getTracerProvider()).getTracer(
        TELEMETRY_SCOPE,
      );
      const agentName = options.agentName?.(session) ?? session.agentId;
      const requestModel = requestedModel(runOptions.providerOptions, provider.name);
      const startedAt = performance.now();
      const parent = api.context.active();
      const runSpan = tracer.startSpan(
        `invoke_agent ${agentName}`,
        {
          kind: api.SpanKind.CLIENT,
          attributes: {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": provider.name,
            "gen_ai.agent.name": agentName,
            "gen_ai.conversation.id": session.id,
            "asm.run.id": run.id,
            ...(requestModel ? { "gen_ai.request.model": requestModel } : {}),
          },
        },
        parent,
      );
      const recording = runSpan.isRecording();
      const runContext = api.trace.setSpan(parent, runSpan);
      const toolSpans = new Map<string, Span>();
      let providerName = provider.name;
      let responseModel: string | undefined;

      const startTool = (event: EventOf<"tool_call_started">) => {
        const { toolCallId, toolName } = event.data;
        toolSpans.set(
          toolCallId,
          tracer.startSpan(
            `execute_tool ${toolName}`,
            {
              kind: api.SpanKind.INTERNAL,
              startTime: new Date(event.timestamp),
              attributes: {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": toolName,
                "gen_ai.tool.call.id": toolCallId,
              },
            },
            runContext,
          ),
        );
      };
      const endTool = (event: EventOf<"tool_call_completed"> | EventOf<"tool_call_failed">) => {
        const span = toolSpans.get(event.data.toolCallId);
        if (!span) return;
        toolSpans.delete(event.data.toolCallId);
        if (event.type === "tool_call_failed") {
          span.setAttribute("error.type", "tool_call_failed");
          span.setStatus({
            code: api.SpanStatusCode.ERROR,
            ...(event.data.errorMessage ? { message: event.data.errorMessage } : {}),
          });
        }
        span.end(new Date(event.timestamp));
      };

      const onEvent = (event: AsmEvent) => {
        switch (event.type) {
          case "tool_call_started":
            startTool(event);
            break;
          case "tool_call_completed":
          case "tool_call_failed":
            endTool(event);
            break;
          case "run_started":
            if (event.data.model) responseModel = event.data.model;
            break;
          case "policy_violation":
            runSpan.addEvent(
              "asm.policy_violation",
              {
                "asm.policy.name": event.data.policy,
                "asm.policy.violation.kind": event.data.kind,
                "asm.policy.action": event.data.action,
              },
              new Date(event.timestamp),
            );
            break;
          case "error_occurred": {
            const failover = failoverOf(event);
            if (failover) runSpan.addEvent("asm.failover", failover, new Date(event.timestamp));
            break;
          }
        }
      };

      return {
        // Nothing records: no per-event work at all.
        ...(recording ? { onEvent } : {}),
        finish: (end) => {
          const status = runEndStatus(end);
          const seconds = (performance.now() - startedAt) / 1000;
          if (end.outcome.status === "completed" && end.outcome.result.provider) {
            providerName = end.outcome.result.provider;
          }
          const model = end.model ?? responseModel;
          const common: Attributes = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": providerName,
            ...(requestModel ? { "gen_ai.request.model": requestModel } : {}),
            ...(model ? { "gen_ai.response.model": model } : {}),
          };
          const metrics = instrumentsOf(api);
          metrics.tokenUsage.record(end.tokenUsage.inputTokens, { ...common, "gen_ai.token.type": "input" });
          metrics.tokenUsage.record(end.tokenUsage.outputTokens, {
            ...common,
            "gen_ai.token.type": "output",
          });
          metrics.duration.record(seconds, {
            ...common,
            ...(status.errorType ? { "error.type": status.errorType } : {}),
          });
          metrics.runs.add(1, { ...common, "asm.run.status": status.status });
          if (end.cost && end.cost.usd !== null) {
            metrics.cost.add(end.cost.usd, { ...common, "asm.cost.source": end.cost.source });
          }
          if (!recording) return undefined;
          runSpan.setAttributes({
            ...common,
            "gen_ai.usage.input_tokens": end.tokenUsage.inputTokens,
            "gen_ai.usage.output_tokens": end.tokenUsage.outputTokens,
            ...usageDetails(end),
            "asm.run.status": status.status,
            ...(end.outcome.status === "completed"
              ? { "gen_ai.response.finish_reasons": [end.outcome.result.stopReason ?? "end_turn"] }
              : {}),
            ...(end.cost && end.cost.usd !== null ? { "asm.run.cost_usd": end.cost.usd } : {}),
          });
          if (status.errorType) {
            runSpan.setAttribute("error.type", status.errorType);
            runSpan.setStatus({
              code: api.SpanStatusCode.ERROR,
              message: status.message ?? status.errorType,
            });
          }
          return undefined;
        },
        // After the terminal event and the tool calls the manager closed with the run: anything
        // still open was abandoned.
        close: () => {
          for (const span of toolSpans.values()) {
            span.setAttribute("error.type", "abandoned");
            span.setStatus({
              code: api.SpanStatusCode.ERROR,
              message: "the run ended with the tool call open",
            });
            span.end();
          }
          toolSpans.clear();
          runSpan.end();
        },
      };
    },
  };
}

/** The model asked for in the provider's own options (`providerOptions.<provider>.model`), if any. */
function requestedModel(providerOptions: unknown, providerName: string): string | undefined {
  if (typeof providerOptions !== "object" || providerOptions === null) return undefined;
  const own = (providerOptions as Record<string, unknown>)[providerName];
  if (typeof own !== "object" || own === null) return undefined;
  const model = (own as Record<string, unknown>).model;
  return typeof model === "string" && model.length > 0 ? model : undefined;
}

/** Cache token counts, under the conventions' names, when the provider reported them. */
function usageDetails(end: RunEnd): Attributes {
  const { cacheReadTokens, cacheWriteTokens, reasoningTokens } = end.tokenUsage;
  return {
    ...(cacheReadTokens !== undefined ? { "gen_ai.usage.cache_read.input_tokens": cacheReadTokens } : {}),
    ...(cacheWriteTokens !== undefined
      ? { "gen_ai.usage.cache_creation.input_tokens": cacheWriteTokens }
      : {}),
    ...(reasoningTokens !== undefined ? { "asm.usage.reasoning_tokens": reasoningTokens } : {}),
  };
}

/** A router's hand-over (an `error_occurred` with `details.failover`) as span event attributes. */
function failoverOf(event: EventOf<"error_occurred">): Attributes | undefined {
  const failover = event.data.details?.failover;
  if (typeof failover !== "object" || failover === null) return undefined;
  const { from, to, reason, attempt } = failover as Record<string, unknown>;
  return {
    ...(typeof from === "string" ? { "asm.failover.from": from } : {}),
    ...(typeof to === "string" ? { "asm.failover.to": to } : {}),
    ...(typeof attempt === "number" ? { "asm.failover.attempt": attempt } : {}),
    "error.type": typeof reason === "string" ? reason : event.data.errorCode,
  };
}
