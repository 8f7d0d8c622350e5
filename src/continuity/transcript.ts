import type { AsmEvent } from "../core/events.js";

/** Who said a transcript message. `tool` entries are tool calls with their results. */
export type TranscriptRole = "user" | "assistant" | "system" | "tool";

/** A tool call as the transcript keeps it: the start paired with its end by `toolCallId`. */
export interface TranscriptToolCall {
  id: string;
  name: string;
  input: Readonly<Record<string, unknown>>;
  /**
   * `completed` / `failed` from the call's end event; `awaiting_approval` when a policy paused it
   * for a person; `open` when the log holds no end (the run is still going, or was cut short).
   */
  status: "completed" | "failed" | "awaiting_approval" | "open";
  /** The result as text (a non-string result as JSON), cut to `maxToolOutputChars`. */
  output?: string;
}

/** One message of a transcript, in log order. */
export interface TranscriptMessage {
  role: TranscriptRole;
  /** The text; for a tool entry, its result text (empty while none). */
  content: string;
  /** Present on `tool` entries. */
  toolCall?: TranscriptToolCall;
  /** The run the message belongs to, and the provider that ran it, when the event says so. */
  runId?: string;
  provider?: string;
  /** Sequence of the event that began the message (a stream's first delta, a tool call's start). */
  sequence: number;
  timestamp: string;
  /** True for assistant text that was streamed but never closed by a full message (a cut run). */
  partial?: boolean;
}

/** The runs a transcript covers, in the order they first appear. */
export interface TranscriptRun {
  runId: string;
  provider?: string;
  /** Messages of the run kept after truncation. */
  messages: number;
}

export interface TranscriptOptions {
  /** Keep at most this many messages (newest turns first). Default: no limit. */
  maxMessages?: number;
  /** Keep at most this many characters (the length of `messageText` of each kept message). Default: no limit. */
  maxChars?: number;
  /**
   * Keep at most about this many tokens, counted with `countTokens`. All three limits apply
   * together: a turn is kept only when it fits every one. Default: no limit.
   */
  maxTokensApprox?: number;
  /**
   * Counts the tokens of a message's text (`messageText`). Default `approxTokens`: one token per
   * 4 characters, rounded up — near the Claude and OpenAI tokenizers on English prose and code,
   * but it can undercount dense non-Latin text or long digit runs by 2× or more: pass a real
   * tokenizer when the budget is tight.
   */
  countTokens?: (text: string) => number;
  /** A tool result longer than this is cut (with a marker) when folded. Default 2,000. */
  maxToolOutputChars?: number;
  /** Leave out this run's events (the run about to use the transcript). Default: none. */
  excludeRunId?: string;
}

/** A session's conversation rebuilt from its log. */
export interface Transcript {
  /** Oldest first; only whole turns (a user message and what followed it), newest kept. */
  messages: TranscriptMessage[];
  runs: TranscriptRun[];
  /** Characters and estimated tokens of the kept messages. */
  chars: number;
  approxTokens: number;
  /** Messages left out by the limits (older turns). */
  droppedMessages: number;
  /** The highest sequence folded in: where an incremental update goes on from. */
  cursor: number;
}

/** Default cap of one tool result's text. */
export const DEFAULT_MAX_TOOL_OUTPUT_CHARS = 2_000;

/** The result text of a tool call a policy paused for a person's approval. */
const AWAITING_APPROVAL = "[execution paused: awaiting human approval]";

/** Characters per token of the default estimate. */
export const CHARS_PER_TOKEN = 4;

/** The default token estimate: `ceil(chars / 4)`. */
export function approxTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/**
 * The text a message stands for, as counted by the limits and written by the replay format: the
 * content, and for a tool entry its name, input (JSON) and result.
 */
export function messageText(message: TranscriptMessage): string {
  const call = message.toolCall;
  if (!call) return message.content;
  return `${call.name} ${JSON.stringify(call.input)} ${call.output ?? ""}`;
}

/**
 * Folds a session's events into messages, one event at a time, in sequence order; keeps what an
 * unfinished stream or tool call needs so later events can be added without starting over.
 *
 * Rules: `message_sent` → a message of its role; `message_streamed` deltas (not `thinking`) of a
 * run gather into one pending assistant message, which the run's next `message_received`
 * (assistant) replaces with its own content (or keeps, when that content is empty) — the
 * providers send the whole text again there — and any other message of the run, or the run's
 * end, closes as `partial`; `tool_call_started` → a `tool` entry, completed in place by the
 * `tool_call_completed` / `tool_call_failed` with the same `toolCallId` (or marked by a
 * `tool_approval_requested`); empty texts are dropped.
 */
export class TranscriptFolder {
  /** Every message so far, oldest first (pending ones are completed in place by later events). */
  readonly messages: TranscriptMessage[] = [];
  #cursor = 0;
  readonly #pending = new Map<string, TranscriptMessage>();
  /** Tool entries whose call has not ended, by `toolCallId`. */
  readonly #openTools = new Map<string, TranscriptMessage & { toolCall: TranscriptToolCall }>();
  readonly #maxToolOutputChars: number;
  readonly #excludeRunId: string | undefined;

  constructor(options: Pick<TranscriptOptions, "maxToolOutputChars" | "excludeRunId"> = {}) {
    this.#maxToolOutputChars = options.maxToolOutputChars ?? DEFAULT_MAX_TOOL_OUTPUT_CHARS;
    this.#excludeRunId = options.excludeRunId;
  }

  /** The highest sequence folded in (0 before any). */
  get cursor(): number {
    return this.#cursor;
  }

  /** Adds one event; events at or below the cursor are ignored (already folded). */
  add(event: AsmEvent): void {
    if (event.sequence <= this.#cursor) return;
    this.#cursor = event.sequence;
    if (event.runId !== undefined && event.runId === this.#excludeRunId) return;
    const runKey = event.runId ?? "";
    switch (event.type) {
      case "message_sent":
        this.#closePending(runKey);
        this.#push(event, event.data.role, event.data.content);
        return;
      case "message_streamed": {
        if (event.data.stream === "thinking" || event.data.delta.length === 0) return;
        const pending = this.#pending.get(runKey);
        if (pending) {
          pending.content += event.data.delta;
          return;
        }
        const started = this.#message(event, "assistant", event.data.delta);
        this.#pending.set(runKey, started);
        this.messages.push(started);
        return;
      }
      case "message_received": {
        const pending = this.#pending.get(runKey);
        this.#pending.delete(runKey);
        if (pending && event.data.role === "assistant") {
          if (event.data.content.length > 0) pending.content = event.data.content;
          return;
        }
        if (pending) pending.partial = true;
        this.#push(event, event.data.role, event.data.content);
        return;
      }
      case "tool_call_started": {
        this.#closePending(runKey);
        const call: TranscriptToolCall = {
          id: event.data.toolCallId,
          name: event.data.toolName,
          input: event.data.toolInput,
          status: "open",
        };
        const entry = { ...this.#message(event, "tool", ""), toolCall: call };
        this.#openTools.set(call.id, entry);
        this.messages.push(entry);
        return;
      }
      case "tool_call_completed":
      case "tool_call_failed": {
        const entry = this.#openTools.get(event.data.toolCallId);
        if (!entry) return;
        this.#openTools.delete(entry.toolCall.id);
        const call = entry.toolCall;
        call.status = event.type === "tool_call_completed" ? "completed" : "failed";
        const output =
          event.data.toolOutput !== undefined
            ? textOf(event.data.toolOutput)
            : event.type === "tool_call_failed"
              ? (event.data.errorMessage ?? "")
              : "";
        call.output = this.#cut(output);
        entry.content = call.output;
        return;
      }
      case "tool_approval_requested": {
        const entry = event.data.toolCallId ? this.#openTools.get(event.data.toolCallId) : undefined;
        if (entry) {
          entry.toolCall.status = "awaiting_approval";
          entry.toolCall.output = AWAITING_APPROVAL;
          entry.content = AWAITING_APPROVAL;
        }
        return;
      }
      case "run_completed":
      case "run_failed":
      case "run_cancelled":
      case "run_timeout":
        this.#closePending(runKey);
        return;
      default:
        return;
    }
  }

  #closePending(runKey: string): void {
    const pending = this.#pending.get(runKey);
    if (!pending) return;
    pending.partial = true;
    this.#pending.delete(runKey);
  }

  #push(event: AsmEvent, role: TranscriptRole, content: string): void {
    if (content.trim().length === 0) return;
    this.messages.push(this.#message(event, role, content));
  }

  #message(event: AsmEvent, role: TranscriptRole, content: string): TranscriptMessage {
    return {
      role,
      content,
      ...(event.runId !== undefined ? { runId: event.runId } : {}),
      ...(event.provider !== undefined ? { provider: event.provider } : {}),
      sequence: event.sequence,
      timestamp: event.timestamp,
    };
  }

  #cut(text: string): string {
    if (text.length <= this.#maxToolOutputChars) return text;
    const dropped = text.length - this.#maxToolOutputChars;
    return `${text.slice(0, this.#maxToolOutputChars)}[… ${dropped} characters cut]`;
  }
}

function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return String(value);
  }
}

/**
 * The newest whole turns of `messages` that fit every limit. A turn is a user message and what
 * followed it up to the next user message (messages before the first user message form a turn
 * of their own). Turns are taken newest first and the first one that does not fit ends the
 * transcript, so what is kept is always a contiguous, most recent part of the conversation.
 */
export function truncateTranscript(
  messages: readonly TranscriptMessage[],
  options: TranscriptOptions = {},
): Transcript {
  const count = options.countTokens ?? approxTokens;
  const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
  const maxChars = options.maxChars ?? Number.POSITIVE_INFINITY;
  const maxTokens = options.maxTokensApprox ?? Number.POSITIVE_INFINITY;
  let kept = messages.length;
  let chars = 0;
  let tokens = 0;
  let end = messages.length;
  while (end > 0) {
    let start = end - 1;
    while (start > 0 && messages[start]?.role !== "user") start -= 1;
    let turnChars = 0;
    let turnTokens = 0;
    for (let index = start; index < end; index += 1) {
      const text = messageText(messages[index] as TranscriptMessage);
      turnChars += text.length;
      turnTokens += count(text);
    }
    if (
      messages.length - start > maxMessages ||
      chars + turnChars > maxChars ||
      tokens + turnTokens > maxTokens
    ) {
      break;
    }
    chars += turnChars;
    tokens += turnTokens;
    kept = start;
    end = start;
  }
  // Copies: the folder completes its pending messages in place as later events arrive.
  const selected = messages
    .slice(kept)
    .map((message) =>
      message.toolCall ? { ...message, toolCall: { ...message.toolCall } } : { ...message },
    );
  const runs = new Map<string, TranscriptRun>();
  for (const message of selected) {
    if (message.runId === undefined) continue;
    const run = runs.get(message.runId);
    if (run) run.messages += 1;
    else
      runs.set(message.runId, {
        runId: message.runId,
        ...(message.provider !== undefined ? { provider: message.provider } : {}),
        messages: 1,
      });
  }
  return {
    messages: selected,
    runs: [...runs.values()],
    chars,
    approxTokens: tokens,
    droppedMessages: kept,
    cursor: 0,
  };
}

/**
 * A session's transcript from its events (any order: they are folded by sequence), cut to the
 * limits keeping the newest whole turns. See `TranscriptFolder` for how events become messages
 * and `TranscriptOptions` for the limits and the token estimate.
 */
export function buildTranscript(events: readonly AsmEvent[], options: TranscriptOptions = {}): Transcript {
  const folder = new TranscriptFolder(options);
  for (const event of [...events].sort((a, b) => a.sequence - b.sequence)) folder.add(event);
  return { ...truncateTranscript(folder.messages, options), cursor: folder.cursor };
}
