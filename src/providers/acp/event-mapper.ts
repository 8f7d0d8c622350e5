import type { PromptResponse, SessionUpdate, ToolCallContent, ToolKind } from "@agentclientprotocol/sdk";
import type { AdapterEvent } from "../../core/events.js";
import type { TokenUsage } from "../../core/token-usage.js";
import type { EventSink } from "../../ports/provider-adapter.js";
import { isRecord } from "../../utils/is-record.js";
import { toolInputObject } from "../shared/content.js";
import type { ProviderIdentity } from "../shared/provider-failures.js";
import { tokenUsage, UsageTracker } from "../shared/usage-tracker.js";

/**
 * Canonical tool names of ACP tool kinds; other kinds (`delete`, `move`, `think`, `switch_mode`,
 * `other`) keep their own name. The kind is kept as `nativeToolName`, the call's title as `title`.
 */
export const ACP_KIND_TOOL_NAMES: Readonly<Partial<Record<ToolKind, string>>> = Object.freeze({
  read: "Read",
  edit: "Edit",
  execute: "Bash",
  search: "Grep",
  fetch: "WebFetch",
});

/** The canonical tool name of a call of `kind`. */
export function acpToolName(kind: string | null | undefined): string {
  if (!kind) return "unknown";
  return ACP_KIND_TOOL_NAMES[kind as ToolKind] ?? kind;
}

/**
 * Token usage a prompt response reports: the unstable schema's `usage` (`inputTokens`,
 * `outputTokens`, `cachedReadTokens`, `cachedWriteTokens`, `thoughtTokens`), else Gemini's
 * `_meta.quota.token_count`. Undefined when neither is there (the stable schema has no usage).
 */
export function promptUsage(response: PromptResponse): TokenUsage | undefined {
  const unstable = (response as { usage?: unknown }).usage;
  if (isRecord(unstable)) {
    const cacheRead = typeof unstable.cachedReadTokens === "number" ? unstable.cachedReadTokens : 0;
    return tokenUsage({
      input: Math.max(0, Number(unstable.inputTokens ?? 0) - cacheRead),
      output: unstable.outputTokens,
      cacheRead: unstable.cachedReadTokens,
      cacheWrite: unstable.cachedWriteTokens,
      reasoning: unstable.thoughtTokens,
    });
  }
  const quota = response._meta?.quota;
  const count = isRecord(quota) ? quota.token_count : undefined;
  if (!isRecord(count)) return undefined;
  return tokenUsage({ input: count.input_tokens, output: count.output_tokens });
}

/** The model a prompt response names (Gemini's `_meta.quota.model_usage`), when it names exactly one. */
export function promptModel(response: PromptResponse): string | undefined {
  const quota = response._meta?.quota;
  const usage = isRecord(quota) && Array.isArray(quota.model_usage) ? quota.model_usage : [];
  const models = usage.flatMap((entry: unknown) =>
    isRecord(entry) && typeof entry.model === "string" ? [entry.model] : [],
  );
  return models.length === 1 ? models[0] : undefined;
}

/** The tool call of a permission request (a `ToolCallUpdate`). */
export interface PermissionToolCall {
  toolCallId: string;
  kind?: ToolKind | null;
  title?: string | null;
  rawInput?: unknown;
}

interface ToolIdentity {
  toolCallId: string;
  toolName: string;
  nativeToolName?: string;
  title?: string;
  toolInput: Record<string, unknown>;
}

interface ToolState {
  name: string;
  kind?: string;
  title?: string;
  input: Record<string, unknown>;
  content?: ToolCallContent[];
  finished: boolean;
}

/**
 * Turns `session/update` notifications of the running prompt into canonical events, each once:
 *
 * | `sessionUpdate`                         | canonical event                                                     |
 * |-----------------------------------------|---------------------------------------------------------------------|
 * | `agent_message_chunk` (text)            | `message_streamed { delta }`; the chunks of a message, joined, are one `message_received` when a tool call, the plan or the end of the turn follows |
 * | `agent_thought_chunk` (text)            | `message_streamed { delta, stream: "thinking" }`                    |
 * | `user_message_chunk`                    | nothing (the prompt, or history replayed by `session/load`)          |
 * | `tool_call`                             | `tool_call_started { toolCallId, toolName (from kind), nativeToolName: kind, title, toolInput: rawInput }` |
 * | `tool_call_update` completed / failed   | `tool_call_completed { toolOutput: { content, rawOutput? } }` / `tool_call_failed { errorMessage }`, diffs kept in `content` |
 * | `tool_call_update` for an unseen call   | `tool_call_started` first                                            |
 * | a permission request, allowed           | `tool_call_started` if the call was not announced (Gemini announces it only in the request) |
 * | a permission request, refused           | `tool_call_failed { errorCode: "tool_permission_denied" }` for an announced call, else `error_occurred { errorCode: "tool_permission_denied", fatal: false }` |
 * | `plan`                                  | `message_streamed { delta: <entries as a checklist>, stream: "plan", plan: entries }` |
 * | `usage_update`                          | kept as the context window's `{ used, size, cost }` for the result's metadata |
 * | other kinds                             | nothing                                                              |
 *
 * The prompt response's usage (see `promptUsage`) becomes one `token_usage_updated`.
 */
export class AcpEventMapper {
  readonly #sink: EventSink;
  readonly #provider: ProviderIdentity;
  readonly #usage: UsageTracker;
  readonly #tools = new Map<string, ToolState>();
  #started = false;
  #sessionId: string | undefined;
  #segment = "";
  #answer = "";
  #context: Record<string, unknown> | undefined;

  constructor(sink: EventSink, provider: ProviderIdentity) {
    this.#sink = sink;
    this.#provider = provider;
    this.#usage = new UsageTracker(sink);
  }

  /** The answer: the agent's text since its last tool call. */
  get answer(): string {
    return this.#answer + this.#segment;
  }

  get usage(): TokenUsage {
    return this.#usage.total;
  }

  /** The last `usage_update` (context window), if any. */
  get context(): Record<string, unknown> | undefined {
    return this.#context;
  }

  /** Emits `run_started` with the agent's session id, once. */
  started(sessionId: string | undefined, data: Record<string, unknown> = {}): void {
    this.#sessionId ??= sessionId;
    if (this.#started) return;
    this.#started = true;
    this.#sink.emit({
      type: "run_started",
      data: { ...(this.#sessionId ? { providerSessionId: this.#sessionId } : {}), ...data },
    });
  }

  emit(event: AdapterEvent): void {
    this.started(undefined);
    this.#sink.emit(event);
  }

  handle(update: SessionUpdate): void {
    switch (update.sessionUpdate) {
      case "agent_message_chunk":
        if (update.content.type === "text" && update.content.text !== "") {
          this.#segment += update.content.text;
          this.emit({ type: "message_streamed", data: { delta: update.content.text } });
        }
        return;
      case "agent_thought_chunk":
        if (update.content.type === "text" && update.content.text !== "") {
          this.emit({ type: "message_streamed", data: { delta: update.content.text, stream: "thinking" } });
        }
        return;
      case "tool_call":
        this.#flushText();
        this.#toolStarted(update.toolCallId, update.kind, update.title, update.rawInput);
        this.#toolUpdated(update.toolCallId, update.status, update.content, update.rawOutput);
        return;
      case "tool_call_update":
        this.#flushText();
        this.#toolStarted(update.toolCallId, update.kind, update.title, update.rawInput);
        this.#toolUpdated(update.toolCallId, update.status, update.content, update.rawOutput);
        return;
      case "plan": {
        this.#flushText();
        const entries = update.entries.map((entry) => ({
          content: entry.content,
          priority: entry.priority,
          status: entry.status,
        }));
        const checklist = entries
          .map(
            (entry) =>
              `[${entry.status === "completed" ? "x" : entry.status === "in_progress" ? "~" : " "}] ${entry.content}`,
          )
          .join("\n");
        this.emit({ type: "message_streamed", data: { delta: checklist, stream: "plan", plan: entries } });
        return;
      }
      case "usage_update":
        this.#context = {
          used: update.used,
          size: update.size,
          ...(update.cost ? { cost: { amount: update.cost.amount, currency: update.cost.currency } } : {}),
        };
        return;
      default:
        return;
    }
  }

  /** The canonical name of a call the agent asks permission for (announced or not). */
  toolNameOf(toolCall: { toolCallId: string; kind?: ToolKind | null }): string {
    return this.#tools.get(toolCall.toolCallId)?.name ?? acpToolName(toolCall.kind);
  }

  /** A call allowed to run: started now if the agent had not announced it (Gemini does not). */
  granted(toolCall: PermissionToolCall): void {
    this.#flushText();
    this.#toolStarted(toolCall.toolCallId, toolCall.kind, toolCall.title, toolCall.rawInput);
  }

  /**
   * A refused call: agents send no update for it. One the agent had announced fails now; one it
   * had not is reported as `error_occurred { errorCode: "tool_permission_denied", fatal: false }`
   * and never starts.
   */
  refused(toolCall: PermissionToolCall, reason: string): void {
    const tool = this.#tools.get(toolCall.toolCallId);
    if (tool?.finished) return;
    if (tool) {
      tool.finished = true;
      this.emit({
        type: "tool_call_failed",
        data: {
          ...this.#toolIdentity(toolCall.toolCallId, tool),
          errorMessage: reason,
          errorCode: "tool_permission_denied",
        },
      });
      return;
    }
    this.emit({
      type: "error_occurred",
      data: {
        errorCode: "tool_permission_denied",
        errorMessage: reason,
        fatal: false,
        details: {
          toolName: acpToolName(toolCall.kind),
          toolCallId: toolCall.toolCallId,
          ...(toolCall.title ? { title: toolCall.title } : {}),
          toolInput: toolInputObject(toolCall.rawInput),
        },
      },
    });
  }

  /** The turn ended: the last text segment becomes a message, the usage is reported. */
  finish(response: PromptResponse | undefined): void {
    this.#flushText();
    const usage = response ? promptUsage(response) : undefined;
    if (usage) {
      this.started(undefined);
      this.#usage.addStep(usage);
    }
  }

  #flushText(): void {
    if (this.#segment === "") return;
    const content = this.#segment;
    this.#segment = "";
    this.#answer += content;
    this.emit({ type: "message_received", data: { role: "assistant", content } });
  }

  #toolIdentity(toolCallId: string, tool: ToolState): ToolIdentity {
    return {
      toolCallId,
      toolName: tool.name,
      ...(tool.kind ? { nativeToolName: tool.kind } : {}),
      ...(tool.title ? { title: tool.title } : {}),
      toolInput: tool.input,
    };
  }

  #toolStarted(
    toolCallId: string,
    kind: string | null | undefined,
    title: string | null | undefined,
    rawInput: unknown,
  ): void {
    if (this.#tools.has(toolCallId)) return;
    // A new call: the answer is the text after it.
    this.#answer = "";
    const tool: ToolState = {
      name: acpToolName(kind),
      ...(kind ? { kind } : {}),
      ...(title ? { title } : {}),
      input: toolInputObject(rawInput),
      finished: false,
    };
    this.#tools.set(toolCallId, tool);
    this.emit({ type: "tool_call_started", data: { ...this.#toolIdentity(toolCallId, tool) } });
  }

  #toolUpdated(
    toolCallId: string,
    status: string | null | undefined,
    content: ToolCallContent[] | null | undefined,
    rawOutput: unknown,
  ): void {
    const tool = this.#tools.get(toolCallId);
    if (!tool || tool.finished) return;
    // Each update's content replaces the previous list.
    if (content) tool.content = content;
    if (status !== "completed" && status !== "failed") return;
    tool.finished = true;
    const output = {
      content: tool.content ?? [],
      ...(rawOutput !== undefined && rawOutput !== null ? { rawOutput } : {}),
    };
    if (status === "completed") {
      this.emit({
        type: "tool_call_completed",
        data: { ...this.#toolIdentity(toolCallId, tool), toolOutput: output },
      });
      return;
    }
    const text = (tool.content ?? [])
      .map((item) => (item.type === "content" && item.content.type === "text" ? item.content.text : ""))
      .filter(Boolean)
      .join("\n");
    this.emit({
      type: "tool_call_failed",
      data: {
        ...this.#toolIdentity(toolCallId, tool),
        toolOutput: output,
        errorMessage: text || `${this.#provider.displayName}: ${tool.title ?? tool.name} failed`,
      },
    });
  }
}
