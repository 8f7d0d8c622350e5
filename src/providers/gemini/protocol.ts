import { z } from "zod";
import { type FrameOf, frameCheck } from "../shared/frame-check.js";

/*
 * The frames of `gemini -o stream-json` (one JSON object per line), as zod schemas of what the
 * adapter reads. Checked by the reader before the mapper sees them: a frame of the wrong shape or
 * an unknown type becomes a `parse_error` event. Objects are loose: the CLI adds fields between
 * releases. Shapes follow google-gemini/gemini-cli `packages/core/src/output/types.ts` and frames
 * captured from the 0.61.0 CLI against a loopback mock (see the Gemini/ACP spec note).
 */

/** Token counts of `result.stats` (and of each model in `stats.models`). */
const geminiTokenStats = z.looseObject({
  total_tokens: z.number().nullish(),
  /** Prompt tokens, cached ones included. */
  input_tokens: z.number().nullish(),
  /** Candidate tokens; thoughts are not in here (only in `total_tokens`). */
  output_tokens: z.number().nullish(),
  cached: z.number().nullish(),
  /** Prompt tokens not read from the cache. */
  input: z.number().nullish(),
});
export type GeminiTokenStats = z.output<typeof geminiTokenStats>;

const resultFrame = z.looseObject({
  type: z.literal("result"),
  /** `success` or `error`. */
  status: z.string(),
  error: z.looseObject({ type: z.string().nullish(), message: z.string().nullish() }).nullish(),
  stats: geminiTokenStats
    .extend({
      duration_ms: z.number().nullish(),
      tool_calls: z.number().nullish(),
      models: z.record(z.string(), geminiTokenStats).nullish(),
    })
    .nullish(),
});
export type GeminiResultFrame = z.output<typeof resultFrame>;

const GEMINI_FRAME_SCHEMAS = {
  init: z.looseObject({
    type: z.literal("init"),
    session_id: z.string().min(1),
    model: z.string().nullish(),
  }),
  message: z.looseObject({
    type: z.literal("message"),
    /** `user` (the prompt echoed) or `assistant` (always `delta: true` chunks). */
    role: z.string(),
    content: z.string(),
    delta: z.boolean().nullish(),
  }),
  tool_use: z.looseObject({
    type: z.literal("tool_use"),
    tool_name: z.string().min(1),
    /** `<name>__<callId>`. */
    tool_id: z.string().min(1),
    parameters: z.unknown().optional(),
  }),
  tool_result: z.looseObject({
    type: z.literal("tool_result"),
    tool_id: z.string().min(1),
    /** `success` or `error`. */
    status: z.string(),
    /** The display text, not what the model was given (`""` for read_file). */
    output: z.string().nullish(),
    error: z.looseObject({ type: z.string().nullish(), message: z.string().nullish() }).nullish(),
  }),
  /** Non-fatal: loop detection, blocked hooks, invalid or empty model responses. */
  error: z.looseObject({
    type: z.literal("error"),
    severity: z.string().nullish(),
    message: z.string(),
  }),
  result: resultFrame,
};

/** A frame the Gemini CLI prints, as checked by `GEMINI_FRAMES`. */
export type GeminiFrame = FrameOf<typeof GEMINI_FRAME_SCHEMAS>;

/** Checks one output object against the Gemini CLI's frames; any other `type` is `unknown_frame`. */
export const GEMINI_FRAMES = frameCheck(GEMINI_FRAME_SCHEMAS);
