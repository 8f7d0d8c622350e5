import type { AdapterEvent } from "../../core/events.js";
import type { TokenUsage } from "../../core/token-usage.js";
import type { EventSink } from "../../ports/provider-adapter.js";
import { type FailureFacts, PROVIDERS, providerFailure } from "../shared/provider-failures.js";
import { tokenCount, tokenUsage, UsageTracker } from "../shared/usage-tracker.js";
import { CODEX_ITEMS, type CodexFrame, type CodexItem, type CodexUsage } from "./frames.js";
import { CODEX_TOOL_NAMES, mcpToolName } from "./tool-names.js";

const PROVIDER = PROVIDERS.codex;

/**
 * Codex usage in the four disjoint buckets: Codex counts cached (and cache-written) tokens inside
 * `input_tokens`, and reasoning tokens inside `output_tokens`. A bucket Codex did not send stays
 * absent; `cache_write_input_tokens` (which the SDK sets to 0 when missing) only when non-zero.
 */
export function codexTokenUsage(usage: CodexUsage): TokenUsage {
  // Older CLIs send only input, cached input and output (openai/codex#19022).
  const input = tokenCount(usage.input_tokens);
  const output = tokenCount(usage.output_tokens);
  const cached = tokenCount(usage.cached_input_tokens);
  const written = tokenCount(usage.cache_write_input_tokens);
  return tokenUsage({
    input: Math.max(0, input - cached - written),
    output,
    cacheRead: usage.cached_input_tokens == null ? undefined : cached,
    cacheWrite: written > 0 ? written : undefined,
    reasoning:
      usage.reasoning_output_tokens == null
        ? undefined
        : Math.min(tokenCount(usage.reasoning_output_tokens), output),
  });
}

/**
 * What a Codex error message says about the failure, for `providerFailure`. Codex names the
 * status in some messages ("unexpected status 401 Unauthorized: …", "exceeded retry limit, last
 * status: 429 Too Many Requests"), which `providerFailure` reads from the text itself, along with
 * a retry delay ("try again in 1.2s"). For a 5xx it replaces the API's answer with its own words
 * and no status (codex-rs `CodexErr`), which this maps to the error type they stand for.
 */
export function codexFailureFacts(message: string): Pick<FailureFacts, "message" | "errorType"> {
  const errorType = CODEX_ERROR_TYPES.find(([pattern]) => pattern.test(message))?.[1];
  return { message, ...(errorType ? { errorType } : {}) };
}

const CODEX_ERROR_TYPES: readonly (readonly [RegExp, string])[] = [
  // InternalServerError: what Codex says for a 500 from the API.
  [/experiencing high demand/i, "server_error"],
  // ServerOverloaded: the model has no capacity left, a signal like a 529.
  [/selected model is at capacity|flex capacity unavailable/i, "overloaded"],
];

const RECONNECT = /^Reconnecting\.\.\.\s*(\d+)\/(\d+)/;

interface ToolStart {
  name: string;
  input: Record<string, unknown>;
}

interface ToolEnd {
  output: unknown;
  /** Set when the tool failed: what to say about it. */
  failure?: string;
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return { ...(value as Record<string, unknown>) };
  }
  return value === undefined || value === null ? {} : { value };
}

/** The fields of an item other than its identity and lifecycle. */
function itemFields(item: CodexItem): Record<string, unknown> {
  const { id: _id, type: _type, status: _status, ...rest } = item;
  return rest;
}

function failedStatus(status: unknown): string | undefined {
  return status === "failed" || status === "declined" ? status : undefined;
}

/** How a tool item starts: its canonical name and input; undefined for items that are not tools. */
function toolStart(item: CodexItem): ToolStart | undefined {
  if (
    CODEX_ITEMS.is(item, "agent_message") ||
    CODEX_ITEMS.is(item, "reasoning") ||
    CODEX_ITEMS.is(item, "error")
  ) {
    return undefined;
  }
  if (CODEX_ITEMS.is(item, "command_execution")) {
    return { name: CODEX_TOOL_NAMES.command_execution, input: { command: item.command } };
  }
  if (CODEX_ITEMS.is(item, "file_change")) {
    return { name: CODEX_TOOL_NAMES.file_change, input: { changes: item.changes } };
  }
  if (CODEX_ITEMS.is(item, "mcp_tool_call")) {
    return { name: mcpToolName(item.server, item.tool), input: asObject(item.arguments) };
  }
  if (CODEX_ITEMS.is(item, "web_search"))
    return { name: CODEX_TOOL_NAMES.web_search, input: { query: item.query } };
  if (CODEX_ITEMS.is(item, "todo_list"))
    return { name: CODEX_TOOL_NAMES.todo_list, input: { items: item.items } };
  // An item type this SDK version does not type (the CLI is ahead of it).
  return { name: item.type, input: itemFields(item) };
}

/** How a completed tool item ended. */
function toolEnd(item: CodexItem): ToolEnd {
  if (CODEX_ITEMS.is(item, "command_execution")) {
    const exitCode = item.exit_code ?? null;
    const status = failedStatus(item.status);
    const output = { output: item.aggregated_output, exitCode, status: item.status };
    if (status === "declined") return { output, failure: "the command was declined" };
    if (exitCode !== null && exitCode !== 0)
      return { output, failure: `the command exited with code ${exitCode}` };
    if (status) return { output, failure: "the command failed" };
    return { output };
  }
  if (CODEX_ITEMS.is(item, "file_change")) {
    const output = { changes: item.changes, status: item.status };
    return item.status === "failed" ? { output, failure: "the patch was not applied" } : { output };
  }
  if (CODEX_ITEMS.is(item, "mcp_tool_call")) {
    if (item.error != null || item.status === "failed") {
      const message = item.error?.message ?? "the MCP tool call failed";
      return { output: { error: message }, failure: message };
    }
    const { result } = item;
    return {
      output: result ? { content: result.content, structuredContent: result.structured_content } : {},
    };
  }
  if (CODEX_ITEMS.is(item, "web_search")) return { output: itemFields(item) };
  if (CODEX_ITEMS.is(item, "todo_list")) return { output: { items: item.items } };
  const status = failedStatus(item.status);
  return status
    ? { output: itemFields(item), failure: `the ${item.type} item ${status}` }
    : { output: itemFields(item) };
}

export interface CodexEventMapperOptions {
  /**
   * The run's id: tool calls are stored as `<runId>:<item id>`, since Codex numbers items per turn
   * (`item_0` in every run of a thread). Default: none, so the item id alone.
   */
  runId?: string;
  /** The model the run asked for (Codex's events do not name it). */
  model?: string;
  /** The thread's usage before this run, when resuming a thread (from its resume point). */
  baseline?: TokenUsage;
  /** The run continues an existing thread. */
  resumed?: boolean;
}

/**
 * Turns `codex exec --experimental-json` events (as the SDK yields them) into canonical events,
 * each exactly once:
 *
 * - `thread.started` → `run_started { providerSessionId: thread_id, model?, resumed?, pid? }`
 *   (`model` only when the run named one: Codex's events never say which it used);
 * - `agent_message` → `message_received { role: "assistant", content, itemId }`. `codex exec`
 *   sends messages whole, with no deltas, so there is no `message_streamed` for answers;
 * - `reasoning` → `message_streamed { delta, stream: "thinking", itemId }`, as the Claude adapter
 *   reports thinking (never as the answer);
 * - tool items (`command_execution`, `file_change`, `mcp_tool_call`, `web_search`, `todo_list`,
 *   and types unknown to the SDK) → `tool_call_started` on `item.started` (or on the first
 *   update or the completion, for items Codex only reports completed, like `file_change`), then
 *   `tool_call_completed`, or `tool_call_failed` when the status is `failed`/`declined` or a
 *   command exited non-zero. `toolCallId` is `<runId>:<item id>` (Codex numbers items per turn,
 *   so `item_0` comes back in every run of a thread) and `nativeToolCallId` the item id; names
 *   are in `CODEX_TOOL_NAMES`;
 * - top-level `error` events and `error` items → `error_occurred { fatal: false }` with the code
 *   their text classifies as (`Reconnecting... 2/5 (… 401 …)` is an authentication warning):
 *   Codex reports retries, transport fallbacks and model warnings this way, and only a following
 *   `turn.failed` makes them a failure;
 * - `turn.completed.usage`, which Codex sums over the whole thread, → `token_usage_updated` with
 *   the increment since the last total seen (the `baseline` for a resumed thread), `cumulative`
 *   for the run, and `threadTotal`;
 * - `turn.failed` is kept for the adapter, which rejects with it.
 */
export class CodexEventMapper {
  readonly #sink: EventSink;
  readonly #usage: UsageTracker;
  readonly #options: CodexEventMapperOptions;
  #started = false;
  #threadId: string | undefined;
  #pid: number | undefined;
  #finalMessage: string | undefined;
  #turnCompleted = false;
  #turnFailure: string | undefined;
  #lastError: string | undefined;
  #threadTotal: TokenUsage | undefined;
  readonly #tools = new Map<string, string>();
  readonly #finished = new Set<string>();

  constructor(sink: EventSink, options: CodexEventMapperOptions = {}) {
    this.#sink = sink;
    this.#options = options;
    this.#usage = new UsageTracker(sink, options.baseline ? { baseline: options.baseline } : {});
  }

  get threadId(): string | undefined {
    return this.#threadId;
  }

  /** The text of the last agent message: the run's answer. */
  get finalMessage(): string | undefined {
    return this.#finalMessage;
  }

  get turnCompleted(): boolean {
    return this.#turnCompleted;
  }

  /** The message of `turn.failed`, when the turn failed. */
  get turnFailure(): string | undefined {
    return this.#turnFailure;
  }

  /** The last warning or error message Codex sent (for a failure without `turn.failed`). */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The run's own usage: the sum of the increments reported. */
  get usage(): TokenUsage {
    return this.#usage.total;
  }

  /** The thread's usage total Codex last reported in this run (the next run's baseline); undefined before any. */
  get threadTotal(): TokenUsage | undefined {
    return this.#threadTotal ? { ...this.#threadTotal } : undefined;
  }

  /** Codex's pid (its process group), for `run_started`. */
  setPid(pid: number): void {
    this.#pid = pid;
  }

  /** Emits an event, preceded by `run_started` if nothing was emitted yet. */
  emit(event: AdapterEvent): void {
    this.#ensureStarted();
    this.#sink.emit(event);
  }

  handle(event: CodexFrame): void {
    switch (event.type) {
      case "thread.started":
        this.#threadId = event.thread_id;
        this.#ensureStarted();
        return;
      case "turn.started":
        return;
      case "item.started":
      case "item.updated":
        this.#item(event.item, false);
        return;
      case "item.completed":
        this.#item(event.item, true);
        return;
      case "turn.completed":
        this.#turnCompleted = true;
        this.#ensureStarted();
        if (event.usage) {
          const total = codexTokenUsage(event.usage);
          this.#threadTotal = total;
          this.#usage.observeTotal(total, { threadTotal: total });
        }
        return;
      case "turn.failed":
        this.#turnFailure = event.error.message;
        return;
      case "error":
        this.#warning(event.message, { source: "stream" });
        return;
    }
  }

  #ensureStarted(): void {
    if (this.#started) return;
    this.#started = true;
    const { model, resumed } = this.#options;
    this.#sink.emit({
      type: "run_started",
      data: {
        ...(this.#threadId ? { providerSessionId: this.#threadId } : {}),
        ...(model ? { model } : {}),
        ...(resumed ? { resumed: true } : {}),
        ...(this.#pid !== undefined ? { pid: this.#pid } : {}),
      },
    });
  }

  #item(item: CodexItem, completed: boolean): void {
    if (CODEX_ITEMS.is(item, "agent_message")) {
      if (completed && !this.#finished.has(item.id)) {
        this.#finished.add(item.id);
        this.#finalMessage = item.text;
        this.emit({
          type: "message_received",
          data: { role: "assistant", content: item.text, itemId: item.id },
        });
      }
    } else if (CODEX_ITEMS.is(item, "reasoning")) {
      if (completed && !this.#finished.has(item.id) && item.text) {
        this.#finished.add(item.id);
        this.emit({
          type: "message_streamed",
          data: { delta: item.text, stream: "thinking", itemId: item.id },
        });
      }
    } else if (CODEX_ITEMS.is(item, "error")) {
      if (!this.#finished.has(item.id)) {
        this.#finished.add(item.id);
        this.#warning(item.message, { source: "item", itemId: item.id });
      }
    } else {
      this.#tool(item, completed);
    }
  }

  #tool(item: CodexItem, completed: boolean): void {
    if (this.#finished.has(item.id)) return;
    const ids = this.#toolCallIds(item.id);
    let name = this.#tools.get(item.id);
    if (name === undefined) {
      const start = toolStart(item);
      if (start === undefined) return;
      name = start.name;
      this.#tools.set(item.id, name);
      this.emit({
        type: "tool_call_started",
        data: { ...ids, toolName: name, toolInput: start.input, itemType: item.type },
      });
    }
    if (!completed) return;
    this.#finished.add(item.id);
    const end = toolEnd(item);
    if (end.failure !== undefined) {
      this.emit({
        type: "tool_call_failed",
        data: { ...ids, toolName: name, toolOutput: end.output, errorMessage: end.failure },
      });
    } else {
      this.emit({
        type: "tool_call_completed",
        data: { ...ids, toolName: name, toolOutput: end.output },
      });
    }
  }

  /** The stored id, unique in the session (`<runId>:<item id>`), and Codex's own. */
  #toolCallIds(itemId: string): { toolCallId: string; nativeToolCallId: string } {
    const { runId } = this.#options;
    return { toolCallId: runId === undefined ? itemId : `${runId}:${itemId}`, nativeToolCallId: itemId };
  }

  #warning(message: string, details: Record<string, unknown>): void {
    this.#lastError = message;
    const failure = providerFailure(PROVIDER, codexFailureFacts(message));
    const { status, retryAfterMs } = failure.details;
    const reconnect = RECONNECT.exec(message);
    this.emit({
      type: "error_occurred",
      data: {
        errorCode: failure.code,
        errorMessage: message,
        fatal: false,
        ...(failure.providerError ? { providerError: failure.providerError } : {}),
        details: {
          ...details,
          ...(status !== undefined ? { status } : {}),
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          ...(reconnect
            ? { reconnectAttempt: Number(reconnect[1]), maxReconnectAttempts: Number(reconnect[2]) }
            : {}),
        },
      },
    });
  }
}
