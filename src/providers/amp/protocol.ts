import { z } from "zod";
import { type FrameOf, frameCheck, openUnion } from "../shared/frame-check.js";

/*
 * The frames of `amp --execute --stream-json` (one JSON object per line), as zod schemas of what
 * the adapter reads from them. The adapter's reader checks every line against them before the
 * mapper sees it, so a frame of the wrong shape or of an unknown type becomes a `parse_error`
 * event instead. Objects are loose: Amp adds fields between releases, and only the named ones
 * are relied on. Shapes follow the Amp SDK's `types.d.ts` (@sourcegraph/amp-sdk 0.1.0) and the
 * stream-JSON section of the Amp manual; see the provider research notes, §4.2.
 */

/** Per-message usage, Anthropic style: the four buckets are disjoint. */
const ampUsage = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});
export type AmpUsage = z.output<typeof ampUsage>;

/** Content blocks of an assistant message; other kinds pass unchecked. */
export const ASSISTANT_BLOCKS = openUnion("type", {
  text: z.looseObject({ text: z.string() }),
  /** With `--stream-json-thinking`. */
  thinking: z.looseObject({ thinking: z.string() }),
  tool_use: z.looseObject({ id: z.string().min(1), name: z.string().min(1), input: z.unknown().optional() }),
});

/** Content blocks of a user message: tool results; others (the prompt's text) pass unchecked. */
export const USER_BLOCKS = openUnion("type", {
  tool_result: z.looseObject({
    tool_use_id: z.string().min(1),
    /** A string in Amp; content blocks are accepted too. */
    content: z.unknown().optional(),
    is_error: z.boolean().nullish(),
  }),
});

const parentToolUseId = z.string().nullish();

/** `system` frames by subtype: `init` names the thread; other subtypes are informational. */
export const SYSTEM_FRAMES = openUnion(
  "subtype",
  {
    init: z.looseObject({
      /** The thread id, `T-<uuid>`. */
      session_id: z.string().min(1),
      cwd: z.string().optional(),
      tools: z.array(z.string()).optional(),
      mcp_servers: z.array(z.looseObject({ name: z.string(), status: z.string().optional() })).optional(),
    }),
  },
  { shape: { type: z.literal("system") } },
);

const permissionDenial = z.looseObject({
  tool_name: z.string().min(1),
  tool_use_id: z.string().nullish(),
  tool_input: z.unknown().optional(),
});
export type AmpPermissionDenial = z.output<typeof permissionDenial>;

const resultFrame = z.looseObject({
  type: z.literal("result"),
  /** `success`, `error_during_execution`, `error_max_turns`. */
  subtype: z.string(),
  /** When absent, an error is told by the subtype. */
  is_error: z.boolean().optional(),
  /** The final answer (success). */
  result: z.string().nullish(),
  /** What went wrong (error subtypes): a string, unlike Claude Code's `errors[]`. */
  error: z.string().nullish(),
  duration_ms: z.number().nullish(),
  num_turns: z.number().nullish(),
  session_id: z.string().nullish(),
  usage: ampUsage.nullish(),
  permission_denials: z.array(permissionDenial).nullish(),
});
export type AmpResultFrame = z.output<typeof resultFrame>;

const AMP_FRAME_SCHEMAS = {
  system: SYSTEM_FRAMES.schema,
  assistant: z.looseObject({
    type: z.literal("assistant"),
    message: z.looseObject({
      id: z.string().nullish(),
      model: z.string().nullish(),
      content: z.array(ASSISTANT_BLOCKS.schema),
      stop_reason: z.string().nullish(),
      usage: ampUsage.nullish(),
    }),
    parent_tool_use_id: parentToolUseId,
    session_id: z.string().optional(),
  }),
  user: z.looseObject({
    type: z.literal("user"),
    message: z.looseObject({
      // The prompt echo may carry its text as a plain string.
      content: z.union([z.string(), z.array(USER_BLOCKS.schema)]),
    }),
    parent_tool_use_id: parentToolUseId,
  }),
  result: resultFrame,
};

/** A frame Amp prints, as checked by `AMP_FRAMES`. */
export type AmpFrame = FrameOf<typeof AMP_FRAME_SCHEMAS>;

/** Checks one output object against Amp's frames; any other `type` is `unknown_frame`. */
export const AMP_FRAMES = frameCheck(AMP_FRAME_SCHEMAS);
