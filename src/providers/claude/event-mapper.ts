import type { AdapterEvent } from "../../core/events.js";
import type { TokenUsage } from "../../core/token-usage.js";
import type { EventSink } from "../../ports/provider-adapter.js";
import { contentText } from "../shared/content.js";
import type { VariantOf } from "../shared/frame-check.js";
import { PROVIDERS, providerFailure } from "../shared/provider-failures.js";
import { isZeroUsage, maxUsage, tokenUsage, UsageTracker, usageDifference } from "../shared/usage-tracker.js";
import {
  ASSISTANT_BLOCKS,
  type ClaudeApiUsage,
  type ClaudeFrame,
  type ClaudeResultFrame,
  STREAM_DELTAS,
  STREAM_EVENTS,
  SYSTEM_FRAMES,
  USER_BLOCKS,
} from "./frames.js";

const PROVIDER = PROVIDERS.claude;

type FrameOfType<T extends ClaudeFrame["type"]> = Extract<ClaudeFrame, { type: T }>;
type SystemFrame<S extends string> = VariantOf<typeof SYSTEM_FRAMES, S>;

function apiUsage(usage: ClaudeApiUsage): TokenUsage | undefined {
  if (!usage) return undefined;
  return tokenUsage({
    input: usage.input_tokens,
    output: usage.output_tokens,
    cacheRead: usage.cache_read_input_tokens,
    cacheWrite: usage.cache_creation_input_tokens,
  });
}

/** What the last failed API call said, from `assistant.error` or `system/api_retry`. */
export interface ApiFailure {
  status?: number | null;
  /** Claude Code's own label of the failure: `authentication_failed`, `rate_limit`, `server_error`, … */
  errorType?: string;
  /** The API's own error type, as Claude Code passes it on (`api_error_type`: `authentication_error`, `api_error`, `overloaded_error`, …). */
  apiErrorType?: string;
  /** What failed when the API never answered (`api_error`: `connection_failed`). */
  apiError?: string;
  /** The delay before Claude Code's next retry (`retry_delay_ms`; the API's `retry-after` when it sent one). */
  retryDelayMs?: number;
  message?: string;
}

interface MessageUsage {
  latest: TokenUsage;
  emitted: TokenUsage;
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  return value === undefined ? {} : { value };
}

/**
 * Turns Claude Code's frames (checked against `CLAUDE_FRAMES`, as the Agent SDK yields them)
 * into canonical events, each exactly once:
 *
 * - `system/init` → `run_started { providerSessionId, model, cwd, tools, permissionMode, claudeCodeVersion }`;
 * - `stream_event` text deltas → `message_streamed { delta }`; thinking deltas →
 *   `message_streamed { delta, stream: "thinking" }`;
 * - `assistant` text block → `message_received { role: "assistant", content }` (one per complete
 *   block; deltas are not repeated); thinking block → `message_streamed { stream: "thinking" }`
 *   only when no deltas of that message were streamed, so thinking never shows as the answer;
 *   `tool_use` block → `tool_call_started`;
 * - `user` tool_result → `tool_call_completed`, or `tool_call_failed` when `is_error`;
 * - usage: one `token_usage_updated` per API message (its largest usage seen, from
 *   `message_start`/`message_delta` stream events and `assistant` frames, which repeat it
 *   per content block), flushed when the message ends, or when the run stops (`flushUsage`);
 * - `system/permission_denied` and the result's `permission_denials` → `error_occurred
 *   { errorCode: "tool_permission_denied", fatal: false }`, once per tool call;
 * - `system/api_retry` → `error_occurred { fatal: false }` with the classified code;
 * - `result` is kept for the adapter to settle the run. Assistant messages that carry an API
 *   `error` are the CLI's own error text, not model output: they are kept as the failure's
 *   message instead of being emitted.
 * Subagent output (`parent_tool_use_id` set) maps the same way, with `parentToolCallId` added.
 */
export class ClaudeEventMapper {
  readonly #sink: EventSink;
  readonly #usage: UsageTracker;
  #started = false;
  #sessionId: string | undefined;
  #model: string | undefined;
  #result: ClaudeResultFrame | undefined;
  #apiFailure: ApiFailure | undefined;
  readonly #messageUsage = new Map<string, MessageUsage>();
  /** Messages whose usage grew since it was last emitted. */
  readonly #unflushed = new Set<string>();
  /** The last complete assistant message seen, per parent tool call. */
  readonly #lastAssistant = new Map<string, string>();
  /** The API message being streamed, per parent tool call (subagents stream side by side). */
  readonly #streaming = new Map<string, string>();
  readonly #thinkingStreamed = new Set<string>();
  readonly #toolNames = new Map<string, string>();
  readonly #toolsFinished = new Set<string>();
  readonly #deniedTools = new Set<string>();

  constructor(sink: EventSink) {
    this.#sink = sink;
    this.#usage = new UsageTracker(sink);
  }

  get providerSessionId(): string | undefined {
    return this.#sessionId;
  }

  get model(): string | undefined {
    return this.#model;
  }

  get result(): ClaudeResultFrame | undefined {
    return this.#result;
  }

  get apiFailure(): ApiFailure | undefined {
    return this.#apiFailure;
  }

  /** True once `run_started` was emitted. */
  get started(): boolean {
    return this.#started;
  }

  /** Emits an event, preceded by `run_started` if nothing was emitted yet. */
  emit(event: AdapterEvent): void {
    this.#ensureStarted();
    this.#sink.emit(event);
  }

  handle(frame: ClaudeFrame): void {
    if ("session_id" in frame && typeof frame.session_id === "string" && frame.session_id) {
      this.#sessionId ??= frame.session_id;
    }
    switch (frame.type) {
      case "system":
        this.#system(frame);
        return;
      case "stream_event":
        this.#streamEvent(frame);
        return;
      case "assistant":
        this.#assistant(frame);
        return;
      case "user":
        if (!frame.isReplay) this.#user(frame);
        return;
      case "result":
        this.#flushUsage();
        this.#result = frame;
        if (frame.session_id) this.#sessionId = frame.session_id;
        for (const denial of frame.permission_denials ?? []) {
          this.#denied(denial.tool_name, denial.tool_use_id, { toolInput: denial.tool_input });
        }
        return;
      default:
        // Frames the SDK consumes or nothing is mapped from (tool progress, rate limits, …).
        return;
    }
  }

  /**
   * The run's usage at its end, however it ended: the per-message increments (messages cut off
   * included), topped up (with one more `token_usage_updated`) where the result's main-loop usage
   * is larger, so the events always sum to the returned usage. Idempotent.
   */
  finishUsage(): TokenUsage {
    this.#flushUsage();
    const reported = this.#result ? apiUsage(this.#result.usage) : undefined;
    if (reported) {
      const target = maxUsage(this.#usage.total, reported);
      const topUp = usageDifference(target, this.#usage.total);
      if (topUp && !isZeroUsage(topUp)) this.#emitUsage(topUp, { source: "result" });
    }
    return this.#usage.total;
  }

  /**
   * Emits the usage seen so far that was not emitted yet, without waiting for the end of its
   * message: a run that stops mid-message (cancel, failure, timeout) still reports every token.
   */
  flushUsage(): void {
    this.#flushUsage();
  }

  #ensureStarted(data: Record<string, unknown> = {}): void {
    if (this.#started) return;
    this.#started = true;
    this.#sink.emit({
      type: "run_started",
      data: { ...(this.#sessionId ? { providerSessionId: this.#sessionId } : {}), ...data },
    });
  }

  #emitUsage(step: TokenUsage, extra: Record<string, unknown>): void {
    this.#ensureStarted();
    this.#usage.addStep(step, extra);
  }

  #system(frame: FrameOfType<"system">): void {
    // Other subtypes (status, hooks, tasks, compaction, …) are informational.
    if (SYSTEM_FRAMES.is(frame, "init")) this.#init(frame);
    else if (SYSTEM_FRAMES.is(frame, "api_retry")) this.#apiRetry(frame);
    else if (SYSTEM_FRAMES.is(frame, "permission_denied")) this.#permissionDenied(frame);
  }

  #init(message: SystemFrame<"init">): void {
    this.#sessionId = message.session_id || this.#sessionId;
    this.#model ??= message.model ?? undefined;
    this.#ensureStarted({
      ...(message.model ? { model: message.model } : {}),
      ...(message.cwd ? { cwd: message.cwd } : {}),
      ...(message.tools ? { tools: message.tools } : {}),
      ...(message.permissionMode ? { permissionMode: message.permissionMode } : {}),
      ...(message.claude_code_version ? { claudeCodeVersion: message.claude_code_version } : {}),
    });
  }

  #apiRetry(message: SystemFrame<"api_retry">): void {
    this.#apiFailure = {
      status: message.error_status,
      ...(message.error ? { errorType: message.error } : {}),
      retryDelayMs: message.retry_delay_ms,
    };
    const failure = providerFailure(PROVIDER, {
      status: message.error_status,
      errorType: message.error,
      retryAfterMs: message.retry_delay_ms,
      message: `${PROVIDER.displayName} API request failed (${[message.error_status, message.error].filter(Boolean).join(", ")}); retry ${message.attempt} of ${message.max_retries} in ${message.retry_delay_ms} ms`,
    });
    this.emit({
      type: "error_occurred",
      data: {
        errorCode: failure.code,
        errorMessage: failure.message,
        fatal: false,
        ...(failure.providerError ? { providerError: failure.providerError } : {}),
        details: {
          attempt: message.attempt,
          maxRetries: message.max_retries,
          retryDelayMs: message.retry_delay_ms,
          errorStatus: message.error_status,
          error: message.error,
        },
      },
    });
  }

  #permissionDenied(message: SystemFrame<"permission_denied">): void {
    this.#denied(message.tool_name, message.tool_use_id, {
      ...(message.decision_reason ? { decisionReason: message.decision_reason } : {}),
      ...(message.decision_reason_type ? { decisionReasonType: message.decision_reason_type } : {}),
      ...(message.message ? { reason: message.message } : {}),
    });
  }

  #denied(toolName: string, toolCallId: string, details: Record<string, unknown>): void {
    if (this.#deniedTools.has(toolCallId)) return;
    this.#deniedTools.add(toolCallId);
    const reason = typeof details.reason === "string" ? `: ${details.reason}` : "";
    this.emit({
      type: "error_occurred",
      data: {
        errorCode: "tool_permission_denied",
        errorMessage: `${PROVIDER.displayName} was not allowed to use ${toolName}${reason}`,
        fatal: false,
        details: { toolName, toolCallId, ...details },
      },
    });
  }

  #streamEvent(message: FrameOfType<"stream_event">): void {
    const key = message.parent_tool_use_id ?? "";
    const parent = message.parent_tool_use_id ? { parentToolCallId: message.parent_tool_use_id } : {};
    const { event } = message;
    if (STREAM_EVENTS.is(event, "message_start")) {
      this.#streaming.set(key, event.message.id);
      this.#model ??= event.message.model ?? undefined;
      this.#observeUsage(event.message.id, apiUsage(event.message.usage));
    } else if (STREAM_EVENTS.is(event, "content_block_delta")) {
      const messageId = this.#streaming.get(key);
      const ids = messageId ? { messageId } : {};
      const { delta } = event;
      if (STREAM_DELTAS.is(delta, "text_delta") && delta.text) {
        this.emit({ type: "message_streamed", data: { delta: delta.text, ...ids, ...parent } });
      } else if (STREAM_DELTAS.is(delta, "thinking_delta") && delta.thinking) {
        if (messageId) this.#thinkingStreamed.add(messageId);
        this.emit({
          type: "message_streamed",
          data: { delta: delta.thinking, stream: "thinking", ...ids, ...parent },
        });
      }
    } else if (STREAM_EVENTS.is(event, "message_delta")) {
      const messageId = this.#streaming.get(key);
      if (messageId) this.#observeUsage(messageId, apiUsage(event.usage));
    } else if (event.type === "message_stop") {
      const messageId = this.#streaming.get(key);
      this.#streaming.delete(key);
      if (messageId) this.#flushUsage(messageId);
    }
  }

  #assistant(message: FrameOfType<"assistant">): void {
    const apiMessage = message.message;
    this.#model ??= apiMessage.model ?? undefined;
    const parent = message.parent_tool_use_id ? { parentToolCallId: message.parent_tool_use_id } : {};
    if (message.error) {
      // The CLI's synthetic "API Error: …" message: the failure's words, not the model's.
      this.#apiFailure = {
        ...this.#apiFailure,
        ...(message.api_error_status != null ? { status: message.api_error_status } : {}),
        errorType: message.error,
        ...(message.api_error_type ? { apiErrorType: message.api_error_type } : {}),
        ...(message.api_error ? { apiError: message.api_error } : {}),
        message: contentText(apiMessage.content) || this.#apiFailure?.message || message.error,
      };
      return;
    }
    // A new message id means the previous message of this thread is complete.
    const key = message.parent_tool_use_id ?? "";
    const previous = this.#lastAssistant.get(key);
    if (previous !== undefined && previous !== apiMessage.id) this.#flushUsage(previous);
    this.#lastAssistant.set(key, apiMessage.id);
    this.#observeUsage(apiMessage.id, apiUsage(apiMessage.usage));
    for (const block of apiMessage.content) {
      if (ASSISTANT_BLOCKS.is(block, "text")) {
        if (block.text) {
          this.emit({
            type: "message_received",
            data: { role: "assistant", content: block.text, messageId: apiMessage.id, ...parent },
          });
        }
      } else if (ASSISTANT_BLOCKS.is(block, "thinking")) {
        if (block.thinking && !this.#thinkingStreamed.has(apiMessage.id)) {
          this.emit({
            type: "message_streamed",
            data: { delta: block.thinking, stream: "thinking", messageId: apiMessage.id, ...parent },
          });
        }
      } else if (
        ASSISTANT_BLOCKS.is(block, "tool_use") ||
        ASSISTANT_BLOCKS.is(block, "server_tool_use") ||
        ASSISTANT_BLOCKS.is(block, "mcp_tool_use")
      ) {
        this.#toolStarted(block.id, block.name, block.input, parent);
      }
    }
  }

  #toolStarted(id: string, name: string, input: unknown, parent: Record<string, unknown>): void {
    if (this.#toolNames.has(id)) return;
    this.#toolNames.set(id, name);
    this.emit({
      type: "tool_call_started",
      data: { toolCallId: id, toolName: name, toolInput: asObject(input), ...parent },
    });
  }

  #user(message: FrameOfType<"user">): void {
    const { content } = message.message;
    if (typeof content === "string") return;
    const parent = message.parent_tool_use_id ? { parentToolCallId: message.parent_tool_use_id } : {};
    // Tool results end the API message that asked for them.
    this.#flushUsage();
    for (const block of content) {
      if (!USER_BLOCKS.is(block, "tool_result") || this.#toolsFinished.has(block.tool_use_id)) continue;
      this.#toolsFinished.add(block.tool_use_id);
      const toolCallId = block.tool_use_id;
      const toolName = this.#toolNames.get(toolCallId) ?? "unknown";
      const toolOutput = block.content ?? "";
      if (block.is_error) {
        this.emit({
          type: "tool_call_failed",
          data: { toolCallId, toolName, toolOutput, errorMessage: contentText(toolOutput), ...parent },
        });
      } else {
        this.emit({ type: "tool_call_completed", data: { toolCallId, toolName, toolOutput, ...parent } });
      }
    }
  }

  #observeUsage(messageId: string, usage: TokenUsage | undefined): void {
    if (!usage) return;
    const entry = this.#messageUsage.get(messageId);
    // Within one message the API's counts only grow; frames repeat them per content block.
    if (entry) entry.latest = maxUsage(entry.latest, usage);
    else this.#messageUsage.set(messageId, { latest: usage, emitted: { inputTokens: 0, outputTokens: 0 } });
    this.#unflushed.add(messageId);
  }

  /** Emits what is new in one message's usage (or in every message's, without an id). */
  #flushUsage(messageId?: string): void {
    const ids = messageId === undefined ? [...this.#unflushed] : [messageId];
    for (const id of ids) {
      this.#unflushed.delete(id);
      const entry = this.#messageUsage.get(id);
      if (!entry) continue;
      const step = usageDifference(entry.latest, entry.emitted);
      entry.emitted = entry.latest;
      if (step && !isZeroUsage(step)) this.#emitUsage(step, { messageId: id });
    }
  }
}
