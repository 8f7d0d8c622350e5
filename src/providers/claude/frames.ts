import { z } from "zod";
import { type FrameOf, frameCheck, openUnion } from "../shared/frame-check.js";

/*
 * The frames of `claude --output-format stream-json` (one JSON object per line), as zod schemas
 * of what the adapter and the Agent SDK read from them. The adapter's line filter checks every
 * line against them before the SDK sees it (claude-adapter.ts), so a frame that would make the
 * SDK or the event mapper throw becomes a `parse_error` event instead. Shapes follow the SDK's
 * `sdk.d.ts` (`SDKMessage`) and its `Query.readMessages` (which reads control frames and the
 * result's `errors`); see the provider research notes, §2.3. Objects are loose: Claude Code adds
 * fields often, and only the ones read here are checked.
 */

/** Usage as the Anthropic API reports it, on messages and stream events (fields may be null). */
const apiUsage = z
  .looseObject({
    input_tokens: z.number().nullish(),
    output_tokens: z.number().nullish(),
    cache_read_input_tokens: z.number().nullish(),
    cache_creation_input_tokens: z.number().nullish(),
  })
  .nullish();
export type ClaudeApiUsage = z.output<typeof apiUsage>;

/** Set on the output of a subagent: the Task tool call it runs under. */
const parentToolUseId = z.string().nullish();
/** Every frame names the session; the user frames the SDK echoes may say `""`. */
const sessionId = z.string().nullish();

const toolUseBlock = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown().optional(),
});

/** Content blocks of an assistant message. Other kinds (images, search results, …) pass unchecked. */
export const ASSISTANT_BLOCKS = openUnion("type", {
  text: z.looseObject({ text: z.string() }),
  thinking: z.looseObject({ thinking: z.string() }),
  tool_use: toolUseBlock,
  server_tool_use: toolUseBlock,
  mcp_tool_use: toolUseBlock,
});

/** Content blocks of a user message: the tool results the mapper reads; others pass unchecked. */
export const USER_BLOCKS = openUnion("type", {
  tool_result: z.looseObject({
    tool_use_id: z.string().min(1),
    /** A string or content blocks. */
    content: z.unknown().optional(),
    is_error: z.boolean().nullish(),
  }),
});

/** `system` frames by subtype: the ones the mapper reads; any other subtype is informational. */
export const SYSTEM_FRAMES = openUnion(
  "subtype",
  {
    init: z.looseObject({
      session_id: z.string(),
      model: z.string().nullish(),
      cwd: z.string().nullish(),
      tools: z.array(z.unknown()).nullish(),
      permissionMode: z.string().nullish(),
      claude_code_version: z.string().nullish(),
    }),
    api_retry: z.looseObject({
      attempt: z.number(),
      max_retries: z.number(),
      retry_delay_ms: z.number(),
      error_status: z.number().nullish(),
      error: z.string().nullish(),
    }),
    permission_denied: z.looseObject({
      tool_name: z.string().min(1),
      tool_use_id: z.string().min(1),
      decision_reason: z.string().nullish(),
      decision_reason_type: z.string().nullish(),
      message: z.string().nullish(),
    }),
  },
  { shape: { type: z.literal("system"), session_id: sessionId } },
);

/** Deltas of `content_block_delta` stream events. */
export const STREAM_DELTAS = openUnion("type", {
  text_delta: z.looseObject({ text: z.string() }),
  thinking_delta: z.looseObject({ thinking: z.string() }),
});

/** The raw Anthropic streaming events inside `stream_event` frames. */
export const STREAM_EVENTS = openUnion("type", {
  message_start: z.looseObject({
    message: z.looseObject({ id: z.string().min(1), model: z.string().nullish(), usage: apiUsage }),
  }),
  content_block_delta: z.looseObject({ delta: STREAM_DELTAS.schema }),
  message_delta: z.looseObject({ usage: apiUsage }),
});

const permissionDenial = z.looseObject({
  tool_name: z.string().min(1),
  tool_use_id: z.string().min(1),
  tool_input: z.unknown().optional(),
});

/**
 * `result` frames by subtype: `success` carries the answer; the error subtypes
 * (`error_during_execution`, `error_max_turns`, …) carry `errors`, which the SDK reads as strings.
 */
export const RESULT_FRAMES = openUnion(
  "subtype",
  {
    success: z.looseObject({
      result: z.string(),
      structured_output: z.unknown().optional(),
      api_error_status: z.number().nullish(),
    }),
  },
  {
    shape: {
      type: z.literal("result"),
      /** Decides success, whatever the subtype: API failures come as `success` with `is_error`. */
      is_error: z.boolean(),
      session_id: sessionId,
      total_cost_usd: z.number().nullish(),
      duration_ms: z.number().nullish(),
      duration_api_ms: z.number().nullish(),
      num_turns: z.number().nullish(),
      stop_reason: z.string().nullish(),
      terminal_reason: z.string().nullish(),
      usage: apiUsage,
      permission_denials: z.array(permissionDenial).nullish(),
    },
    other: z.looseObject({ errors: z.array(z.string()) }),
  },
);
export type ClaudeResultFrame = z.output<typeof RESULT_FRAMES.schema>;

/** A frame checked for its type only: one the SDK consumes or the mapper does not read. */
function opaque<T extends string>(type: T) {
  return z.looseObject({ type: z.literal(type) });
}

const CLAUDE_FRAME_SCHEMAS = {
  system: SYSTEM_FRAMES.schema,
  assistant: z.looseObject({
    type: z.literal("assistant"),
    message: z.looseObject({
      id: z.string(),
      model: z.string().nullish(),
      content: z.array(ASSISTANT_BLOCKS.schema),
      usage: apiUsage,
    }),
    parent_tool_use_id: parentToolUseId,
    /** Set on the CLI's own "API Error: …" message (`authentication_failed`, `rate_limit`, …). */
    error: z.string().nullish(),
    /** On that message: the API's HTTP status, when it answered. */
    api_error_status: z.number().nullish(),
    /** On that message: the API's own error type (`authentication_error`, `api_error`, `overloaded_error`, …). */
    api_error_type: z.string().nullish(),
    /** On that message, when no answer came: what went wrong (`connection_failed`). */
    api_error: z.string().nullish(),
    session_id: sessionId,
  }),
  user: z.looseObject({
    type: z.literal("user"),
    message: z.looseObject({ content: z.union([z.string(), z.array(USER_BLOCKS.schema)]) }),
    parent_tool_use_id: parentToolUseId,
    /** Set on user messages the CLI replays from the session's history. */
    isReplay: z.boolean().nullish(),
    session_id: sessionId,
  }),
  stream_event: z.looseObject({
    type: z.literal("stream_event"),
    event: STREAM_EVENTS.schema,
    parent_tool_use_id: parentToolUseId,
    session_id: sessionId,
  }),
  result: RESULT_FRAMES.schema,
  // Read by the SDK itself: it answers requests, and matches responses by `response.request_id`.
  control_request: z.looseObject({
    type: z.literal("control_request"),
    request_id: z.string(),
    request: z.looseObject({ subtype: z.string() }),
  }),
  control_response: z.looseObject({
    type: z.literal("control_response"),
    response: z.looseObject({ request_id: z.string() }),
  }),
  control_cancel_request: opaque("control_cancel_request"),
  keep_alive: opaque("keep_alive"),
  transcript_mirror: opaque("transcript_mirror"),
  // Passed on by the SDK; nothing in them is mapped.
  tool_progress: opaque("tool_progress"),
  tool_use_summary: opaque("tool_use_summary"),
  auth_status: opaque("auth_status"),
  rate_limit_event: opaque("rate_limit_event"),
  prompt_suggestion: opaque("prompt_suggestion"),
  conversation_reset: opaque("conversation_reset"),
  active_goal: opaque("active_goal"),
  autocompact_state: opaque("autocompact_state"),
};

/** A frame Claude Code prints, as checked by `CLAUDE_FRAMES`. */
export type ClaudeFrame = FrameOf<typeof CLAUDE_FRAME_SCHEMAS>;

/** Checks one output object against Claude Code's frames; any other `type` is `unknown_frame`. */
export const CLAUDE_FRAMES = frameCheck(CLAUDE_FRAME_SCHEMAS);

/**
 * A message the SDK yielded, as the frame it was parsed from. Sound because the adapter's line
 * filter lets only frames `CLAUDE_FRAMES` accepts through to the SDK, which parses the same bytes
 * and passes them on (it adds only `system` frames of its own, which every subtype may be).
 */
export function checkedFrame(message: unknown): ClaudeFrame {
  return message as ClaudeFrame;
}
