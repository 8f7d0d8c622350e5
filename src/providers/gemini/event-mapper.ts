import type { AdapterEvent } from "../../core/events.js";
import type { TokenUsage } from "../../core/token-usage.js";
import type { EventSink } from "../../ports/provider-adapter.js";
import { toolInputObject } from "../shared/content.js";
import type { LineProblem } from "../shared/jsonl-reader.js";
import { type ProviderIdentity, parseErrorEvent } from "../shared/provider-failures.js";
import { toCanonicalToolName } from "../shared/tool-rules.js";
import { tokenUsage, UsageTracker } from "../shared/usage-tracker.js";
import type { GeminiFrame, GeminiResultFrame, GeminiTokenStats } from "./protocol.js";
import { GEMINI_TOOL_NAMES } from "./tool-names.js";

type FrameOfType<T extends GeminiFrame["type"]> = Extract<GeminiFrame, { type: T }>;

/**
 * Token usage from `result.stats` (or one model's entry), in the four disjoint buckets:
 * `input` (prompt tokens not cached) → input, `cached` → cacheRead, `output_tokens` plus the
 * thoughts → output, thoughts → reasoning. Thoughts are reported nowhere but in `total_tokens`,
 * so they are `total_tokens − input_tokens − output_tokens`.
 */
export function geminiUsage(stats: GeminiTokenStats | null | undefined): TokenUsage | undefined {
  if (!stats) return undefined;
  const prompt = stats.input_tokens ?? 0;
  const cached = stats.cached ?? 0;
  const candidates = stats.output_tokens ?? 0;
  const thoughts = Math.max(0, (stats.total_tokens ?? prompt + candidates) - prompt - candidates);
  return tokenUsage({
    input: stats.input ?? Math.max(0, prompt - cached),
    output: candidates + thoughts,
    ...(stats.cached != null ? { cacheRead: cached } : {}),
    ...(thoughts > 0 ? { reasoning: thoughts } : {}),
  });
}

interface ToolCall {
  name: string;
  input: Record<string, unknown>;
  nativeName?: string;
}

/**
 * Turns the Gemini CLI's stream-json frames (checked against `GEMINI_FRAMES`) into canonical
 * events, each exactly once:
 *
 * | Gemini frame                          | canonical event                                                   |
 * |---------------------------------------|-------------------------------------------------------------------|
 * | `init`                                | `run_started { providerSessionId: session_id, model }`            |
 * | `message` (assistant, delta)          | `message_streamed { delta }`                                      |
 * | end of an assistant text segment      | `message_received { role: "assistant", content }` (the segment's deltas joined; a segment ends at a tool call or the result) |
 * | `message` (user)                      | nothing: the prompt echoed                                        |
 * | `tool_use`                            | `tool_call_started { toolCallId: tool_id, toolName (canonical), nativeToolName?, toolInput: parameters }` |
 * | `tool_result` `success`               | `tool_call_completed { toolOutput: output }` (the CLI's display text) |
 * | `tool_result` `error`                 | `tool_call_failed { errorMessage, errorType }`                     |
 * | `error` (warning or error severity)   | `error_occurred { fatal: false }`: the CLI goes on (loop detection, empty response…) |
 * | `result.stats`                        | `token_usage_updated` once, with the run's usage (see `geminiUsage`) |
 * | `result`                              | kept for the adapter to settle the run                            |
 * | an unusable output line               | `error_occurred { errorCode: "parse_error", fatal: false }`       |
 *
 * The CLI prints no thoughts in stream-json; their token count is in the usage's `reasoningTokens`.
 */
export class GeminiEventMapper {
  readonly #sink: EventSink;
  readonly #provider: ProviderIdentity;
  readonly #usage: UsageTracker;
  #started = false;
  #sessionId: string | undefined;
  #model: string | undefined;
  /** Deltas of the text segment being streamed. */
  #segment = "";
  /** Text since the last tool call: the answer so far. */
  #answer = "";
  #result: GeminiResultFrame | undefined;
  #usageTotal: TokenUsage | undefined;
  readonly #tools = new Map<string, ToolCall>();
  readonly #finishedTools = new Set<string>();
  readonly #warnings: string[] = [];

  constructor(sink: EventSink, provider: ProviderIdentity, expectedSessionId?: string) {
    this.#sink = sink;
    this.#provider = provider;
    this.#usage = new UsageTracker(sink);
    this.#sessionId = expectedSessionId;
  }

  get providerSessionId(): string | undefined {
    return this.#sessionId;
  }

  get model(): string | undefined {
    return this.#model;
  }

  get result(): GeminiResultFrame | undefined {
    return this.#result;
  }

  /** The last assistant text segment (after the last tool call): the run's answer. */
  get answer(): string {
    return this.#answer + this.#segment;
  }

  /** Messages of the `error` frames seen, for a failure's details. */
  get warnings(): readonly string[] {
    return this.#warnings;
  }

  /** The run's usage, once the result reported it. */
  get tokenUsage(): TokenUsage {
    return this.#usageTotal ?? this.#usage.total;
  }

  lineProblem(problem: LineProblem): void {
    this.#emit(parseErrorEvent(this.#provider, problem));
  }

  handle(frame: GeminiFrame): void {
    if (this.#result) return;
    switch (frame.type) {
      case "init":
        this.#sessionId = frame.session_id;
        this.#model = frame.model ?? undefined;
        this.#ensureStarted();
        return;
      case "message":
        if (frame.role === "assistant" && frame.content !== "") {
          this.#segment += frame.content;
          this.#emit({ type: "message_streamed", data: { delta: frame.content } });
        }
        return;
      case "tool_use":
        this.#flushText();
        this.#toolStarted(frame);
        return;
      case "tool_result":
        this.#flushText();
        this.#toolFinished(frame);
        return;
      case "error":
        this.#warnings.push(frame.message);
        this.#emit({
          type: "error_occurred",
          data: {
            errorCode: "provider_error",
            errorMessage: `${this.#provider.displayName}: ${frame.message}`,
            fatal: false,
            ...(frame.severity ? { details: { severity: frame.severity } } : {}),
          },
        });
        return;
      case "result":
        this.#flushText();
        this.#result = frame;
        this.#reportUsage(frame);
        return;
    }
  }

  /** Ends the text segment still open when the output stopped without a result (a cancel, a crash). */
  finish(): void {
    this.#flushText();
  }

  #emit(event: AdapterEvent): void {
    this.#ensureStarted();
    this.#sink.emit(event);
  }

  #ensureStarted(): void {
    if (this.#started) return;
    this.#started = true;
    this.#sink.emit({
      type: "run_started",
      data: {
        ...(this.#sessionId ? { providerSessionId: this.#sessionId } : {}),
        ...(this.#model ? { model: this.#model } : {}),
      },
    });
  }

  #flushText(): void {
    if (this.#segment === "") return;
    const content = this.#segment;
    this.#segment = "";
    this.#answer += content;
    this.#emit({ type: "message_received", data: { role: "assistant", content } });
  }

  #toolStarted(frame: FrameOfType<"tool_use">): void {
    if (this.#tools.has(frame.tool_id)) return;
    const canonical = toCanonicalToolName(frame.tool_name, GEMINI_TOOL_NAMES);
    const native = canonical === frame.tool_name ? {} : { nativeName: frame.tool_name };
    const input = toolInputObject(frame.parameters);
    this.#tools.set(frame.tool_id, { name: canonical, input, ...native });
    // A new segment starts after a tool call: the answer is the text after the last one.
    this.#answer = "";
    this.#emit({
      type: "tool_call_started",
      data: {
        toolCallId: frame.tool_id,
        toolName: canonical,
        ...(native.nativeName ? { nativeToolName: native.nativeName } : {}),
        toolInput: input,
      },
    });
  }

  #toolFinished(frame: FrameOfType<"tool_result">): void {
    if (this.#finishedTools.has(frame.tool_id)) return;
    this.#finishedTools.add(frame.tool_id);
    const call = this.#tools.get(frame.tool_id);
    const data = {
      toolCallId: frame.tool_id,
      toolName: call?.name ?? "unknown",
      ...(call?.nativeName ? { nativeToolName: call.nativeName } : {}),
      toolInput: call?.input ?? {},
      toolOutput: frame.output ?? "",
    };
    if (frame.status === "success") {
      this.#emit({ type: "tool_call_completed", data });
      return;
    }
    this.#emit({
      type: "tool_call_failed",
      data: {
        ...data,
        errorMessage: frame.error?.message ?? `${data.toolName} failed`,
        ...(frame.error?.type ? { errorType: frame.error.type } : {}),
      },
    });
  }

  #reportUsage(frame: GeminiResultFrame): void {
    const usage = geminiUsage(frame.stats);
    const models = frame.stats?.models ? Object.keys(frame.stats.models) : [];
    // With `auto` the model is the one the router picked: the stats name it.
    if (models.length === 1 && (this.#model === undefined || this.#model === "auto")) this.#model = models[0];
    if (!usage) return;
    this.#ensureStarted();
    this.#usage.addStep(usage, models.length > 0 ? { models } : {});
    this.#usageTotal = this.#usage.total;
  }
}
