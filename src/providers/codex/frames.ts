import { z } from "zod";
import { type FrameOf, frameCheck, openUnion } from "../shared/frame-check.js";

/*
 * The events of `codex exec --experimental-json` (one JSON object per line), as zod schemas of
 * what the adapter and the Codex SDK read from them. The guard (codex-guard.ts) checks every line
 * against them before the SDK sees it, so a frame that would make the SDK or the event mapper
 * throw becomes a `parse_error` event instead. The SDK itself reads one field: it sets
 * `turn.completed.usage.cache_write_input_tokens`, so `usage` must be an object. Shapes follow
 * codex-sdk 0.163.0 `dist/index.d.ts` and codex-rs `exec_events.rs`; see the provider research
 * notes, §3.3. Objects are loose: only the fields read here are checked.
 */

/** Token counts, summed over the thread; older CLIs send only the first three (openai/codex#19022). */
const usage = z.looseObject({
  input_tokens: z.number().nullish(),
  cached_input_tokens: z.number().nullish(),
  cache_write_input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  reasoning_output_tokens: z.number().nullish(),
});
export type CodexUsage = z.output<typeof usage>;

/**
 * Thread items by type. Every item has an `id` and a `type`; item types not listed (the CLI is
 * ahead of the SDK, e.g. `collab_tool_call`) pass unchecked and are reported as tools.
 */
export const CODEX_ITEMS = openUnion(
  "type",
  {
    agent_message: z.looseObject({ text: z.string() }),
    reasoning: z.looseObject({ text: z.string() }),
    command_execution: z.looseObject({
      command: z.string(),
      aggregated_output: z.string().nullish(),
      /** Literally `null` while the command runs. */
      exit_code: z.number().nullish(),
      status: z.string().nullish(),
    }),
    file_change: z.looseObject({ changes: z.array(z.unknown()), status: z.string().nullish() }),
    mcp_tool_call: z.looseObject({
      server: z.string(),
      tool: z.string(),
      arguments: z.unknown().optional(),
      result: z
        .looseObject({ content: z.unknown().optional(), structured_content: z.unknown().optional() })
        .nullish(),
      error: z.looseObject({ message: z.string() }).nullish(),
      status: z.string().nullish(),
    }),
    web_search: z.looseObject({ query: z.string().nullish() }),
    todo_list: z.looseObject({ items: z.array(z.unknown()) }),
    error: z.looseObject({ message: z.string() }),
  },
  { shape: { id: z.string().min(1) } },
);
export type CodexItem = z.output<typeof CODEX_ITEMS.schema>;

function itemEvent<T extends string>(type: T) {
  return z.looseObject({ type: z.literal(type), item: CODEX_ITEMS.schema });
}

const CODEX_FRAME_SCHEMAS = {
  "thread.started": z.looseObject({ type: z.literal("thread.started"), thread_id: z.string().min(1) }),
  "turn.started": z.looseObject({ type: z.literal("turn.started") }),
  "item.started": itemEvent("item.started"),
  "item.updated": itemEvent("item.updated"),
  "item.completed": itemEvent("item.completed"),
  "turn.completed": z.looseObject({ type: z.literal("turn.completed"), usage }),
  "turn.failed": z.looseObject({
    type: z.literal("turn.failed"),
    error: z.looseObject({ message: z.string() }),
  }),
  /** A top-level warning or error (retries, transport fallbacks); fatal only before `turn.failed`. */
  error: z.looseObject({ type: z.literal("error"), message: z.string() }),
};

/** An event Codex prints, as checked by `CODEX_FRAMES`. */
export type CodexFrame = FrameOf<typeof CODEX_FRAME_SCHEMAS>;

/** Checks one output object against Codex's events; any other `type` is `unknown_frame`. */
export const CODEX_FRAMES = frameCheck(CODEX_FRAME_SCHEMAS);

/**
 * An event the SDK yielded, as the frame it was parsed from. Sound because the guard lets only
 * frames `CODEX_FRAMES` accepts (and its own frames, which the adapter takes out first) through
 * to the SDK, which yields each line as parsed (filling in `usage.cache_write_input_tokens`).
 */
export function checkedFrame(event: unknown): CodexFrame {
  return event as CodexFrame;
}
