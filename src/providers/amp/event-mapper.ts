import type { AdapterEvent } from "../../core/events.js";
import { EMPTY_TOKEN_USAGE, type TokenUsage } from "../../core/token-usage.js";
import type { EventSink } from "../../ports/provider-adapter.js";
import { contentText, toolInputObject } from "../shared/content.js";
import type { VariantOf } from "../shared/frame-check.js";
import type { LineProblem } from "../shared/jsonl-reader.js";
import { PROVIDERS, parseErrorEvent } from "../shared/provider-failures.js";
import { toCanonicalToolName } from "../shared/tool-rules.js";
import { isZeroUsage, maxUsage, tokenUsage, UsageTracker, usageDifference } from "../shared/usage-tracker.js";
import {
  type AmpFrame,
  type AmpPermissionDenial,
  type AmpResultFrame,
  type AmpUsage,
  ASSISTANT_BLOCKS,
  SYSTEM_FRAMES,
  USER_BLOCKS,
} from "./protocol.js";
import { AMP_TOOL_NAMES } from "./tool-names.js";

const PROVIDER = PROVIDERS.amp;

type FrameOfType<T extends AmpFrame["type"]> = Extract<AmpFrame, { type: T }>;

function usageOf(usage: AmpUsage | null | undefined): TokenUsage | undefined {
  if (!usage) return undefined;
  return tokenUsage({
    input: usage.input_tokens,
    output: usage.output_tokens,
    cacheRead: usage.cache_read_input_tokens,
    cacheWrite: usage.cache_creation_input_tokens,
  });
}

/** How a run's `result` frame reads, once it arrived. */
export interface AmpOutcome {
  frame: AmpResultFrame;
  isError: boolean;
}

interface ToolCall {
  name: string;
  input: Record<string, unknown>;
  /** Amp's own name, when it differs from the canonical `name`. */
  nativeName?: string;
}

/**
 * Turns Amp's stream-JSON frames (checked against `AMP_FRAMES` by the reader) into canonical
 * events, each exactly once:
 *
 * - `system/init` → `run_started { providerSessionId: session_id (the thread id), cwd, tools,
 *   mcpServers }`. Amp names no model there; `model` is the one its messages report, if any.
 * - `assistant` text block → `message_received { role: "assistant", content }`. Amp has no
 *   partial messages, so no `message_streamed` is emitted for text: repeating whole blocks as
 *   deltas would show the text twice to a reader that joins deltas and messages.
 * - thinking block (with `--stream-json-thinking`) → `message_streamed { delta, stream:
 *   "thinking" }`, as the Claude adapter reports thinking, so it never reads as the answer.
 * - `tool_use` block → `tool_call_started { toolCallId, toolName, toolInput }`.
 * - `user` `tool_result` block → `tool_call_completed { toolCallId, toolName, toolInput,
 *   toolOutput }`, or `tool_call_failed { …, errorMessage }` when `is_error`; name and input are
 *   looked up from the call. The prompt the user frame echoes is not reported again.
 * - per-message `usage` → `token_usage_updated` with the message's increment and `cumulative`
 *   (a message seen twice adds only what grew).
 * - the result's `permission_denials` → `error_occurred { errorCode: "tool_permission_denied",
 *   fatal: false }`, once per tool call.
 * - an output line the reader could not use (not JSON, too long, not an Amp frame of the right
 *   shape) → `error_occurred { errorCode: "parse_error", fatal: false }` (see `parseErrorEvent`),
 *   and it is skipped.
 *
 * Output of subagents (`parent_tool_use_id` set) maps the same way, with `parentToolCallId`.
 * The first `result` is kept for the adapter to settle the run; frames after it are ignored, but
 * unusable lines after it are still reported.
 */
export class AmpEventMapper {
  readonly #sink: EventSink;
  readonly #usage: UsageTracker;
  #started = false;
  #threadId: string | undefined;
  #model: string | undefined;
  #stopReason: string | undefined;
  #outcome: AmpOutcome | undefined;
  #sawMessageUsage = false;
  #usageFinished = false;
  /** Usage already counted per message id, for messages Amp reports more than once. */
  readonly #countedUsage = new Map<string, TokenUsage>();
  readonly #tools = new Map<string, ToolCall>();
  readonly #finishedTools = new Set<string>();
  readonly #reportedDenials = new Set<string>();

  constructor(sink: EventSink) {
    this.#sink = sink;
    this.#usage = new UsageTracker(sink);
  }

  /** The thread id, from `system/init` (or the result, if init never came). */
  get providerSessionId(): string | undefined {
    return this.#threadId;
  }

  get model(): string | undefined {
    return this.#model;
  }

  /** The last main-thread assistant message's stop reason. */
  get stopReason(): string | undefined {
    return this.#stopReason;
  }

  get outcome(): AmpOutcome | undefined {
    return this.#outcome;
  }

  /** Reports an output line that could not be used; the run goes on. */
  lineProblem(problem: LineProblem): void {
    this.#emit(parseErrorEvent(PROVIDER, problem));
  }

  handle(frame: AmpFrame): void {
    if (this.#outcome) return;
    switch (frame.type) {
      case "system":
        // Other subtypes are informational.
        if (SYSTEM_FRAMES.is(frame, "init")) this.#init(frame);
        return;
      case "assistant":
        this.#assistant(frame);
        return;
      case "user":
        this.#user(frame);
        return;
      case "result":
        this.#result(frame);
        return;
    }
  }

  /**
   * The run's usage: the sum of the per-message increments. Only when no message carried usage
   * is the result's `usage` taken instead (one more `token_usage_updated`, `source: "result"`):
   * whether it covers the run or the whole thread is not documented, so it never adds to
   * per-message counts.
   */
  finishUsage(): TokenUsage {
    const reported = usageOf(this.#outcome?.frame.usage);
    if (!this.#sawMessageUsage && !this.#usageFinished && reported && !isZeroUsage(reported)) {
      this.#ensureStarted();
      this.#usage.addStep(reported, { source: "result" });
    }
    this.#usageFinished = true;
    return this.#usage.total;
  }

  #emit(event: AdapterEvent): void {
    this.#ensureStarted();
    this.#sink.emit(event);
  }

  #ensureStarted(data: Record<string, unknown> = {}): void {
    if (this.#started) return;
    this.#started = true;
    this.#sink.emit({
      type: "run_started",
      data: { ...(this.#threadId ? { providerSessionId: this.#threadId } : {}), ...data },
    });
  }

  #init(init: VariantOf<typeof SYSTEM_FRAMES, "init">): void {
    this.#threadId = init.session_id;
    this.#ensureStarted({
      ...(init.cwd ? { cwd: init.cwd } : {}),
      ...(init.tools ? { tools: init.tools } : {}),
      ...(init.mcp_servers ? { mcpServers: init.mcp_servers } : {}),
    });
  }

  #assistant(frame: FrameOfType<"assistant">): void {
    const { message } = frame;
    const parentId = frame.parent_tool_use_id ?? undefined;
    const parent = parentId ? { parentToolCallId: parentId } : {};
    const ids = message.id ? { messageId: message.id } : {};
    // Subagents may run on other models: the run's model and stop reason are the main thread's.
    if (!parentId) {
      this.#model ??= message.model ?? undefined;
      if (message.stop_reason) this.#stopReason = message.stop_reason;
    }
    for (const block of message.content) {
      if (ASSISTANT_BLOCKS.is(block, "text")) {
        if (block.text) {
          this.#emit({
            type: "message_received",
            data: { role: "assistant", content: block.text, ...ids, ...parent },
          });
        }
      } else if (ASSISTANT_BLOCKS.is(block, "thinking")) {
        if (block.thinking) {
          this.#emit({
            type: "message_streamed",
            data: { delta: block.thinking, stream: "thinking", ...ids, ...parent },
          });
        }
      } else if (ASSISTANT_BLOCKS.is(block, "tool_use")) {
        this.#toolStarted(block.id, block.name, toolInputObject(block.input), parent);
      }
    }
    this.#countUsage(message.id ?? undefined, usageOf(message.usage));
  }

  #toolStarted(
    id: string,
    name: string,
    input: Record<string, unknown>,
    parent: Record<string, unknown>,
  ): void {
    if (this.#tools.has(id)) return;
    const canonical = toCanonicalToolName(name, AMP_TOOL_NAMES);
    const toolName = canonical === name ? { toolName: name } : { toolName: canonical, nativeToolName: name };
    this.#tools.set(id, { name: canonical, input, ...(canonical === name ? {} : { nativeName: name }) });
    this.#emit({
      type: "tool_call_started",
      data: { toolCallId: id, ...toolName, toolInput: input, ...parent },
    });
  }

  #user(frame: FrameOfType<"user">): void {
    const { content } = frame.message;
    if (typeof content === "string") return;
    const parentId = frame.parent_tool_use_id ?? undefined;
    const parent = parentId ? { parentToolCallId: parentId } : {};
    for (const result of content) {
      if (!USER_BLOCKS.is(result, "tool_result") || this.#finishedTools.has(result.tool_use_id)) continue;
      this.#finishedTools.add(result.tool_use_id);
      const call = this.#tools.get(result.tool_use_id);
      const data = {
        toolCallId: result.tool_use_id,
        // A result for a call this run never saw start (resumed mid-call): named as unknown.
        toolName: call?.name ?? "unknown",
        ...(call?.nativeName ? { nativeToolName: call.nativeName } : {}),
        toolInput: call?.input ?? {},
        toolOutput: result.content ?? "",
        ...parent,
      };
      if (result.is_error) {
        this.#emit({
          type: "tool_call_failed",
          data: { ...data, errorMessage: contentText(result.content) },
        });
      } else {
        this.#emit({ type: "tool_call_completed", data });
      }
    }
  }

  #result(frame: AmpResultFrame): void {
    this.#threadId ??= frame.session_id ?? undefined;
    this.#outcome = { frame, isError: frame.is_error ?? frame.subtype !== "success" };
    for (const denial of frame.permission_denials ?? []) this.#denied(denial);
  }

  #denied(denial: AmpPermissionDenial): void {
    const key = denial.tool_use_id ?? `${denial.tool_name}:${JSON.stringify(denial.tool_input ?? null)}`;
    if (this.#reportedDenials.has(key)) return;
    this.#reportedDenials.add(key);
    this.#emit({
      type: "error_occurred",
      data: {
        errorCode: "tool_permission_denied",
        errorMessage: `${PROVIDER.displayName} was not allowed to use ${denial.tool_name}`,
        fatal: false,
        details: {
          toolName: toCanonicalToolName(denial.tool_name, AMP_TOOL_NAMES),
          ...(denial.tool_use_id ? { toolCallId: denial.tool_use_id } : {}),
          ...(denial.tool_input !== undefined ? { toolInput: denial.tool_input } : {}),
        },
      },
    });
  }

  #countUsage(messageId: string | undefined, usage: TokenUsage | undefined): void {
    if (!usage) return;
    this.#sawMessageUsage = true;
    if (messageId === undefined) {
      this.#emitUsage(usage, {});
      return;
    }
    // Usage only grows within a message: count the part not counted for it yet.
    const counted = this.#countedUsage.get(messageId) ?? EMPTY_TOKEN_USAGE;
    const latest = maxUsage(counted, usage);
    this.#countedUsage.set(messageId, latest);
    const step = usageDifference(latest, counted);
    if (step) this.#emitUsage(step, { messageId });
  }

  #emitUsage(step: TokenUsage, extra: Record<string, unknown>): void {
    if (isZeroUsage(step)) return;
    this.#ensureStarted();
    this.#usage.addStep(step, extra);
  }
}
