import { z } from "zod";
import { parseWith } from "../core/validation.js";

/** Prices of one model in USD per million tokens, one rate per token bucket. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Tokens read from the prompt cache. Default: the `input` rate. */
  cacheRead?: number;
  /**
   * Tokens written to the prompt cache (Anthropic's 5-minute write rate; OpenAI charges input).
   * Default: the `input` rate.
   */
  cacheWrite?: number;
}

/** Model id (or id prefix) → price. */
export type PricingTable = Readonly<Record<string, ModelPrice>>;

const rate = z.number().nonnegative().finite();
const pricingTableSchema = z.record(
  z.string().min(1),
  z.strictObject({ input: rate, output: rate, cacheRead: rate.optional(), cacheWrite: rate.optional() }),
);

/**
 * Validates a caller's pricing table (`SessionManager({ pricing })`) and fills in the cache rates
 * it leaves out with the model's `input` rate, so pricing never meets an absent rate (which would
 * make a cost `NaN`). Every rate is a finite number ≥ 0, `input` and `output` are required.
 * Throws `validation_error` naming each bad entry.
 */
export function definePricingTable(table: unknown): PricingTable {
  const parsed = parseWith(pricingTableSchema, table, "pricing table", {
    hint: "give each model { input, output, cacheRead?, cacheWrite? } in USD per million tokens",
  });
  return Object.fromEntries(
    Object.entries(parsed).map(([model, price]) => [
      model,
      { ...price, cacheRead: price.cacheRead ?? price.input, cacheWrite: price.cacheWrite ?? price.input },
    ]),
  );
}

const anthropic = (input: number, output: number, cacheRead: number, cacheWrite: number): ModelPrice => ({
  input,
  output,
  cacheRead,
  cacheWrite,
});
// OpenAI (and Google, for implicit caching) bill cache writes as ordinary input.
const openai = (input: number, output: number, cacheRead: number): ModelPrice => ({
  input,
  output,
  cacheRead,
  cacheWrite: input,
});

/**
 * List prices as published by Anthropic, OpenAI and Google (Gemini: prompts up to 200K tokens), checked 2026-11-21 (standard tier, no batch
 * discount, no long-prompt or regional surcharges). Dated model ids resolve through the
 * longest-prefix rule (`claude-haiku-4-5-20251001` → `claude-haiku-4-5`). Prices change: pass
 * your own table to `SessionManager({ pricing })` rather than trusting this one for billing.
 */
export const DEFAULT_PRICING: PricingTable = {
  "claude-fable-5-1": anthropic(10, 50, 0.25, 12.5),
  "claude-fable-5": anthropic(10, 50, 1, 12.5),
  "claude-opus-5-5": anthropic(4, 20, 0.2, 5),
  "claude-opus-5": anthropic(5, 25, 0.5, 6.25),
  "claude-opus-4-8": anthropic(5, 25, 0.5, 6.25),
  "claude-opus-4-7": anthropic(5, 25, 0.5, 6.25),
  "claude-opus-4-6": anthropic(5, 25, 0.5, 6.25),
  "claude-opus-4-5": anthropic(5, 25, 0.5, 6.25),
  "claude-opus-4-1": anthropic(15, 75, 1.5, 18.75),
  "claude-opus-4": anthropic(15, 75, 1.5, 18.75),
  "claude-sonnet-5-5": anthropic(2, 10, 0.1, 2.5),
  "claude-sonnet-5": anthropic(2, 10, 0.2, 2.5),
  "claude-sonnet-4-6": anthropic(3, 15, 0.3, 3.75),
  "claude-sonnet-4-5": anthropic(3, 15, 0.3, 3.75),
  "claude-sonnet-4": anthropic(3, 15, 0.3, 3.75),
  "claude-3-7-sonnet": anthropic(3, 15, 0.3, 3.75),
  // Haiku 5.5 has a second, higher band for prompts over 100k tokens; usage totals cannot tell.
  "claude-haiku-5-5": anthropic(0.1, 0.5, 0.01, 0.125),
  "claude-haiku-4-5": anthropic(1, 5, 0.1, 1.25),
  "claude-3-5-haiku": anthropic(0.8, 4, 0.08, 1),

  "gpt-5.4": openai(2.5, 15, 0.25),
  "gpt-5.4-mini": openai(0.75, 4.5, 0.075),
  "gpt-5.1": openai(1.25, 10, 0.125),
  "gpt-5.1-codex": openai(1.25, 10, 0.125),
  "gpt-5": openai(1.25, 10, 0.125),
  "gpt-5-codex": openai(1.25, 10, 0.125),
  "gpt-5-mini": openai(0.25, 2, 0.025),
  "gpt-5-nano": openai(0.05, 0.4, 0.005),
  "gpt-4.1": openai(2, 8, 0.5),
  "gpt-4.1-mini": openai(0.4, 1.6, 0.1),
  "gpt-4o": openai(2.5, 10, 1.25),
  "gpt-4o-mini": openai(0.15, 0.6, 0.075),
  o3: openai(2, 8, 0.5),
  "o4-mini": openai(1.1, 4.4, 0.275),
  // Gemini's cached input is billed at a tenth of its input rate; thinking tokens as output.
  "gemini-2.5-pro": openai(1.25, 10, 0.125),
  "gemini-2.5-flash": openai(0.3, 2.5, 0.03),
  "gemini-2.5-flash-lite": openai(0.1, 0.4, 0.01),
};
