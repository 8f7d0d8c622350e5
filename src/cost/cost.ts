import type { TokenUsage } from "../core/token-usage.js";
import { DEFAULT_PRICING, type ModelPrice, type PricingTable } from "./pricing-table.js";

/**
 * The price of `model`: its exact entry, else the longest entry that is a prefix of it ending at
 * a `-` boundary (so dated ids such as `claude-sonnet-4-5-20250929` find `claude-sonnet-4-5`,
 * while `gpt-5.6-sol` does not silently borrow `gpt-5`'s price). `undefined` when none fits.
 */
export function priceFor(model: string, table: PricingTable = DEFAULT_PRICING): ModelPrice | undefined {
  const exact = table[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (model.startsWith(`${key}-`) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

/** USD for `usage` at `price`. `reasoningTokens` are part of `outputTokens`, so not added again. */
export function costOf(usage: TokenUsage, price: ModelPrice): number {
  const perMillion =
    usage.inputTokens * price.input +
    usage.outputTokens * price.output +
    (usage.cacheReadTokens ?? 0) * price.cacheRead +
    (usage.cacheWriteTokens ?? 0) * price.cacheWrite;
  return perMillion / 1_000_000;
}

export type RunCost = { costUsd: number; warning?: undefined } | { costUsd: null; warning: string };

/**
 * What a run cost: the provider's own figure when it reported one, else the tokens priced by
 * the model's entry. No tokens cost nothing; tokens of an unknown (or unnamed) model have an
 * unknown cost — `null` with a warning, never a guessed default price.
 */
export function runCost(input: {
  usage: TokenUsage;
  model?: string | undefined;
  reportedCostUsd?: number | undefined;
  table?: PricingTable | undefined;
}): RunCost {
  if (input.reportedCostUsd !== undefined) return { costUsd: input.reportedCostUsd };
  const { usage } = input;
  const tokens =
    usage.inputTokens + usage.outputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0);
  if (tokens === 0) return { costUsd: 0 };
  if (!input.model)
    return { costUsd: null, warning: "the provider did not name the model, so its tokens have no price" };
  const price = priceFor(input.model, input.table);
  if (!price) {
    return {
      costUsd: null,
      warning: `no price for model "${input.model}"; pass a pricing table to SessionManager`,
    };
  }
  return { costUsd: costOf(usage, price) };
}
