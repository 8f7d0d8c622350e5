import { z } from "zod";

/*
 * The frames of `amp --execute --stream-json` (one JSON object per line), as far as the adapter
 * reads them. Schemas are loose: Amp adds fields between releases, and only the named ones are
 * relied on. Shapes follow the Amp SDK's `types.d.ts` (@sourcegraph/amp-sdk 0.1.0) and the
 * stream-JSON section of the Amp manual; see the provider research notes, §4.2.
 */

/** Per-message usage, Anthropic style: the four buckets are disjoint. */
export const ampUsageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});
export type AmpUsage = z.infer<typeof ampUsageSchema>;

export const textBlockSchema = z.looseObject({ type: z.literal("text"), text: z.string() });
export const thinkingBlockSchema = z.looseObject({ type: z.literal("thinking"), thinking: z.string() });
export const toolUseBlockSchema = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
});
export const toolResultBlockSchema = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  /** A string in Amp; content blocks are accepted too. */
  content: z.unknown(),
  is_error: z.boolean().nullish(),
});

/** Blocks are checked one by one (see the mapper), so an unknown kind is skipped, not fatal. */
const blockSchema = z.looseObject({ type: z.string() });

const parent = z.string().nullish();

export const systemInitSchema = z.looseObject({
  type: z.literal("system"),
  subtype: z.literal("init"),
  /** The thread id, `T-<uuid>`. */
  session_id: z.string().min(1),
  cwd: z.string().optional(),
  tools: z.array(z.string()).optional(),
  mcp_servers: z.array(z.looseObject({ name: z.string(), status: z.string().optional() })).optional(),
});

export const assistantFrameSchema = z.looseObject({
  type: z.literal("assistant"),
  message: z.looseObject({
    id: z.string().nullish(),
    model: z.string().nullish(),
    content: z.array(blockSchema),
    stop_reason: z.string().nullish(),
    usage: ampUsageSchema.nullish(),
  }),
  parent_tool_use_id: parent,
  session_id: z.string().optional(),
});
export type AmpAssistantFrame = z.infer<typeof assistantFrameSchema>;

export const userFrameSchema = z.looseObject({
  type: z.literal("user"),
  message: z.looseObject({
    // The prompt echo may carry its text as a plain string.
    content: z.union([z.string(), z.array(blockSchema)]),
  }),
  parent_tool_use_id: parent,
});
export type AmpUserFrame = z.infer<typeof userFrameSchema>;

export const permissionDenialSchema = z.looseObject({
  tool_name: z.string().min(1),
  tool_use_id: z.string().nullish(),
  tool_input: z.unknown().optional(),
});
export type AmpPermissionDenial = z.infer<typeof permissionDenialSchema>;

export const resultFrameSchema = z.looseObject({
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
  usage: ampUsageSchema.nullish(),
  permission_denials: z.array(permissionDenialSchema).nullish(),
});
export type AmpResultFrame = z.infer<typeof resultFrameSchema>;

/** The frame schema for each `type` the adapter reads; other types are ignored. */
export const FRAME_SCHEMAS = {
  assistant: assistantFrameSchema,
  user: userFrameSchema,
  result: resultFrameSchema,
} as const;
